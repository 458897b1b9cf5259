#include "payment_config.hpp"

#include <string>

namespace tchat::payment {
namespace {

// Large enough for any real limit, small enough that sums of a month of transfers
// stay far from int64 overflow.
constexpr std::int64_t kMaxLimitMajor = 1'000'000'000'000'000;

Result<std::int64_t> ReadLimit(const ConfigReader& reader, const std::string& key,
                               std::int64_t fallback_major, int minor_units) {
  auto major = reader.Int(key, fallback_major, 1, kMaxLimitMajor);
  if (!major) return std::move(major).error();
  auto minor = MajorToMinor(*major, minor_units);
  if (!minor) return Error::InvalidArgument("config " + key + ": amount overflows");
  return *minor;
}

}  // namespace

const CurrencyLimits& PaymentConfig::LimitsFor(const CurrencyInfo& currency) const {
  const auto all = Currencies();
  return limits[static_cast<std::size_t>(&currency - all.data())];
}

Result<PaymentConfig> LoadPaymentConfig(const CommonConfig& common, const ConfigReader& reader) {
  PaymentConfig c;
  c.admin_token = common.admin_token;
  c.webhook_secret = common.psp_webhook_secret;
  const auto all = Currencies();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const CurrencyInfo& cur = all[i];
    const std::string code(cur.code);
    auto daily =
        ReadLimit(reader, "PAYMENT_DAILY_LIMIT_" + code, cur.default_daily_major, cur.minor_units);
    if (!daily) return std::move(daily).error();
    auto monthly = ReadLimit(reader, "PAYMENT_MONTHLY_LIMIT_" + code, cur.default_monthly_major,
                             cur.minor_units);
    if (!monthly) return std::move(monthly).error();
    auto per = ReadLimit(reader, "PAYMENT_TRANSFER_LIMIT_" + code, cur.default_daily_major,
                         cur.minor_units);
    if (!per) return std::move(per).error();
    c.limits[i] = CurrencyLimits{*per, *daily, *monthly};
  }

  auto ttl = reader.Duration("PAYMENT_IDEMPOTENCY_TTL", c.idempotency_ttl);
  if (!ttl) return std::move(ttl).error();
  if (*ttl < std::chrono::hours(24)) {
    return Error::InvalidArgument("config PAYMENT_IDEMPOTENCY_TTL: must be at least 24h");
  }
  c.idempotency_ttl = *ttl;

  auto size = reader.Int("PAYMENT_BATCH_MAX_SIZE", c.batch_max_size, 1, 1000);
  if (!size) return std::move(size).error();
  c.batch_max_size = static_cast<int>(*size);
  auto inflight = reader.Int("PAYMENT_BATCH_MAX_INFLIGHT", c.batch_max_inflight, 1, 256);
  if (!inflight) return std::move(inflight).error();
  c.batch_max_inflight = static_cast<int>(*inflight);
  auto fill = reader.Int("PAYMENT_BATCH_MIN_FILL", c.batch_min_fill, 1, 1000);
  if (!fill) return std::move(fill).error();
  c.batch_min_fill = static_cast<int>(*fill);
  auto linger = reader.Duration("PAYMENT_BATCH_LINGER", std::chrono::milliseconds(3));
  if (!linger) return std::move(linger).error();
  if (*linger > std::chrono::milliseconds(100)) {
    return Error::InvalidArgument("config PAYMENT_BATCH_LINGER: at most 100ms");
  }
  c.batch_linger = std::chrono::duration_cast<std::chrono::microseconds>(*linger);

  auto poll = reader.Duration("PAYMENT_OUTBOX_POLL_INTERVAL", c.outbox_poll_interval);
  if (!poll) return std::move(poll).error();
  if (poll->count() <= 0) {
    return Error::InvalidArgument("config PAYMENT_OUTBOX_POLL_INTERVAL: must be positive");
  }
  c.outbox_poll_interval = *poll;
  auto retention = reader.Duration("PAYMENT_OUTBOX_RETENTION", c.outbox_retention);
  if (!retention) return std::move(retention).error();
  c.outbox_retention = *retention;

  auto per_minute = reader.Int("PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE", c.money_rate_limit.count,
                               1, 100'000'000);
  if (!per_minute) return std::move(per_minute).error();
  c.money_rate_limit = redis::RateLimit{*per_minute, std::chrono::minutes(1)};
  return c;
}

}  // namespace tchat::payment
