#pragma once

// Helpers of the notification end-to-end tests: environment, a blocking HTTP
// client for the service's API, access tokens, a blocking Redis connection to
// publish events the way the other services do, and event builders.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/json.hpp>

struct redisContext;

namespace tchat::e2e {

// The value of an environment variable; throws (the test fails, never skips)
// when it is unset.
std::string RequireEnv(const char* name);

struct ApiResponse {
  int status = 0;
  json::value body;  // null when not JSON
  std::string raw;
  std::string retry_after;
};

// Blocking HTTP/1.1 client for http://host:port base URLs.
class Api {
 public:
  explicit Api(std::string base_url);
  ApiResponse Call(const std::string& method, const std::string& target,
                   const std::string& bearer = {}, const std::string& body = {}) const;

 private:
  std::string host_;
  std::string port_;
};

// An access token for `user_id` signed with the key of TCHAT_TEST_JWT_KEY_FILE.
std::string MintToken(const std::string& user_id);
std::string NewUserId();  // a new random UUID (version 7)

// Blocking Redis commands (hiredis).
class Redis {
 public:
  explicit Redis(const std::string& url);  // redis://host:port[/db]
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;
  // Runs a command; returns the reply as a string (integers in decimal, arrays
  // empty). Throws on connection errors.
  std::string Command(const std::vector<std::string>& args);
  // XADD stream * event <envelope>; returns the entry id.
  std::string Publish(std::string_view stream, const json::object& envelope);
  std::string PublishRaw(std::string_view stream, const std::vector<std::string>& fields);

 private:
  redisContext* ctx_ = nullptr;
};

// {"id": <new uuid>, "type", "occurred_at": now (RFC 3339 ms), "data"}.
json::object Envelope(const std::string& type, json::object data,
                      std::optional<std::string> id = std::nullopt);

// Parses the JSON of a response, asserting nothing.
const json::object& Obj(const ApiResponse& r);

}  // namespace tchat::e2e
