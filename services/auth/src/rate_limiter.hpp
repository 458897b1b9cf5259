#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "auth_config.hpp"

namespace tchat::auth_service {

// Prefix of every Redis key auth owns.
inline constexpr std::string_view kKeyPrefix = "tchat:auth:";

// A Lua script run with EVALSHA; when Redis does not know it yet (first use,
// restart, SCRIPT FLUSH) it is sent once with EVAL. Immutable; any thread.
class RedisScript {
 public:
  explicit RedisScript(std::string source);

  // Runs the script with `keys` and `args` on the caller's worker client.
  Task<Result<redis::RedisReply>> Run(redis::RedisClient& redis,
                                      const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args) const;

 private:
  std::string source_;
  std::string sha1_;
};

// The verdict on one counted event.
struct LimitDecision {
  bool allowed = true;
  std::int64_t count = 0;               // events in the current window, this one included
  std::chrono::seconds retry_after{0};  // until the window ends (≥ 1 s when refused)
};

// Fixed-window counters in Redis (INCR + PEXPIRE in one script, so a window
// always ends). Stateless; the worker's client does the I/O.
class RateLimiter {
 public:
  // Counts one event under `key` and decides against `limit`.
  static Task<Result<LimitDecision>> Hit(redis::RedisClient& redis, const std::string& key,
                                         Limit limit);
};

// Seconds for a Retry-After header from Redis milliseconds: rounded up, ≥ 1.
std::chrono::seconds RetryAfterFromMillis(std::int64_t ms);

}  // namespace tchat::auth_service
