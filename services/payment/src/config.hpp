#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include <tchat/core/config.hpp>
#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/result.hpp>

#include "money.hpp"

namespace tchat::payment {

// Outgoing-transfer limits of one currency, in minor units.
struct CurrencyLimits {
  std::int64_t per_transfer = 0;
  std::int64_t daily = 0;
  std::int64_t monthly = 0;
};

// The payment service's own settings, read once at start-up; immutable and shared
// by every worker afterwards.
//
// Keys (environment, looked up as written and in upper case), amounts in major
// units: PAYMENT_TRANSFER_LIMIT_<CUR> (default: the daily limit),
// PAYMENT_DAILY_LIMIT_<CUR>, PAYMENT_MONTHLY_LIMIT_<CUR> (defaults: docs/api/openapi.yaml,
// payment); PAYMENT_IDEMPOTENCY_TTL ("24h", at least 24h); PAYMENT_BATCH_MAX_SIZE (64) and
// PAYMENT_BATCH_MAX_INFLIGHT (3 per process), PAYMENT_BATCH_MIN_FILL (16) and
// PAYMENT_BATCH_LINGER ("3ms"; see TransferBatcher); PAYMENT_OUTBOX_POLL_INTERVAL ("200ms");
// PAYMENT_OUTBOX_RETENTION ("24h"); PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE (120: money
// operations one user may start per minute, see MoneyRateLimiter; far above what a
// person does, low enough to stop a script; test stacks and benchmarks raise it).
// TCHAT_AUTH_URL (required: the auth service's base URL, http:// or https://; every
// transfer and payment request checks there that the other user exists, see
// UserDirectory) and PAYMENT_AUTH_TIMEOUT ("2s", 100ms to 10s: past it the request
// is refused with 503). TCHAT_ADMIN_TOKEN and TCHAT_PSP_WEBHOOK_SECRET come from the
// common configuration.
struct Config {
  std::array<CurrencyLimits, 7> limits{};  // parallel to Currencies()
  std::string admin_token;
  std::string webhook_secret;
  std::string auth_url;
  std::chrono::milliseconds auth_timeout = std::chrono::seconds(2);
  std::chrono::seconds webhook_tolerance{300};
  std::chrono::milliseconds idempotency_ttl = std::chrono::hours(24);
  int batch_max_size = 64;
  // Fewer, fuller batches: with 64 clients on uniform accounts, 3 in flight of at
  // least 16 gave 1.53-1.68x pgbench's tpcb-like TPS where 8 of 8 gave 1.06x
  // (bench/payment_bench.sh, side by side), and a lower p99 (23 ms against 50).
  int batch_max_inflight = 3;
  int batch_min_fill = 16;
  std::chrono::microseconds batch_linger{3000};
  std::chrono::milliseconds outbox_poll_interval{200};
  std::chrono::milliseconds outbox_retention = std::chrono::hours(24);
  // Requests that move or commit money, per user (all such endpoints together).
  redis::RateLimit money_rate_limit{120, std::chrono::minutes(1)};

  const CurrencyLimits& LimitsFor(const CurrencyInfo& currency) const;
};

// A bad value is kInvalidArgument naming the key.
Result<Config> LoadConfig(const ConfigReader& reader, const CommonConfig& common);

}  // namespace tchat::payment
