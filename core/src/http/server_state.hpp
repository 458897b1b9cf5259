#pragma once

// Private: the state behind tchat::http::Server, shared by server.cpp (listening,
// accepting, the HTTP sessions) and server_websocket.cpp (upgrades to WebSocket).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <tchat/core/http/server.hpp>
#include <tchat/core/http/websocket.hpp>
#include <tchat/core/metrics.hpp>

#include "conn_io.hpp"
#include "request_parser.hpp"

namespace tchat::http {

// One live connection, registered with its worker so that Shutdown can find it.
struct Conn {
  boost::asio::ip::tcp::socket* socket = nullptr;
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

struct Server::State {
  struct PerWorker {
    Worker* worker = nullptr;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
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
  std::uint64_t header_body_limit = 0;  // HeaderBodyLimit(), once the routes are known
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

  boost::asio::awaitable<void> AcceptLoop(PerWorker& w);

  // An HTTP connection (server.cpp): its requests one after the other, until
  // the client or the server ends it or it turns into a WebSocket.
  struct HttpConn;
  boost::asio::awaitable<void> Session(PerWorker& w, boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<bool> SendContinue(ConnIo& io, unsigned version);
  // Reads the body; false when the session is to end (refused or failed).
  boost::asio::awaitable<bool> ReadBody(HttpConn& c, RequestParser& parser,
                                        const RouteMatch& match);
  // Answers a request that could not be read (the connection then closes).
  boost::asio::awaitable<void> Refuse(HttpConn& c, const Response& res, unsigned version);
  // The request's metric series and log line, once it is answered.
  void Record(HttpConn& c, const RouteMatch& match, double seconds);
  // Shuts the connection down, lingering while the client still sends.
  boost::asio::awaitable<void> Close(HttpConn& c);

  // Decides what the router and authentication leave to the handler: true when
  // the route's handler is to run, else false with `res` set to the answer.
  bool Admit(Request& req, const RouteMatch& match, Response& res);
  bool Authenticate(Request& req, const Route& route, Response& denied);
  // The body limit of the matched route (the server's when none).
  std::uint64_t BodyLimit(const RouteMatch& match) const;
  std::uint64_t HeaderBodyLimit() const;
  // Once the header is read and routed: the body's limit, and on a streaming
  // route the caller's admission and its sink (admitted = true). A response when
  // the request is to be refused before its body is read.
  boost::asio::awaitable<std::optional<Response>> PrepareBody(Request& req, RequestParser& parser,
                                                              const RouteMatch& match,
                                                              bool& admitted);

  // WebSocket routes (server_websocket.cpp).
  struct WsConn;
  boost::asio::awaitable<std::unique_ptr<WsConn>> Upgrade(
      PerWorker& w, Conn& conn, ConnIo& io,
      boost::beast::http::request<boost::beast::http::empty_body> breq, Request req,
      const RouteMatch& match);
  boost::asio::awaitable<void> RunWebSocket(std::unique_ptr<WsConn> c);
};

// An upgraded connection: registered with its worker (for Shutdown) for as long as
// it exists, which is the WebSocket's whole life.
struct Server::State::WsConn {
  State& st;
  PerWorker& w;
  const Route& route;
  Request req;
  WebSocket ws;
  Conn conn;

  WsConn(State& s, PerWorker& pw, const Route& r, Request rq,
         std::unique_ptr<WebSocket::Impl> impl);
  ~WsConn();
  WsConn(const WsConn&) = delete;
  WsConn& operator=(const WsConn&) = delete;
};

// The request as Beast's WebSocket handshake wants it, when it asks for an
// upgrade; built only on WebSocket routes.
std::optional<boost::beast::http::request<boost::beast::http::empty_body>> UpgradeRequest(
    const RequestParser& parser, const Request& req);

}  // namespace tchat::http
