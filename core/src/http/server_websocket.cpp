// Upgrades of HTTP connections to WebSocket: Beast performs the handshake, then
// the connection continues on the project's own framing (websocket.cpp).
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <tchat/core/log.hpp>

#include "response_head.hpp"
#include "server_state.hpp"
#include "websocket_impl.hpp"

namespace tchat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Server::State::WsConn::WsConn(State& s, PerWorker& pw, const Route& r, Request rq,
                              std::unique_ptr<WebSocket::Impl> impl)
    : st(s), w(pw), route(r), req(std::move(rq)), ws(std::move(impl)) {
  conn.ws = &ws;
  w.conns.insert(&conn);
  st.active.fetch_add(1);
  st.open_connections.Inc();
}

Server::State::WsConn::~WsConn() {
  w.conns.erase(&conn);
  st.active.fetch_sub(1);
  st.open_connections.Dec();
}

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

// A peer that vanished without closing is found by TCP keepalive (~2 min)
// instead of a timer per connection.
void EnableKeepAlive(tcp::socket& socket) {
  boost::system::error_code kec;
  socket.set_option(asio::socket_base::keep_alive(true), kec);
  const int idle = 60, interval = 10, count = 6;
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval,
                     sizeof interval);
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// Out of line: the log call's temporaries would otherwise enlarge the frame of
// RunWebSocket, which lives as long as the connection.
[[gnu::noinline]] void LogWebSocketOpen(const Request& req, const Route& route) {
  log::Info("websocket open",
            {{"request_id", req.request_id}, {"route", route.pattern}, {"user_id", req.user_id()}});
}

}  // namespace

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
  EnableKeepAlive(socket);
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
