#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tchat::httpclient {

// An ordered list of header fields with case-insensitive lookup. Duplicates are
// kept in order (Set replaces, Add appends). A value type; no thread rules.
class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field, keeping any earlier field of the same name.
  void Add(std::string name, std::string value);
  // Replaces every field of this name with one field.
  void Set(std::string name, std::string value);
  // The first field of this name (case-insensitive), or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// One outgoing request. `url` is absolute: http://host[:port]/path?query or
// https://... . Host, User-Agent and Content-Length are filled in by the client
// unless set here.
//
// Deliberately not an aggregate: GCC 12 miscompiles aggregate-initialised
// temporaries inside a co_await expression (`co_await Send({.url = u})` frees a
// pointer into the coroutine frame). With a constructor, `co_await
// client.Send({"GET", url})` is safe.
struct HttpRequest {
  HttpRequest() = default;
  HttpRequest(std::string method_in, std::string url_in, std::string body_in = {})
      : method(std::move(method_in)), url(std::move(url_in)), body(std::move(body_in)) {}

  std::string method = "GET";
  std::string url{};
  HttpHeaders headers{};
  std::string body{};
  // Overall deadline for this request (waiting for a connection, connecting,
  // writing and reading); nullopt: the client's default (http_client_timeout).
  std::optional<std::chrono::milliseconds> timeout{};
};

// A complete response. Any status is a response; deciding what a 4xx/5xx means
// is the caller's job.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers{};
  std::string body{};
};

}  // namespace tchat::httpclient
