#pragma once

// Publishing events the way the services do, for tests of their consumers: a
// blocking Redis connection (hiredis) and the event envelope.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>

struct redisContext;

namespace tchat::e2e {

// Blocking Redis commands. Not thread-safe.
class Redis {
 public:
  explicit Redis(const std::string& url);  // redis://host:port[/db]; throws when unreachable
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;
  // Runs a command; returns the reply as a string (integers in decimal, arrays
  // empty). Throws on connection errors and error replies.
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

}  // namespace tchat::e2e
