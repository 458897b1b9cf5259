#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

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
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <tchat/core/http/server.hpp>
#include <tchat/core/http/websocket.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/metrics.hpp>
#include <tchat/core/worker.hpp>

#include "request_parser.hpp"
#include "websocket_impl.hpp"

namespace tchat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Request ids: accepted from the client when they look sane, else 128 random bits.
bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// 128 bits from a per-thread splitmix64 sequence seeded from the OS: request ids
// only need to be unique, and this costs two multiplications per 64 bits instead
// of a Mersenne Twister step. Written into `out`, whose capacity is reused.
void NewRequestId(std::string& out) {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  auto next = [] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = next();
    for (int i = 0; i < 16; ++i, v >>= 4)
      out[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xF];
  }
}

std::string NewRequestId() {
  std::string id;
  NewRequestId(id);
  return id;
}

bool IsLoopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip.rfind("::ffff:127.", 0) == 0;
}

using Clock = std::chrono::steady_clock;

// How long a closing connection keeps reading (and discarding) what the client
// still sends, so that our last response is not lost to a reset.
constexpr std::chrono::milliseconds kLingerTime{2000};

// The socket of one HTTP connection and its deadline. Beast's tcp_stream arms and
// cancels a timer around every read and write, which costs two timer-queue
// operations and one extra completion per request; here one timer per connection
// watches a deadline that each operation only moves. The timer fires at the
// deadline it last saw: if the deadline moved later it sleeps again, otherwise the
// socket is closed and the pending operation fails. Shared with the timer's
// handler, which may outlive the session by one cancelled wait.
struct ConnIo : std::enable_shared_from_this<ConnIo> {
  tcp::socket socket;
  asio::steady_timer timer;
  Clock::time_point deadline = Clock::time_point::max();  // max: no operation running
  Clock::time_point armed = Clock::time_point::max();     // the timer's expiry
  Clock::duration recheck{};                              // sleep while no operation runs
  bool done = false;

  ConnIo(tcp::socket s, Clock::duration recheck_every)
      : socket(std::move(s)), timer(socket.get_executor()), recheck(recheck_every) {}

  // The next operation must finish within `d` (from `now`, when the caller has
  // just read the clock).
  void Expire(std::chrono::milliseconds d) { Expire(Clock::now(), d); }
  void Expire(Clock::time_point now, std::chrono::milliseconds d) {
    deadline = now + d;
    if (deadline < armed) Arm(deadline);
  }
  // No deadline until the next Expire (a handler is running).
  void Pause() { deadline = Clock::time_point::max(); }
  // The session is over (or the socket moved to a WebSocket): stop watching.
  void Stop() {
    done = true;
    timer.cancel();
  }

 private:
  void Arm(Clock::time_point at) {
    armed = at;
    timer.expires_at(at);
    timer.async_wait([self = shared_from_this(), at](const boost::system::error_code& ec) {
      if (ec || self->done || self->armed != at) return;  // cancelled or re-armed since
      self->Fire();
    });
  }
  void Fire() {
    const auto now = Clock::now();
    if (deadline == Clock::time_point::max()) {
      Arm(now + recheck);
    } else if (deadline > now) {
      Arm(deadline);
    } else {
      armed = Clock::time_point::max();
      boost::system::error_code ignored;
      socket.close(ignored);  // the pending read or write fails: the session ends
    }
  }
};

// One live connection, registered with its worker so that Shutdown can find it.
struct Conn {
  tcp::socket* socket = nullptr;
  WebSocket* ws = nullptr;
  bool busy = false;
};

struct SeriesKey {
  const Route* route;
  Method method;
  int status;
  bool operator==(const SeriesKey&) const = default;
};
struct SeriesKeyHash {
  std::size_t operator()(const SeriesKey& k) const {
    return std::hash<const void*>()(k.route) ^ (static_cast<std::size_t>(k.method) << 20) ^
           (static_cast<std::size_t>(k.status) << 4);
  }
};
struct Series {
  metrics::Counter* requests;
  metrics::Histogram* duration;
};

}  // namespace

struct Server::State {
  struct PerWorker {
    Worker* worker = nullptr;
    std::optional<tcp::acceptor> acceptor;
    std::unordered_set<Conn*> conns;
    std::unordered_map<SeriesKey, Series, SeriesKeyHash> series;  // this worker's cache
  };

  ServerOptions opts;
  const Router& router;
  Authenticator authenticator;
  std::vector<std::unique_ptr<PerWorker>> workers;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};
  std::uint16_t port = 0;
  metrics::CounterFamily& requests_total;
  metrics::HistogramFamily& duration;
  metrics::Gauge& open_connections;

  State(ServerOptions o, const Router& r, Authenticator a)
      : opts(std::move(o)),
        router(r),
        authenticator(std::move(a)),
        requests_total(metrics::Registry::Default().AddCounter(
            "http_requests_total", "HTTP requests by route template and status.",
            {"service", "method", "route", "status"})),
        duration(metrics::Registry::Default().AddHistogram("http_request_duration_seconds",
                                                           "HTTP request latency in seconds.",
                                                           {"service", "method", "route"})),
        open_connections(metrics::Registry::Default()
                             .AddGauge("http_open_connections",
                                       "Open HTTP and WebSocket connections.", {"service"})
                             .With({opts.service})) {}

  Series& SeriesFor(PerWorker& w, const Route* route, Method method, int status) {
    SeriesKey key{route, method, status};
    auto it = w.series.find(key);
    if (it != w.series.end()) return it->second;
    std::string pattern = route ? route->pattern : "unmatched";
    std::string m(MethodName(method));
    Series s{&requests_total.With({opts.service, m, pattern, std::to_string(status)}),
             &duration.With({opts.service, m, pattern})};
    return w.series.emplace(key, s).first->second;
  }

  asio::awaitable<void> AcceptLoop(PerWorker& w);
  asio::awaitable<void> Session(PerWorker& w, tcp::socket socket);
  // Decides what the router and authentication leave to the handler: true when
  // the route's handler is to run, else false with `res` set to the answer.
  bool Admit(Request& req, const RouteMatch& match, Response& res);
  struct WsConn;
  asio::awaitable<std::unique_ptr<WsConn>> Upgrade(PerWorker& w, Conn& conn, ConnIo& io,
                                                   bhttp::request<bhttp::empty_body> breq,
                                                   Request req, const RouteMatch& match);
  asio::awaitable<void> RunWebSocket(std::unique_ptr<WsConn> c);
  bool Authenticate(Request& req, const Route& route, Response& denied);
};

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

bool SafeHeaderText(std::string_view v) {
  return v.find_first_of("\r\n") == std::string_view::npos;
}

void AppendNumber(std::string& out, std::size_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

bool Bodiless(const Response& res) {
  return res.status == 204 || res.status == 304 || res.status < 200;
}

// Formats the head of a response built from our Response type into `h` (whose
// capacity a connection reuses); the body is sent after it in one gathered
// write (a third of the CPU of Beast's generic serializer on small responses).
void FormatHead(std::string& h, const Response& res, unsigned version, bool keep_alive,
                std::string_view request_id) {
  h.clear();
  h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendNumber(h, static_cast<std::size_t>(res.status));
  h += ' ';
  h += bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  h += "\r\n";
  if (!res.content_type.empty()) {
    h += "Content-Type: ";
    h += res.content_type;
    h += "\r\n";
  }
  if (!Bodiless(res)) {
    h += "Content-Length: ";
    AppendNumber(h, res.body.size());
    h += "\r\n";
  }
  if (!request_id.empty()) {
    h += "X-Request-ID: ";
    h += request_id;
    h += "\r\n";
  }
  for (const auto& [k, v] : res.headers) {
    if (!SafeHeaderText(k) || !SafeHeaderText(v)) continue;  // no response splitting
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (!keep_alive) {
    h += "Connection: close\r\n";
  } else if (version == 10) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
}

// The buffers of a response whose head is `h`: no body for HEAD or bodiless statuses.
std::array<asio::const_buffer, 2> ResponseBuffers(const std::string& h, const Response& res,
                                                  bool head_request) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(h), asio::const_buffer()};
  if (!head_request && !Bodiless(res)) bufs[1] = asio::buffer(res.body);
  return bufs;
}

// Writes a response outside the keep-alive loop (refusals before a request is
// complete, WebSocket upgrades that are denied).
asio::awaitable<bool> WriteResponse(ConnIo& io, const Response& res, unsigned version,
                                    bool keep_alive, const std::string& request_id,
                                    std::chrono::milliseconds timeout, bool head) {
  std::string h;
  FormatHead(h, res, version, keep_alive, request_id);
  const auto bufs = ResponseBuffers(h, res, head);
  io.Expire(timeout);
  auto [ec, n] = co_await asio::async_write(io.socket, bufs, kTuple);
  (void)n;
  co_return !ec;
}

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
    if (ec) return ec;
    if (used == 0) return bhttp::error::need_more;
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

// The request as Beast's WebSocket handshake wants it, when it asks for an
// upgrade; built only on WebSocket routes.
std::optional<bhttp::request<bhttp::empty_body>> UpgradeRequest(const RequestParser& parser,
                                                                const Request& req) {
  if (parser.verb() != bhttp::verb::get || parser.version() < 11) return std::nullopt;
  bhttp::request<bhttp::empty_body> breq;
  breq.method(parser.verb());
  breq.target(req.target);
  breq.version(parser.version());
  for (const auto& [k, v] : req.headers) breq.insert(k, v);
  if (!websocket::is_upgrade(breq)) return std::nullopt;
  return breq;
}

}  // namespace

asio::awaitable<void> Server::State::Session(PerWorker& w, tcp::socket socket) {
  Conn conn;
  w.conns.insert(&conn);
  active.fetch_add(1);
  open_connections.Inc();
  struct Unregister {
    PerWorker& w;
    Conn& c;
    State& st;
    ~Unregister() {
      w.conns.erase(&c);
      st.active.fetch_sub(1);
      st.open_connections.Dec();
    }
  } unregister{w, conn, *this};

  boost::system::error_code ec_ep;
  auto ep = socket.remote_endpoint(ec_ep);
  std::string peer_ip = ec_ep ? std::string() : ep.address().to_string();
  // The watchdog rechecks a paused connection as often as the shortest timeout.
  const auto recheck =
      std::min({opts.header_timeout, opts.body_timeout, opts.write_timeout, opts.idle_timeout});
  auto io = std::make_shared<ConnIo>(std::move(socket), recheck);
  struct StopWatching {
    ConnIo& io;
    ~StopWatching() { io.Stop(); }
  } stop_watching{*io};
  conn.socket = &io->socket;
  beast::flat_buffer buffer;
  bool first = true;
  // One Request, Response and response head per connection, recycled between
  // keep-alive requests so that their buffers are allocated once.
  Request req;
  Response res;
  std::string head;
  LastSeries last_series;
  auto finished = Clock::now();  // when the previous request was answered

  while (!stopping.load()) {
    RequestParser parser(req);
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    io->Expire(finished, first ? opts.header_timeout : opts.idle_timeout);
    conn.busy = false;
    boost::system::error_code ec;
    for (;;) {
      ec = ParseBuffered(parser, buffer, /*whole_message=*/false);
      if (ec != bhttp::error::need_more) break;
      auto [rec, n] = co_await io->socket.async_read_some(
          buffer.prepare(beast::read_size(buffer, kMaxRead)), kTuple);
      if (rec) {
        ec = ReadFailure(parser, rec);
        break;
      }
      buffer.commit(n);
    }
    conn.busy = true;
    const auto started = Clock::now();
    Error read_error;
    bool reject = false;
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        read_error = Error::PayloadTooLarge("request body exceeds " +
                                            std::to_string(opts.max_body_bytes) + " bytes");
        reject = true;
      } else if (ec == bhttp::error::header_limit) {
        read_error = Error(ErrorCode::kPayloadTooLarge, "request headers too large");
        reject = true;
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        read_error = Error::InvalidArgument("malformed HTTP request");
        reject = true;
      }
      if (reject) {
        Response r = Response::FromError(read_error);
        co_await WriteResponse(*io, r, 11, false, NewRequestId(), opts.write_timeout, false);
        Series& s = SeriesFor(w, nullptr, Method::kOther, r.status);
        s.requests->Inc();
      }
      break;
    }
    first = false;

    if (!parser.is_done()) {
      if (parser.expects_continue()) {
        io->Expire(opts.write_timeout);
        auto [wec, wn] = co_await asio::async_write(
            io->socket, asio::buffer(ContinueLine(parser.version())), kTuple);
        (void)wn;
        if (wec) break;
      }
      io->Expire(opts.body_timeout);
      for (;;) {
        ec = ParseBuffered(parser, buffer, /*whole_message=*/true);
        if (ec != bhttp::error::need_more) break;
        auto [rec, n] = co_await io->socket.async_read_some(
            buffer.prepare(beast::read_size(buffer, kMaxRead)), kTuple);
        if (rec) {
          ec = ReadFailure(parser, rec);
          break;
        }
        buffer.commit(n);
      }
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          Response r = Response::FromError(Error::PayloadTooLarge(
              "request body exceeds " + std::to_string(opts.max_body_bytes) + " bytes"));
          co_await WriteResponse(*io, r, parser.version(), false, NewRequestId(),
                                 opts.write_timeout, false);
          SeriesFor(w, nullptr, Method::kOther, r.status).requests->Inc();
        }
        break;
      }
    }

    io->Pause();
    req.worker = w.worker;
    std::string_view rid = req.Header("x-request-id");
    if (SaneRequestId(rid)) {
      req.request_id.assign(rid);
    } else {
      NewRequestId(req.request_id);
    }
    req.remote_ip = peer_ip;
    if (IsLoopback(peer_ip)) {
      // The gateway on the same host tells us who the client is.
      std::string_view real = req.Header("x-real-ip");
      if (!real.empty() && real.size() < 64) req.remote_ip.assign(real);
    }

    RouteMatch match =
        router.Match(req.method == Method::kHead ? Method::kGet : req.method, req.path());
    if (match.route != nullptr && match.route->ws_handler) {
      auto breq = UpgradeRequest(parser, req);
      if (breq) {
        // The WebSocket lives on in a coroutine of its own: this one's frame (read
        // buffer, parser, the request as received) is freed when it returns, so an
        // idle WebSocket costs only what it needs to stay open.
        auto ws = co_await Upgrade(w, conn, *io, std::move(*breq), std::move(req), match);
        if (ws) asio::co_spawn(w.worker->io(), RunWebSocket(std::move(ws)), asio::detached);
        co_return;
      }
    }
    req.path_params = std::move(match.params);

    if (Admit(req, match, res)) {
      try {
        res = co_await match.route->handler(req);
      } catch (const std::exception& e) {
        log::Error(
            "handler threw",
            {{"request_id", req.request_id}, {"route", match.route->pattern}, {"error", e.what()}});
        res = Response::FromError(Error::Internal("internal error"));
      }
    }
    const bool keep_alive = parser.keep_alive() && !stopping.load();
    FormatHead(head, res, parser.version(), keep_alive, req.request_id);
    const auto bufs = ResponseBuffers(head, res, req.method == Method::kHead);
    io->Expire(opts.write_timeout);
    auto [wec, wn] = co_await asio::async_write(io->socket, bufs, kTuple);
    (void)wn;
    const bool written = !wec;

    finished = Clock::now();
    const double secs = std::chrono::duration<double>(finished - started).count();
    const SeriesKey key{match.route, req.method, res.status};
    if (last_series.series == nullptr || !(last_series.key == key)) {
      last_series.key = key;
      last_series.series = &SeriesFor(w, match.route, req.method, res.status);
    }
    last_series.series->requests->Inc();
    last_series.series->duration->Observe(secs);
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
    if (!written || !keep_alive) break;
    Recycle(req, res);
  }
  boost::system::error_code ignored;
  io->socket.shutdown(tcp::socket::shutdown_send, ignored);
  // Lingering close: the client may still be sending (a body refused with 413,
  // say). Closing with unread data makes the kernel answer with a reset, which
  // can destroy our response before the client has read it; so read and discard
  // until the client closes, for at most kLingerTime (the watchdog ends it).
  if (io->socket.is_open() && !stopping.load()) {
    io->Expire(kLingerTime);
    for (;;) {
      auto [ec, n] = co_await io->socket.async_read_some(buffer.prepare(4096), kTuple);
      (void)n;  // never committed: discarded
      if (ec) break;
    }
  }
  io->socket.close(ignored);
}

// An upgraded connection: registered with its worker (for Shutdown) for as long as
// it exists, which is the WebSocket's whole life.
struct Server::State::WsConn {
  State& st;
  PerWorker& w;
  const Route& route;
  Request req;
  WebSocket ws;
  Conn conn;

  WsConn(State& s, PerWorker& pw, const Route& r, Request rq, std::unique_ptr<WebSocket::Impl> impl)
      : st(s), w(pw), route(r), req(std::move(rq)), ws(std::move(impl)) {
    conn.ws = &ws;
    w.conns.insert(&conn);
    st.active.fetch_add(1);
    st.open_connections.Inc();
  }
  ~WsConn() {
    w.conns.erase(&conn);
    st.active.fetch_sub(1);
    st.open_connections.Dec();
  }
  WsConn(const WsConn&) = delete;
  WsConn& operator=(const WsConn&) = delete;
};

namespace {

// What a WebSocket handler's Request keeps of the upgrade request: everything but
// the handshake's own headers and the credentials already turned into req.auth.
// Held for the connection's whole life, so it is also trimmed to size.
void TrimForWebSocket(Request& req) {
  std::erase_if(req.headers, [](const auto& h) {
    const std::string& n = h.first;
    return n == "authorization" || n == "upgrade" || n == "connection" ||
           n.starts_with("sec-websocket-");
  });
  req.headers.shrink_to_fit();
  for (auto& [k, v] : req.headers) {
    k.shrink_to_fit();
    v.shrink_to_fit();
  }
  req.body = std::string();
  req.target.shrink_to_fit();
}

// Out of line: the log call's temporaries would otherwise enlarge the frame of
// RunWebSocket, which lives as long as the connection.
[[gnu::noinline]] void LogWebSocketOpen(const Request& req, const Route& route) {
  log::Info("websocket open",
            {{"request_id", req.request_id}, {"route", route.pattern}, {"user_id", req.user_id()}});
}

}  // namespace

asio::awaitable<std::unique_ptr<Server::State::WsConn>> Server::State::Upgrade(
    PerWorker& w, Conn& conn, ConnIo& io, bhttp::request<bhttp::empty_body> breq, Request req,
    const RouteMatch& match) {
  req.path_params = match.params;
  Response denied;
  if (!Authenticate(req, *match.route, denied)) {
    co_await WriteResponse(io, denied, breq.version(), false, req.request_id, opts.write_timeout,
                           false);
    SeriesFor(w, match.route, req.method, denied.status).requests->Inc();
    co_return nullptr;
  }
  // Beast performs the handshake; the connection then continues on our own
  // framing (websocket.cpp) over the same socket.
  io.Stop();
  conn.socket = nullptr;
  websocket::stream<beast::tcp_stream> hs(beast::tcp_stream(std::move(io.socket)));
  beast::get_lowest_layer(hs).expires_never();
  hs.set_option(
      websocket::stream_base::timeout{opts.header_timeout, websocket::stream_base::none(), false});
  hs.set_option(websocket::stream_base::decorator(
      [rid = req.request_id](websocket::response_type& r) { r.set("X-Request-ID", rid); }));
  auto [ec] = co_await hs.async_accept(breq, kTuple);
  SeriesFor(w, match.route, req.method, ec ? 400 : 101).requests->Inc();
  if (ec) co_return nullptr;
  tcp::socket socket = hs.next_layer().release_socket();
  // A peer that vanished without closing is found by TCP keepalive (~2 min)
  // instead of a timer per connection.
  boost::system::error_code kec;
  socket.set_option(asio::socket_base::keep_alive(true), kec);
  const int idle = 60, interval = 10, count = 6;
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval,
                     sizeof interval);
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  auto impl = std::make_unique<WebSocket::Impl>(std::move(socket), opts.max_ws_message_bytes);
  TrimForWebSocket(req);
  co_return std::make_unique<WsConn>(*this, w, *match.route, std::move(req), std::move(impl));
}

asio::awaitable<void> Server::State::RunWebSocket(std::unique_ptr<WsConn> c) {
  WebSocket& ws = c->ws;
  Request& req = c->req;
  if (stopping.load()) {  // Shutdown came during the handshake
    co_await ws.Close(1001, "server shutting down");
    co_return;
  }
  LogWebSocketOpen(req, c->route);
  try {
    co_await c->route.ws_handler(req, ws);
  } catch (const std::exception& e) {
    log::Error("websocket handler threw", {{"request_id", req.request_id}, {"error", e.what()}});
  }
  if (ws.is_open()) co_await ws.Close(stopping.load() ? 1001 : 1000);
  c->conn.ws = nullptr;
}

}  // namespace tchat::http
