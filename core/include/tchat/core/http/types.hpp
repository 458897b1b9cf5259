#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tchat/core/error.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

namespace tchat {
class Worker;
}

namespace tchat::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view MethodName(Method m);

// Who made an authenticated request: the access token's sub and sid claims.
struct AuthContext {
  std::string user_id;
  std::string session_id;
  std::chrono::system_clock::time_point expires_at;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Where a streaming route's request body goes instead of Request::body
// (RouteOptions::open_sink): each piece as it arrives from the socket, on the
// connection's thread. Write must be quick (a write to the page cache, a hash
// update); an error ends the request at once with that error's response (413 for
// a body over a limit only the sink knows, say) and the connection closes.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(std::string_view piece) = 0;
};

// An HTTP request as handlers see it: the project's own type, so handler files
// need no Beast. Owned by the connection for the duration of the handler call.
class Request {
 public:
  Method method = Method::kOther;
  std::string target;  // path + query as received
  std::string body;
  HeaderList headers;      // names lower-cased
  std::string remote_ip;   // the client's address (ServerOptions::trusted_proxies)
  std::string client_key;  // what per-address limits count under: AddressLimitKey(remote_ip)
  std::string request_id;
  std::optional<AuthContext> auth;  // set for authenticated routes
  std::vector<std::pair<std::string_view, std::string>> path_params;
  Worker* worker = nullptr;  // the event loop running this request
  // Streaming routes: the sink that took the body (Request::body stays empty).
  std::shared_ptr<BodySink> body_sink;

  std::string_view path() const;
  std::string_view query_string() const;
  // Case-insensitive header lookup; empty when absent.
  std::string_view Header(std::string_view name) const;
  // The named {param} of the route template; empty when absent.
  std::string_view PathParam(std::string_view name) const;
  // The first value of a query parameter, percent-decoded.
  std::optional<std::string> Query(std::string_view key) const;
  // The authenticated user's id (empty for public routes).
  const std::string& user_id() const;
};

// The verified caller's user id (the access token's subject) in canonical
// lower-case form, for handlers of authenticated routes. Unauthenticated when
// the request carries no verified token or its subject is not a UUID.
Result<std::string> CallerId(const Request& req);

// True when the Authorization header is "Bearer <secret>" for a non-empty
// `secret` (compared in constant time): the check of shared admin credentials.
bool BearerMatches(const Request& req, std::string_view secret);

// An HTTP response built by a handler.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  HeaderList headers;
  // What an error response left out of its body (FromError): logged with the
  // request id by the server, never sent.
  std::string error_detail;

  static Response Json(int status, const json::value& v);
  // The content type is copied (a view is taken so that the common literals cost
  // no temporary string).
  static Response Text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  static Response NoContent();
  // The docs/api/openapi.yaml error body {"error":{"code","message"}} with the mapped status,
  // plus Retry-After for rate limits. A server-side failure (5xx) or a database
  // error (an SQLSTATE) gets a generic message: its own, which may quote
  // PostgreSQL or internals, goes to error_detail.
  static Response FromError(const Error& e);
};

// Percent-decodes a URL component ('+' as space in query strings, kept in path
// segments). Returns nullopt on bad escapes.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space = true);

}  // namespace tchat::http
