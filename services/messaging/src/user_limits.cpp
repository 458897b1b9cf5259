#include "user_limits.hpp"

#include <tchat/core/log.hpp>
#include <tchat/core/redis/client.hpp>

#include "metrics.hpp"

namespace tchat::messaging {

namespace {

constexpr auto kWarnEvery = std::chrono::seconds(10);

struct KindInfo {
  std::string_view name;
  std::string_view refusal;
};

KindInfo Info(UserLimits::Kind kind) {
  switch (kind) {
    case UserLimits::Kind::kMessage:
      return {"messages", "too many messages; slow down"};
    case UserLimits::Kind::kTyping:
      return {"typing", "too many typing events; slow down"};
    case UserLimits::Kind::kGroup:
      return {"groups", "too many groups created; try again later"};
    case UserLimits::Kind::kConnection:
      return {"connections", "too many connections opened; try again later"};
    case UserLimits::Kind::kSearch:
      return {"searches", "too many searches; slow down"};
    case UserLimits::Kind::kUpload:
      return {"uploads", "too many uploads; slow down"};
  }
  return {"other", "too many requests"};
}

}  // namespace

UserLimits::UserLimits(redis::RedisCommander& redis, UserLimitsOptions options)
    : redis_(redis), options_(std::move(options)) {}

Task<Status> UserLimits::Admit(Kind kind, const std::string& user_id) {
  redis::RateLimit limit;
  switch (kind) {
    case Kind::kMessage:
      limit = options_.messages;
      break;
    case Kind::kTyping:
      limit = options_.typing;
      break;
    case Kind::kGroup:
      limit = options_.groups;
      break;
    case Kind::kConnection:
      limit = options_.connections;
      break;
    case Kind::kSearch:
      limit = options_.searches;
      break;
    case Kind::kUpload:
      limit = options_.uploads;
      break;
  }
  if (limit.count <= 0) co_return Ok();
  const KindInfo info = Info(kind);
  std::string key = options_.prefix;
  key += "limit:";
  key += info.name;
  key += ':';
  key += user_id;
  auto d = co_await redis::RateLimiter::Hit(redis_, key, limit);
  if (!d) {
    WarnFailOpen(d.error());
    co_return Ok();
  }
  if (d->allowed) co_return Ok();
  Metrics::Get().rate_limited->Inc();
  co_return Error::RateLimited(std::string(info.refusal), d->retry_after);
}

void UserLimits::WarnFailOpen(const Error& e) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_warning_) return;
  next_warning_ = now + kWarnEvery;
  log::Warn("messaging rate limit unchecked: Redis failed, action admitted (fail open)",
            {{"error", e.message}});
}

}  // namespace tchat::messaging
