#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <tchat/core/config.hpp>
#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/result.hpp>

namespace tchat::auth {

// Fixed-window limits (at most `count` events per `window`) are core's.
using redis::RateLimit;

// Settings of the auth service beyond CommonConfig. Every key is read with
// ConfigReader (as written, then upper case); a bad value stops start-up with a
// message naming the key. Limits default to production values, except that with
// TCHAT_DEV_OTP=1 (a development stack only) the per-address limits default to
// values that let a test suite sign in hundreds of users an hour from one host.
struct Config {
  // Signing keys: TCHAT_JWT_KEY_FILE, a JSON file {"active":{"kid","seed"},
  // "previous":{...}?} (see signing_keys.hpp). Empty: an ephemeral key (warned).
  std::string key_file;
  // TCHAT_OTP_PEPPER: the HMAC key of stored OTP hashes. Empty: derived from the
  // active signing key, so replicas that share the key file agree.
  std::string otp_pepper;
  // TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY (required): the notification service's
  // X25519 public key, 64 hex digits. OTP codes leave auth only sealed to it, so
  // no code is readable in the outbox, the event stream or notification's queue.
  std::string notification_seal_public_key;

  std::chrono::seconds access_token_ttl{15 * 60};          // AUTH_ACCESS_TOKEN_TTL
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};  // AUTH_REFRESH_TOKEN_TTL
  int max_sessions_per_user = 10;                          // AUTH_MAX_SESSIONS_PER_USER

  std::chrono::seconds otp_ttl{300};                        // AUTH_OTP_TTL
  std::chrono::seconds otp_resend_cooldown{60};             // AUTH_OTP_RESEND_COOLDOWN
  int otp_max_attempts = 5;                                 // AUTH_OTP_MAX_ATTEMPTS
  RateLimit otp_per_number{5, std::chrono::hours(1)};       // AUTH_OTP_PER_NUMBER_PER_HOUR
  RateLimit otp_per_ip{30, std::chrono::hours(1)};          // AUTH_OTP_PER_IP_PER_HOUR
  RateLimit otp_verify_per_ip{120, std::chrono::hours(1)};  // AUTH_OTP_VERIFY_PER_IP_PER_HOUR

  // Password sign-in lock-out ("slow down, don't brick"): after
  // login_failures_before_lock failures of one account from one address within
  // login_failure_window, that pair is locked for login_lock_base, doubling with
  // every further failure up to login_lock_max. Failures of one account from all
  // addresses lock it (password only; OTP sign-in still works and clears it)
  // after account_failures_before_lock, for at most login_lock_max. An address
  // with login_failures_per_ip failures per hour is refused for the rest of it.
  int login_failures_before_lock = 5;     // AUTH_LOGIN_FAILURES_BEFORE_LOCK
  int account_failures_before_lock = 20;  // AUTH_ACCOUNT_FAILURES_BEFORE_LOCK
  std::chrono::milliseconds login_failure_window{15 * 60 * 1000};  // AUTH_LOGIN_FAILURE_WINDOW
  std::chrono::milliseconds login_lock_base{30 * 1000};            // AUTH_LOGIN_LOCK_BASE
  std::chrono::milliseconds login_lock_max{15 * 60 * 1000};        // AUTH_LOGIN_LOCK_MAX
  // AUTH_LOGIN_FAILURES_PER_IP_PER_HOUR
  RateLimit login_failures_per_ip{100, std::chrono::hours(1)};
  RateLimit login_per_ip{300, std::chrono::hours(1)};  // AUTH_LOGIN_PER_IP_PER_HOUR

  RateLimit lookup_per_user{100, std::chrono::hours(1)};  // AUTH_LOOKUP_PER_USER_PER_HOUR
  RateLimit lookup_per_ip{300, std::chrono::hours(1)};    // AUTH_LOOKUP_PER_IP_PER_HOUR

  // Argon2id (crypto_pwhash) cost and the threads that compute it off the loops.
  std::int64_t password_opslimit = 2;                   // AUTH_PASSWORD_OPSLIMIT
  std::int64_t password_memlimit = 64LL * 1024 * 1024;  // AUTH_PASSWORD_MEMLIMIT (bytes)
  int password_threads = 0;                             // AUTH_PASSWORD_THREADS (0: one per core)
  int password_max_queue = 64;                          // AUTH_PASSWORD_MAX_QUEUE

  std::chrono::milliseconds outbox_poll_interval{250};         // AUTH_OUTBOX_POLL_INTERVAL
  std::chrono::milliseconds outbox_retention{60 * 60 * 1000};  // AUTH_OUTBOX_RETENTION
  // Revoked/expired sessions and used refresh tokens are kept this long after
  // they end (reuse detection, audit), then deleted.
  std::chrono::milliseconds session_retention{7LL * 24 * 3600 * 1000};  // AUTH_SESSION_RETENTION

  // TCHAT_PAYMENT_URL: the payment service, asked to close the user's wallets
  // (POST /v1/wallets/close, with the user's own token) before an account is
  // deleted. Empty: DELETE /v1/users/me answers 503 (nothing is deleted).
  std::string payment_url;
  std::chrono::milliseconds payment_timeout{5000};  // AUTH_PAYMENT_TIMEOUT

  bool dev_otp = false;  // from CommonConfig (TCHAT_DEV_OTP)
};

Result<Config> LoadConfig(const ConfigReader& reader, const CommonConfig& common);

}  // namespace tchat::auth
