#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tchat/core/http/types.hpp>
#include <tchat/core/task.hpp>

namespace tchat::http {

class WebSocket;

using Handler = std::function<Task<Response>(Request&)>;
// Runs for the WebSocket's whole life. Its Request is the upgrade request without
// what only the handshake needed: no Authorization header (req.auth holds the
// verified identity), no Upgrade, Connection or Sec-WebSocket-* headers, no body.
using WebSocketHandler = std::function<Task<void>(Request&, WebSocket&)>;

struct RouteOptions {
  // Requires a valid access token (Authorization: Bearer, or ?access_token= on
  // WebSocket routes). Secure by default: only health, metrics, JWKS, sign-in and
  // signed webhooks opt out.
  bool authenticated = true;
  // Probe endpoints log at debug level so they do not flood the logs.
  bool quiet = false;
  // Streams the body instead of buffering it: called once the header is read and
  // the caller authenticated, before any of the body is read. It returns the
  // sink the body goes to (kept in Request::body_sink for the handler), or an
  // error that answers the request at once (the body is never read). Blocking
  // work does not belong here (it runs on the connection's thread); asking a
  // database or Redis (a quota, a rate limit) does.
  std::function<Task<Result<std::shared_ptr<BodySink>>>(Request&)> open_sink = nullptr;
  // The largest body this route takes, when it differs from the server's
  // ServerOptions::max_body_bytes (0: the server's). A Content-Length above it is
  // answered with 413 before any of the body is read.
  std::uint64_t max_body_bytes = 0;
};

// One registered route. `pattern` is the template used as the metrics label.
struct Route {
  Method method;
  std::string pattern;
  std::vector<std::string> segments;  // "{id}" marks a parameter
  Handler handler;
  WebSocketHandler ws_handler;  // set for WebSocket routes (method GET)
  RouteOptions options;
};

struct RouteMatch {
  const Route* route = nullptr;  // null: not found or method not allowed
  std::vector<std::pair<std::string_view, std::string>> params;
  bool method_not_allowed = false;
  std::string allow;  // "GET, POST" when method_not_allowed
};

// Maps (method, path) to a handler. Literal segments win over parameters at the
// same position ("/v1/users/me" before "/v1/users/{id}"). Built once at start-up,
// then read concurrently by every worker without locks.
class Router {
 public:
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  void Get(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kGet, std::move(pattern), std::move(h), o);
  }
  void Post(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kPost, std::move(pattern), std::move(h), o);
  }
  void Put(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kPut, std::move(pattern), std::move(h), o);
  }
  void Patch(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kPatch, std::move(pattern), std::move(h), o);
  }
  void Delete(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kDelete, std::move(pattern), std::move(h), o);
  }
  void WebSocketRoute(std::string pattern, WebSocketHandler h, RouteOptions o = {});

  // Path without query string. Percent-encoded segments are decoded into params.
  RouteMatch Match(Method method, std::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  // Routes without parameters by their template, in registration order: a path
  // equal to one of them needs no scan, since an all-literal match outranks any
  // other (keys view the routes' own patterns).
  std::unordered_map<std::string_view, std::vector<const Route*>> literal_;
};

}  // namespace tchat::http
