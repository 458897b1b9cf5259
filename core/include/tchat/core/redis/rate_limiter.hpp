#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

class RedisCommander;

// A fixed-window limit: at most `count` events per `window`. Plain data, usually
// read from configuration; `window` must be at least 1 ms.
struct RateLimit {
  std::int64_t count = 0;
  std::chrono::milliseconds window{0};
};

// The verdict on one counted event.
struct LimitDecision {
  bool allowed = true;
  std::int64_t count = 0;               // events in the current window, this one included
  std::chrono::seconds retry_after{0};  // until the window ends (>= 1 s; meaningful when refused)
};

// Fixed-window counters in Redis, shared by the services (auth's OTP, sign-in and
// lookup limits, payment's per-user limit on money operations). One key per
// subject; INCR and, on the window's first event, PEXPIRE run in one script, so
// a window always ends even when a client dies between the two, and a key found
// without an expiry (written by something else) is given one. Refused events are
// counted too but never extend the window. Stateless; callers pick the key
// (prefixed with their service, e.g. "tchat:payment:...").
class RateLimiter {
 public:
  // Counts one event under `key` and decides against `limit`. Redis failures
  // come back as they are (kUnavailable for a lost connection or a timeout,
  // kInternal for a bad reply); whether to fail open or closed is the caller's
  // policy. A window under 1 ms is kInvalidArgument (nothing is counted).
  static Task<Result<LimitDecision>> Hit(RedisCommander& redis, const std::string& key,
                                         RateLimit limit);
};

// Seconds for a Retry-After header from Redis milliseconds (PTTL): rounded up,
// at least 1, so that a client that waits that long finds a new window.
std::chrono::seconds RetryAfterFromMillis(std::int64_t ms);

}  // namespace tchat::redis
