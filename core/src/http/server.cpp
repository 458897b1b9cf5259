#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <sys/socket.h>

#include <tchat/core/http/server.hpp>
#include <tchat/core/http/websocket.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/worker.hpp>

#include "request_id.hpp"
#include "request_parser.hpp"
#include "response_head.hpp"
#include "server_state.hpp"

namespace tchat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

using Clock = std::chrono::steady_clock;

// How long a closing connection keeps reading (and discarding) what the client
// still sends, so that our last response is not lost to a reset.
constexpr std::chrono::milliseconds kLingerTime{2000};

}  // namespace

Server::Server(ServerOptions options, const Router& router, Authenticator authenticator,
               std::vector<Worker*> workers)
    : state_(std::make_unique<State>(std::move(options), router, std::move(authenticator))) {
  for (Worker* w : workers) {
    auto pw = std::make_unique<State::PerWorker>();
    pw->worker = w;
    state_->workers.push_back(std::move(pw));
  }
}

Server::~Server() = default;

Status Server::Listen() {
  auto& st = *state_;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(st.opts.address, ec);
  if (ec) return Error::InvalidArgument("bad listen address " + st.opts.address);
  std::uint16_t port = st.opts.port;
  if (port != 0) {
    // SO_REUSEPORT would let us share the port with another process that holds it
    // (a second copy of this service, say) and silently split its traffic: a
    // plain bind first tells whether anyone is listening there.
    tcp::acceptor probe(st.workers.front()->worker->io());
    tcp::endpoint ep(address, port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) {
      return Error::Unavailable("cannot bind " + st.opts.address + ":" + std::to_string(port) +
                                ": " + ec.message());
    }
  }
  for (auto& w : st.workers) {
    tcp::acceptor acc(w->worker->io());
    tcp::endpoint ep(address, port);
    acc.open(ep.protocol(), ec);
    if (ec) return Error::Unavailable("socket: " + ec.message());
    acc.set_option(asio::socket_base::reuse_address(true), ec);
    int one = 1;
    if (::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return Error::Unavailable("SO_REUSEPORT not supported");
    }
    acc.bind(ep, ec);
    if (ec) {
      return Error::Unavailable("cannot bind " + st.opts.address + ":" + std::to_string(port) +
                                ": " + ec.message());
    }
    acc.listen(4096, ec);
    if (ec) return Error::Unavailable("listen: " + ec.message());
    port = acc.local_endpoint().port();
    w->acceptor.emplace(std::move(acc));
  }
  st.port = port;
  return Ok();
}

std::uint16_t Server::port() const {
  return state_->port;
}

void Server::Start() {
  state_->header_body_limit = state_->HeaderBodyLimit();
  for (auto& w : state_->workers) {
    asio::co_spawn(w->worker->io(), state_->AcceptLoop(*w), asio::detached);
  }
}

void Server::Shutdown() {
  auto& st = *state_;
  if (st.stopping.exchange(true)) return;
  for (auto& wp : st.workers) {
    State::PerWorker* w = wp.get();
    asio::post(w->worker->io(), [w] {
      boost::system::error_code ec;
      if (w->acceptor) w->acceptor->close(ec);
      for (Conn* c : w->conns) {
        if (c->ws != nullptr) {
          WebSocket* ws = c->ws;
          asio::co_spawn(w->worker->io(), ws->Close(1001, "server shutting down"), asio::detached);
        } else if (!c->busy && c->socket != nullptr) {
          c->socket->cancel(ec);
        }
      }
    });
  }
}

std::size_t Server::active_connections() const {
  return state_->active.load();
}

asio::awaitable<void> Server::State::AcceptLoop(PerWorker& w) {
  asio::steady_timer backoff(w.worker->io());
  while (!stopping.load()) {
    auto [ec, socket] = co_await w.acceptor->async_accept(kTuple);
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted) break;
      // Out of descriptors or similar: back off instead of spinning.
      log::Warn("accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(w.worker->io(), Session(w, std::move(socket)), asio::detached);
  }
}

bool Server::State::Authenticate(Request& req, const Route& route, Response& denied) {
  if (!route.options.authenticated) return true;
  std::string_view header = req.Header("authorization");
  std::string token;
  if (header.size() > 7 && (header.substr(0, 7) == "Bearer " || header.substr(0, 7) == "bearer ")) {
    token = std::string(header.substr(7));
  } else if (route.ws_handler) {
    if (auto q = req.Query("access_token")) token = std::move(*q);
  }
  if (token.empty()) {
    denied = Response::FromError(Error::Unauthenticated("missing bearer token"));
    return false;
  }
  if (!authenticator) {
    denied = Response::FromError(Error::Unauthenticated("token verification is not configured"));
    return false;
  }
  auto r = authenticator(token);
  if (!r) {
    denied = Response::FromError(r.error());
    return false;
  }
  req.auth = std::move(*r);
  return true;
}

bool Server::State::Admit(Request& req, const RouteMatch& match, Response& res) {
  if (match.route == nullptr) {
    if (match.method_not_allowed) {
      res =
          Response::FromError(Error(ErrorCode::kMethodNotAllowed,
                                    std::string(MethodName(req.method)) + " is not allowed here"));
      res.headers.emplace_back("Allow", match.allow);
      return false;
    }
    res = Response::FromError(Error::NotFound(
        "no route for " + std::string(MethodName(req.method)) + " " + std::string(req.path())));
    return false;
  }
  if (!Authenticate(req, *match.route, res)) return false;
  if (!match.route->handler) {
    res = Response::FromError(Error::InvalidArgument("this endpoint needs a WebSocket upgrade"));
    return false;
  }
  return true;
}

namespace {

// Gets a connection's Request and Response ready for its next request, keeping
// their buffers' capacity unless a large body would stay pinned to an idle
// connection.
void Recycle(Request& req, Response& res) {
  constexpr std::size_t kKeep = 16 * 1024;
  req.method = Method::kOther;
  req.target.clear();
  if (req.body.capacity() > kKeep) {
    std::string().swap(req.body);
  } else {
    req.body.clear();
  }
  req.headers.clear();
  req.request_id.clear();
  req.auth.reset();
  req.path_params.clear();
  req.body_sink.reset();
  if (res.body.capacity() > kKeep) {
    std::string().swap(res.body);
  } else {
    res.body.clear();
  }
  res.headers.clear();
}

// The metric series of the last request on a connection, which the next one
// usually shares.
struct LastSeries {
  SeriesKey key{nullptr, Method::kOther, 0};
  Series* series = nullptr;
};

// What one read asks for at most (Beast's own choice for its read algorithms).
constexpr std::size_t kMaxRead = 65536;

// Whether the unparsed part of a header holds a line feed without its carriage
// return. Beast refuses one at once when the header arrives whole, but while
// waiting for more it only looks for CRLF CRLF, which a bare-LF header never
// sends: the client would wait for the header timeout instead of a 400.
bool HasBareLineFeed(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  const std::string_view text(static_cast<const char*>(data.data()), data.size());
  for (std::size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    if (i == 0 || text[i - 1] != '\r') return true;
  }
  return false;
}

// Feeds what `buffer` holds to the parser until the header (or, with
// whole_message, the whole request) is complete. need_more: read and call again.
boost::system::error_code ParseBuffered(RequestParser& parser, beast::flat_buffer& buffer,
                                        bool whole_message) {
  for (;;) {
    if (whole_message ? parser.is_done() : parser.is_header_done()) return {};
    if (buffer.size() == 0) return bhttp::error::need_more;
    boost::system::error_code ec;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec && ec != bhttp::error::need_more) return ec;
    if (ec || used == 0) {
      if (!parser.is_header_done() && HasBareLineFeed(buffer)) {
        return bhttp::error::bad_line_ending;
      }
      return bhttp::error::need_more;
    }
  }
}

// A failed read as Beast's read algorithms report it: end of stream before a
// request started, partial message within one, else the socket's error.
boost::system::error_code ReadFailure(const RequestParser& parser,
                                      const boost::system::error_code& ec) {
  if (ec != asio::error::eof) return ec;
  return parser.got_some() ? bhttp::error::partial_message : bhttp::error::end_of_stream;
}

std::string_view ContinueLine(unsigned version) {
  return version == 10 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n";
}

// The next read's room in `buffer`.
beast::flat_buffer::mutable_buffers_type ReadSpace(beast::flat_buffer& buffer) {
  return buffer.prepare(beast::read_size(buffer, kMaxRead));
}

// Every X-Forwarded-For header of the request as one list: a client that sends
// the header twice must not hide the hops a proxy appended to one of them.
std::string ForwardedFor(const Request& req) {
  std::string all;
  for (const auto& [name, value] : req.headers) {
    if (name != "x-forwarded-for") continue;
    if (!all.empty()) all += ',';
    all += value;
  }
  return all;
}

// Fills in what the server knows of a request before it is routed: the worker,
// the request id (the client's when it is sane) and the client's address.
void StampRequest(Request& req, Worker* worker, const std::string& peer_ip,
                  const TrustedProxies& trusted) {
  req.worker = worker;
  std::string_view rid = req.Header("x-request-id");
  if (SaneRequestId(rid)) {
    req.request_id.assign(rid);
  } else {
    NewRequestId(req.request_id);
  }
  req.remote_ip = ClientAddress(peer_ip, ForwardedFor(req), req.Header("x-real-ip"), trusted);
  req.client_key = AddressLimitKey(req.remote_ip);
}

Response HandlerThrew(const Request& req, const Route& route, const std::exception& e) {
  log::Error("handler threw",
             {{"request_id", req.request_id}, {"route", route.pattern}, {"error", e.what()}});
  return Response::FromError(Error::Internal("internal error"));
}

Response BodyTooLarge(std::size_t max_body_bytes) {
  return Response::FromError(
      Error::PayloadTooLarge("request body exceeds " + std::to_string(max_body_bytes) + " bytes"));
}

// The answer to a request that could not be read, when it gets one: 413 for a
// body or a header over the limit, 400 for a malformed request (its header, or
// the chunked encoding of its body); none when the client closed or the
// connection failed.
std::optional<Response> ReadRefusal(const boost::system::error_code& ec,
                                    std::size_t max_body_bytes) {
  if (ec == bhttp::error::body_limit) return BodyTooLarge(max_body_bytes);
  if (ec == bhttp::error::header_limit) {
    return Response::FromError(Error(ErrorCode::kPayloadTooLarge, "request headers too large"));
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return Response::FromError(Error::InvalidArgument("malformed HTTP request"));
  }
  return std::nullopt;
}

}  // namespace

// The parts of one HTTP connection that outlive its requests: its registration
// with the worker (for Shutdown) and the server's counters, its socket and
// deadline, the read buffer, and the Request, Response and response head
// recycled between keep-alive requests so that their buffers are allocated once.
// Lives in the session's coroutine frame.
struct Server::State::HttpConn {
  State& st;
  PerWorker& w;
  Conn conn;
  std::string peer_ip;
  std::shared_ptr<ConnIo> io;
  beast::flat_buffer buffer;
  Request req;
  Response res;
  std::string head;
  LastSeries last_series;
  Clock::time_point finished = Clock::now();  // when the previous request was answered
  bool first = true;

  HttpConn(State& s, PerWorker& pw, tcp::socket socket)
      : st(s),
        w(pw),
        peer_ip(PeerIp(socket)),
        io(std::make_shared<ConnIo>(std::move(socket), RecheckEvery(s.opts))) {
    w.conns.insert(&conn);
    st.active.fetch_add(1);
    st.open_connections.Inc();
    conn.socket = &io->socket;
  }
  ~HttpConn() {
    io->Stop();
    w.conns.erase(&conn);
    st.active.fetch_sub(1);
    st.open_connections.Dec();
  }
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  // Gets ready to read the next request with `parser`: its limits, and the time
  // the client has to send its header (a new connection's first, or the next
  // one on a keep-alive connection).
  void AwaitRequest(RequestParser& parser) {
    parser.header_limit(static_cast<std::uint32_t>(st.opts.max_header_bytes));
    parser.body_limit(st.header_body_limit);
    io->Expire(finished, first ? st.opts.header_timeout : st.opts.idle_timeout);
    conn.busy = false;
  }

  // The buffers of the answer in `res`, its head formatted into `head`.
  std::array<asio::const_buffer, 2> FormatResponse(unsigned version, bool keep_alive) {
    FormatHead(head, res, version, keep_alive, req.request_id);
    return ResponseBuffers(head, res, req.method == Method::kHead);
  }

 private:
  static std::string PeerIp(const tcp::socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
  }
  // The watchdog rechecks a paused connection as often as the shortest timeout.
  static Clock::duration RecheckEvery(const ServerOptions& o) {
    return std::min({o.header_timeout, o.body_timeout, o.write_timeout, o.idle_timeout});
  }
};

asio::awaitable<void> Server::State::Session(PerWorker& w, tcp::socket socket) {
  HttpConn c(*this, w, std::move(socket));
  ConnIo& io = *c.io;
  while (!stopping.load()) {
    RequestParser parser(c.req);
    c.AwaitRequest(parser);
    boost::system::error_code ec;
    while ((ec = ParseBuffered(parser, c.buffer, /*whole_message=*/false)) ==
           bhttp::error::need_more) {  // the header
      auto [rec, n] = co_await io.socket.async_read_some(ReadSpace(c.buffer), kTuple);
      if (rec) {
        ec = ReadFailure(parser, rec);
        break;
      }
      c.buffer.commit(n);
    }
    c.conn.busy = true;
    const auto started = Clock::now();
    if (ec) {
      if (auto refusal = ReadRefusal(ec, header_body_limit)) co_await Refuse(c, *refusal, 11);
      break;
    }
    c.first = false;

    StampRequest(c.req, w.worker, c.peer_ip, opts.trusted_proxies);
    RouteMatch match =
        router.Match(c.req.method == Method::kHead ? Method::kGet : c.req.method, c.req.path());
    bool admitted = false;
    if (auto refusal = co_await PrepareBody(c.req, parser, match, admitted)) {
      co_await Refuse(c, *refusal, parser.version());
      break;
    }

    if (!co_await ReadBody(c, parser, match)) break;

    io.Pause();
    if (match.route != nullptr && match.route->ws_handler) {
      if (auto breq = UpgradeRequest(parser, c.req)) {
        // The WebSocket lives on in a coroutine of its own: this one's frame (read
        // buffer, parser, the request as received) is freed when it returns, so an
        // idle WebSocket costs only what it needs to stay open.
        auto ws = co_await Upgrade(w, c.conn, io, std::move(*breq), std::move(c.req), match);
        if (ws) asio::co_spawn(w.worker->io(), RunWebSocket(std::move(ws)), asio::detached);
        co_return;
      }
    }
    c.req.path_params = std::move(match.params);
    if (admitted || Admit(c.req, match, c.res)) {
      try {
        c.res = co_await match.route->handler(c.req);
      } catch (const std::exception& e) {
        c.res = HandlerThrew(c.req, *match.route, e);
      }
    }
    const bool keep_alive = parser.keep_alive() && !stopping.load();
    const auto bufs = c.FormatResponse(parser.version(), keep_alive);
    io.Expire(opts.write_timeout);
    [[maybe_unused]] auto [wec, wn] = co_await asio::async_write(io.socket, bufs, kTuple);
    c.finished = Clock::now();
    Record(c, match, std::chrono::duration<double>(c.finished - started).count());
    if (wec || !keep_alive) break;
    Recycle(c.req, c.res);
  }
  co_await Close(c);
}

// Reads the body (to Request::body or the route's sink). False when the request
// was refused or the connection failed: the session ends.
asio::awaitable<bool> Server::State::ReadBody(HttpConn& c, RequestParser& parser,
                                              const RouteMatch& match) {
  if (parser.is_done()) co_return true;
  ConnIo& io = *c.io;
  if (parser.expects_continue()) {
    if (!co_await SendContinue(io, parser.version())) co_return false;
  }
  // A body buffered in memory (small) must arrive within body_timeout in all; a
  // body streamed to the route's sink (an upload of up to 100 MiB over a slow
  // link) only must not stall that long: each read re-arms the deadline.
  const bool streamed = match.route != nullptr && match.route->options.open_sink;
  io.Expire(opts.body_timeout);
  boost::system::error_code ec;
  while ((ec = ParseBuffered(parser, c.buffer, /*whole_message=*/true)) ==
         bhttp::error::need_more) {
    auto [rec, n] = co_await io.socket.async_read_some(ReadSpace(c.buffer), kTuple);
    if (rec) {
      ec = ReadFailure(parser, rec);
      break;
    }
    c.buffer.commit(n);
    if (streamed) io.Expire(opts.body_timeout);
  }
  if (!ec) co_return true;
  std::optional<Response> refusal;
  if (parser.sink_error()) {
    refusal = Response::FromError(*parser.sink_error());
  } else {
    refusal = ReadRefusal(ec, BodyLimit(match));
  }
  if (refusal) co_await Refuse(c, *refusal, parser.version());
  co_return false;
}

// The interim response that asks the client for the body it announced with
// "Expect: 100-continue". False when the write failed.
asio::awaitable<bool> Server::State::SendContinue(ConnIo& io, unsigned version) {
  io.Expire(opts.write_timeout);
  [[maybe_unused]] auto [ec, n] =
      co_await asio::async_write(io.socket, asio::buffer(ContinueLine(version)), kTuple);
  co_return !ec;
}

asio::awaitable<void> Server::State::Refuse(HttpConn& c, const Response& res, unsigned version) {
  co_await WriteResponse(*c.io, res, version, false, NewRequestId(), opts.write_timeout, false);
  SeriesFor(c.w, nullptr, Method::kOther, res.status).requests->Inc();
}

void Server::State::Record(HttpConn& c, const RouteMatch& match, double secs) {
  const Request& req = c.req;
  const Response& res = c.res;
  const SeriesKey key{match.route, req.method, res.status};
  if (c.last_series.series == nullptr || !(c.last_series.key == key)) {
    c.last_series.key = key;
    c.last_series.series = &SeriesFor(c.w, match.route, req.method, res.status);
  }
  c.last_series.series->requests->Inc();
  c.last_series.series->duration->Observe(secs);
  const bool quiet = match.route != nullptr && match.route->options.quiet;
  const log::Level level =
      res.status >= 500 ? log::Level::kError : (quiet ? log::Level::kDebug : log::Level::kInfo);
  if (log::Enabled(level)) {
    log::Write(level, "request",
               {{"request_id", req.request_id},
                {"method", MethodName(req.method)},
                {"route", match.route ? match.route->pattern : std::string("unmatched")},
                {"path", req.path()},
                {"status", res.status},
                {"duration_ms", secs * 1000.0},
                {"remote_ip", req.remote_ip},
                {"user_id", req.user_id()}});
  }
  if (!res.error_detail.empty()) {  // what the error body left out
    log::Write(
        res.status >= 500 ? log::Level::kError : log::Level::kWarn, "request failed",
        {{"request_id", req.request_id}, {"status", res.status}, {"error", res.error_detail}});
  }
}

asio::awaitable<void> Server::State::Close(HttpConn& c) {
  ConnIo& io = *c.io;
  boost::system::error_code ignored;
  io.socket.shutdown(tcp::socket::shutdown_send, ignored);
  // Lingering close: the client may still be sending (a body refused with 413,
  // say). Closing with unread data makes the kernel answer with a reset, which
  // can destroy our response before the client has read it; so read and discard
  // until the client closes, for at most kLingerTime (the watchdog ends it).
  if (io.socket.is_open() && !stopping.load()) {
    io.Expire(kLingerTime);
    for (;;) {
      auto [ec, n] = co_await io.socket.async_read_some(c.buffer.prepare(4096), kTuple);
      (void)n;  // never committed: discarded
      if (ec) break;
    }
  }
  io.socket.close(ignored);
}

}  // namespace tchat::http
