#pragma once

#include <tchat/core/metrics.hpp>

namespace tchat::auth {

// The auth service's own counters (registered once in the default registry;
// every member is a cached series, so hot paths only do an atomic add).
// Thread-safe.
struct Metrics {
  // auth_signins_total{method}
  metrics::Counter* signins_otp;
  metrics::Counter* signins_password;
  // auth_users_created_total
  metrics::Counter* users_created;
  // auth_otp_sent_total (a code was issued and its SMS queued)
  metrics::Counter* otp_sent;
  // auth_otp_verified_total
  metrics::Counter* otp_verified;
  // auth_otp_failed_total{reason}
  metrics::Counter* otp_failed_wrong;
  metrics::Counter* otp_failed_no_code;
  metrics::Counter* otp_failed_burned;
  metrics::Counter* otp_failed_rate_limited;
  // auth_otp_rate_limited_total{limit}: refused code requests
  metrics::Counter* otp_limited_ip;
  metrics::Counter* otp_limited_cooldown;
  metrics::Counter* otp_limited_number;
  // auth_token_refreshes_total{result}
  metrics::Counter* refresh_ok;
  metrics::Counter* refresh_invalid;
  metrics::Counter* refresh_revoked;
  metrics::Counter* refresh_reused;
  // auth_login_failures_total
  metrics::Counter* login_failures;
  // auth_lockouts_total{kind}
  metrics::Counter* lockout_account_ip;
  metrics::Counter* lockout_account;
  metrics::Counter* lockout_ip;
  // auth_sessions_revoked_total{reason}
  metrics::Counter* revoked_logout;
  metrics::Counter* revoked_user;
  metrics::Counter* revoked_evicted;
  metrics::Counter* revoked_reuse;
  metrics::Counter* revoked_password;
  // auth_user_lookups_total{result}
  metrics::Counter* lookups_found;
  metrics::Counter* lookups_missing;
  metrics::Counter* lookups_limited;

  static Metrics& Get();
};

}  // namespace tchat::auth
