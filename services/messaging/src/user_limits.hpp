#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {
class RedisCommander;
}

namespace tchat::messaging {

// What a user may do how often (per fixed window; a count of 0 means no limit).
struct UserLimitsOptions {
  redis::RateLimit messages{300, std::chrono::minutes(1)};    // message sends (HTTP and socket)
  redis::RateLimit typing{120, std::chrono::minutes(1)};      // typing frames
  redis::RateLimit groups{30, std::chrono::hours(1)};         // groups created
  redis::RateLimit connections{30, std::chrono::minutes(1)};  // WebSockets opened
  redis::RateLimit searches{60, std::chrono::minutes(1)};     // message/conversation searches
  redis::RateLimit uploads{30, std::chrono::minutes(1)};      // media uploads
  std::string prefix = "tchat:rt:";                           // of the Redis keys
};

// Per-user rate limits of the messaging service, in Redis so that they hold across
// workers and replicas: one fixed window per user and kind, keyed
// "<prefix>limit:<kind>:<user id>" (core redis::RateLimiter).
//
// Failure policy: fail open. When Redis cannot answer, the action is admitted and
// a warning is logged at most every 10 s per worker: the limits protect capacity
// and slow abuse, and an outage of Redis already stops real-time delivery, it
// should not stop sending as well.
//
// One per worker, used only on that worker's thread; `redis` outlives it.
class UserLimits {
 public:
  enum class Kind { kMessage, kTyping, kGroup, kConnection, kSearch, kUpload };

  UserLimits(redis::RedisCommander& redis, UserLimitsOptions options);

  // Counts one action of `user_id`. Ok: go on. kRateLimited with retry_after
  // (seconds until the window ends, >= 1): refuse. Never any other error.
  Task<Status> Admit(Kind kind, const std::string& user_id);

 private:
  void WarnFailOpen(const Error& e);

  redis::RedisCommander& redis_;
  UserLimitsOptions options_;
  std::chrono::steady_clock::time_point next_warning_{};
};

}  // namespace tchat::messaging
