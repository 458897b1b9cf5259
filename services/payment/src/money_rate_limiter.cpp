#include "money_rate_limiter.hpp"

#include <tchat/core/log.hpp>
#include <tchat/core/redis/client.hpp>

#include "metrics.hpp"

namespace tchat::payment {

namespace {

constexpr std::string_view kKeyPrefix = "tchat:payment:ratelimit:money:";
constexpr auto kWarnEvery = std::chrono::seconds(10);

}  // namespace

MoneyRateLimiter::MoneyRateLimiter(redis::RedisClient* redis, redis::RateLimit limit)
    : redis_(redis), limit_(limit) {}

std::string MoneyRateLimiter::Key(std::string_view user_id) {
  std::string k(kKeyPrefix);
  k += user_id;
  return k;
}

Task<Status> MoneyRateLimiter::Admit(const std::string& user_id, std::string_view route) {
  if (redis_ == nullptr) co_return Ok();
  auto d = co_await redis::RateLimiter::Hit(*redis_, Key(user_id), limit_);
  if (!d) {
    Metrics::Get().RateLimitError();
    WarnFailOpen(d.error(), route);
    co_return Ok();
  }
  if (d->allowed) co_return Ok();
  Metrics::Get().RateLimited(route).Inc();
  co_return Error::RateLimited("too many payment requests; try again later", d->retry_after);
}

void MoneyRateLimiter::WarnFailOpen(const Error& e, std::string_view route) {
  ++unwarned_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_warning_) return;
  next_warning_ = now + kWarnEvery;
  log::Warn("payment rate limit unchecked: Redis failed, request admitted (fail open)",
            {{"error", e.message}, {"route", route}, {"admitted_unchecked", unwarned_}});
  unwarned_ = 0;
}

}  // namespace tchat::payment
