#include <vector>

#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/redis/reply.hpp>
#include <tchat/core/redis/script.hpp>

namespace tchat::redis {

namespace {

// KEYS: counter; ARGV: window ms. Returns {events in the window, ms until it ends}.
const RedisScript& HitScript() {
  static const RedisScript script(R"lua(
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
)lua");
  return script;
}

}  // namespace

std::chrono::seconds RetryAfterFromMillis(std::int64_t ms) {
  if (ms <= 0) return std::chrono::seconds(1);
  return std::chrono::seconds((ms + 999) / 1000);
}

Task<Result<LimitDecision>> RateLimiter::Hit(RedisCommander& redis, const std::string& key,
                                             RateLimit limit) {
  if (limit.window.count() < 1) {
    co_return Error::InvalidArgument("rate limiter: the window must be at least 1 ms");
  }
  const std::vector<std::string> keys{key};
  const std::vector<std::string> args{std::to_string(limit.window.count())};
  auto r = co_await HitScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 2 || !r->elements[0].IsInteger() ||
      !r->elements[1].IsInteger()) {
    co_return Error::Internal("rate limiter: bad reply");
  }
  LimitDecision d;
  d.count = r->elements[0].integer;
  d.allowed = d.count <= limit.count;
  d.retry_after = RetryAfterFromMillis(r->elements[1].integer);
  co_return d;
}

}  // namespace tchat::redis
