#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {
class RedisClient;
}

namespace tchat::payment {

// The per-user rate limit on requests that move or commit money ("rate limits on
// anything that costs money"): one fixed window per user in Redis, shared by
// POST /v1/transfers, /v1/transfers/{id}/refund, /v1/payment-requests,
// /v1/payment-requests/{id}/pay, /v1/topups and /v1/withdrawals (RegisterRoutes),
// keyed "tchat:payment:ratelimit:money:<user id>". Every request to those routes
// counts, replays of an Idempotency-Key included; a refused one is answered
// before any parsing or database work, so it changes nothing.
//
// Failure policy: fail open. When Redis cannot answer (down, timed out after
// redis_read_timeout, a bad reply) the request is admitted, a warning is logged
// (at most every 10 s per worker) and payment_rate_limit_errors_total counts it.
// The limit protects capacity and slows abuse; what keeps money correct (balances
// that never go negative, the per-transfer, daily and monthly amount limits,
// idempotency) lives in PostgreSQL, so an outage of Redis should not stop
// payments. Without REDIS_URL there is no limiter at all (warned at start-up).
//
// One per worker, used only on that worker's thread; the Redis client is the
// worker's own and outlives it.
class MoneyRateLimiter {
 public:
  // `redis` null: no Redis configured, every request is admitted.
  MoneyRateLimiter(redis::RedisClient* redis, redis::RateLimit limit);

  // Counts one request of `user_id` (canonical UUID) to `route` (its template,
  // a string literal: the metrics label). Ok: go on. kRateLimited with retry_after (seconds until
  // the user's window ends, >= 1): refuse, counted in payment_rate_limited_total. Never any other
  // error (see the failure policy).
  Task<Status> Admit(const std::string& user_id, std::string_view route);

  // The Redis key of `user_id`'s window.
  static std::string Key(std::string_view user_id);

 private:
  void WarnFailOpen(const Error& e, std::string_view route);

  redis::RedisClient* redis_;
  redis::RateLimit limit_;
  std::chrono::steady_clock::time_point next_warning_{};
  std::int64_t unwarned_ = 0;  // failures since the last warning
};

}  // namespace tchat::payment
