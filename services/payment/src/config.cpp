#include "config.hpp"

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

const CurrencyLimits& Config::LimitsFor(const CurrencyInfo& currency) const {
  const auto all = Currencies();
  return limits[static_cast<std::size_t>(&currency - all.data())];
}

Result<Config> LoadConfig(const ConfigReader& reader, const CommonConfig& common) {
  Config c;
  c.admin_token = common.admin_token;
  c.webhook_secret = common.psp_webhook_secret;
  ConfigLoader load;
  const auto all = Currencies();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const CurrencyInfo& cur = all[i];
    const std::string code(cur.code);
    CurrencyLimits& l = c.limits[i];
    load.Read(l.daily, ReadLimit(reader, "PAYMENT_DAILY_LIMIT_" + code, cur.default_daily_major,
                                 cur.minor_units));
    load.Read(l.monthly, ReadLimit(reader, "PAYMENT_MONTHLY_LIMIT_" + code,
                                   cur.default_monthly_major, cur.minor_units));
    load.Read(l.per_transfer, ReadLimit(reader, "PAYMENT_TRANSFER_LIMIT_" + code,
                                        cur.default_daily_major, cur.minor_units));
  }

  load.Read(c.idempotency_ttl, reader.Duration("PAYMENT_IDEMPOTENCY_TTL", c.idempotency_ttl));
  load.Require(c.idempotency_ttl >= std::chrono::hours(24), "PAYMENT_IDEMPOTENCY_TTL",
               "must be at least 24h");
  load.Read(c.batch_max_size, reader.Int("PAYMENT_BATCH_MAX_SIZE", c.batch_max_size, 1, 1000));
  load.Read(c.batch_max_inflight,
            reader.Int("PAYMENT_BATCH_MAX_INFLIGHT", c.batch_max_inflight, 1, 256));
  load.Read(c.batch_min_fill, reader.Int("PAYMENT_BATCH_MIN_FILL", c.batch_min_fill, 1, 1000));
  load.Read(c.batch_linger, reader.Duration("PAYMENT_BATCH_LINGER", std::chrono::milliseconds(3)));
  load.Require(c.batch_linger <= std::chrono::milliseconds(100), "PAYMENT_BATCH_LINGER",
               "at most 100ms");

  load.Read(c.outbox_poll_interval,
            reader.Duration("PAYMENT_OUTBOX_POLL_INTERVAL", c.outbox_poll_interval));
  load.Require(c.outbox_poll_interval.count() > 0, "PAYMENT_OUTBOX_POLL_INTERVAL",
               "must be positive");
  load.Read(c.outbox_retention, reader.Duration("PAYMENT_OUTBOX_RETENTION", c.outbox_retention));

  load.Read(c.money_rate_limit.count, reader.Int("PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE",
                                                 c.money_rate_limit.count, 1, 100'000'000));

  load.Read(c.auth_url, reader.String("TCHAT_AUTH_URL", ""));
  load.Require(c.auth_url.starts_with("http://") || c.auth_url.starts_with("https://"),
               "TCHAT_AUTH_URL",
               "required: the auth service's base URL (http://host:port), where transfers and "
               "payment requests check that the other user exists");
  load.Read(c.auth_timeout, reader.Duration("PAYMENT_AUTH_TIMEOUT", c.auth_timeout));
  load.Require(c.auth_timeout >= std::chrono::milliseconds(100) &&
                   c.auth_timeout <= std::chrono::seconds(10),
               "PAYMENT_AUTH_TIMEOUT", "must be between 100ms and 10s");
  return std::move(load).Finish(std::move(c));
}

}  // namespace tchat::payment
