#include "config.hpp"

#include <tchat/core/sealed_box.hpp>

namespace tchat::auth {

namespace {

Result<std::chrono::seconds> Seconds(const ConfigReader& r, std::string_view key,
                                     std::chrono::seconds fallback, std::chrono::seconds min,
                                     std::chrono::seconds max) {
  auto d = r.Duration(key, fallback);
  if (!d) return std::move(d).error();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (s < min || s > max) {
    return Error::InvalidArgument("config " + std::string(key) + ": must be between " +
                                  std::to_string(min.count()) + "s and " +
                                  std::to_string(max.count()) + "s");
  }
  return s;
}

Result<std::chrono::milliseconds> Millis(const ConfigReader& r, std::string_view key,
                                         std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min) {
  auto d = r.Duration(key, fallback);
  if (!d) return std::move(d).error();
  if (*d < min) {
    return Error::InvalidArgument("config " + std::string(key) + ": must be at least " +
                                  std::to_string(min.count()) + "ms");
  }
  return *d;
}

// The outbox relay's pace and how long ended sessions are kept.
void ReadOutboxAndSessionKeys(const ConfigReader& r, ConfigLoader& load, Config& c) {
  load.Read(c.outbox_poll_interval, Millis(r, "AUTH_OUTBOX_POLL_INTERVAL", c.outbox_poll_interval,
                                           std::chrono::milliseconds(10)));
  load.Read(c.outbox_retention,
            Millis(r, "AUTH_OUTBOX_RETENTION", c.outbox_retention, std::chrono::milliseconds(0)));
  load.Read(c.session_retention,
            Millis(r, "AUTH_SESSION_RETENTION", c.session_retention, std::chrono::hours(1)));
}

// The payment service, asked to close the wallets before an account deletion.
void ReadPaymentKeys(const ConfigReader& r, ConfigLoader& load, Config& c) {
  load.Read(c.payment_url, r.String("TCHAT_PAYMENT_URL", ""));
  load.Require(c.payment_url.empty() || c.payment_url.starts_with("http://") ||
                   c.payment_url.starts_with("https://"),
               "TCHAT_PAYMENT_URL", "must be an http:// or https:// URL");
  load.Read(c.payment_timeout,
            Millis(r, "AUTH_PAYMENT_TIMEOUT", c.payment_timeout, std::chrono::milliseconds(100)));
}

}  // namespace

Result<Config> LoadConfig(const ConfigReader& r, const CommonConfig& common) {
  using std::chrono::seconds;
  Config c;
  c.dev_otp = common.dev_otp;
  if (c.dev_otp) {
    // A development stack: one host runs whole test suites.
    c.otp_per_ip.count = 5000;
    c.otp_verify_per_ip.count = 10000;
    c.login_failures_per_ip.count = 2000;
    c.login_per_ip.count = 10000;
    c.lookup_per_ip.count = 10000;
    c.lookup_per_user.count = 1000;
  }
  ConfigLoader load;
  load.Read(c.key_file, r.String("TCHAT_JWT_KEY_FILE", ""));
  load.Read(c.otp_pepper, r.String("TCHAT_OTP_PEPPER", ""));
  load.Require(c.otp_pepper.empty() || c.otp_pepper.size() >= 16, "TCHAT_OTP_PEPPER",
               "must be at least 16 characters");
  load.Read(c.notification_seal_public_key, r.String("TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY", ""));
  load.Require(static_cast<bool>(SealedBoxSender::FromPublicKeyHex(c.notification_seal_public_key)),
               "TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY",
               "required: the notification service's 64-hex-digit X25519 public key, to which OTP "
               "codes are sealed (scripts/start.sh generates it in secrets.env)");

  load.Read(c.access_token_ttl,
            Seconds(r, "AUTH_ACCESS_TOKEN_TTL", c.access_token_ttl, seconds(60), seconds(3600)));
  load.Read(c.refresh_token_ttl, Seconds(r, "AUTH_REFRESH_TOKEN_TTL", c.refresh_token_ttl,
                                         seconds(600), seconds(365LL * 24 * 3600)));
  load.Read(c.max_sessions_per_user,
            r.Int("AUTH_MAX_SESSIONS_PER_USER", c.max_sessions_per_user, 1, 200));

  load.Read(c.otp_ttl, Seconds(r, "AUTH_OTP_TTL", c.otp_ttl, seconds(1), seconds(3600)));
  load.Read(c.otp_resend_cooldown, Seconds(r, "AUTH_OTP_RESEND_COOLDOWN", c.otp_resend_cooldown,
                                           seconds(0), seconds(3600)));
  load.Read(c.otp_max_attempts, r.Int("AUTH_OTP_MAX_ATTEMPTS", c.otp_max_attempts, 1, 20));
  load.Read(c.otp_per_number.count,
            r.Int("AUTH_OTP_PER_NUMBER_PER_HOUR", c.otp_per_number.count, 1, 1'000'000));
  load.Read(c.otp_per_ip.count,
            r.Int("AUTH_OTP_PER_IP_PER_HOUR", c.otp_per_ip.count, 1, 100'000'000));
  load.Read(c.otp_verify_per_ip.count,
            r.Int("AUTH_OTP_VERIFY_PER_IP_PER_HOUR", c.otp_verify_per_ip.count, 1, 100'000'000));

  load.Read(c.login_failures_before_lock,
            r.Int("AUTH_LOGIN_FAILURES_BEFORE_LOCK", c.login_failures_before_lock, 1, 1000));
  load.Read(c.account_failures_before_lock,
            r.Int("AUTH_ACCOUNT_FAILURES_BEFORE_LOCK", c.account_failures_before_lock, 1, 100000));
  load.Read(c.login_failure_window, Millis(r, "AUTH_LOGIN_FAILURE_WINDOW", c.login_failure_window,
                                           std::chrono::seconds(1)));
  load.Read(c.login_lock_base,
            Millis(r, "AUTH_LOGIN_LOCK_BASE", c.login_lock_base, std::chrono::seconds(1)));
  load.Read(c.login_lock_max,
            Millis(r, "AUTH_LOGIN_LOCK_MAX", c.login_lock_max, std::chrono::seconds(1)));
  load.Require(c.login_lock_max >= c.login_lock_base, "AUTH_LOGIN_LOCK_MAX",
               "must not be below AUTH_LOGIN_LOCK_BASE");
  load.Require(c.login_lock_max <= std::chrono::hours(24), "AUTH_LOGIN_LOCK_MAX",
               "at most 24h (lock-outs must end)");
  load.Read(c.login_failures_per_ip.count, r.Int("AUTH_LOGIN_FAILURES_PER_IP_PER_HOUR",
                                                 c.login_failures_per_ip.count, 1, 100'000'000));
  load.Read(c.login_per_ip.count,
            r.Int("AUTH_LOGIN_PER_IP_PER_HOUR", c.login_per_ip.count, 1, 100'000'000));
  load.Read(c.lookup_per_user.count,
            r.Int("AUTH_LOOKUP_PER_USER_PER_HOUR", c.lookup_per_user.count, 1, 100'000'000));
  load.Read(c.lookup_per_ip.count,
            r.Int("AUTH_LOOKUP_PER_IP_PER_HOUR", c.lookup_per_ip.count, 1, 100'000'000));

  load.Read(c.password_opslimit, r.Int("AUTH_PASSWORD_OPSLIMIT", c.password_opslimit, 1, 20));
  load.Read(c.password_memlimit, r.Int("AUTH_PASSWORD_MEMLIMIT", c.password_memlimit, 8LL * 1024,
                                       4LL * 1024 * 1024 * 1024));
  load.Read(c.password_threads, r.Int("AUTH_PASSWORD_THREADS", c.password_threads, 0, 256));
  load.Read(c.password_max_queue,
            r.Int("AUTH_PASSWORD_MAX_QUEUE", c.password_max_queue, 1, 100000));

  ReadOutboxAndSessionKeys(r, load, c);
  ReadPaymentKeys(r, load, c);
  return std::move(load).Finish(std::move(c));
}

}  // namespace tchat::auth
