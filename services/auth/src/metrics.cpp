#include "metrics.hpp"

namespace tchat::auth {

Metrics& Metrics::Get() {
  static Metrics m = [] {
    auto& reg = metrics::Registry::Default();
    Metrics x{};
    auto& signins =
        reg.AddCounter("auth_signins_total", "Successful sign-ins by method.", {"method"});
    x.signins_otp = &signins.With({"otp"});
    x.signins_password = &signins.With({"password"});
    x.users_created =
        &reg.AddCounter("auth_users_created_total", "Users created by a first OTP sign-in.")
             .With({});
    x.otp_sent =
        &reg.AddCounter("auth_otp_sent_total", "Sign-in codes issued and queued for SMS.").With({});
    x.otp_verified = &reg.AddCounter("auth_otp_verified_total", "Sign-in codes verified.").With({});
    auto& failed =
        reg.AddCounter("auth_otp_failed_total", "Failed code verifications by reason.", {"reason"});
    x.otp_failed_wrong = &failed.With({"wrong"});
    x.otp_failed_no_code = &failed.With({"no_code"});
    x.otp_failed_burned = &failed.With({"burned"});
    x.otp_failed_rate_limited = &failed.With({"rate_limited"});
    auto& limited =
        reg.AddCounter("auth_otp_rate_limited_total", "Refused code requests by limit.", {"limit"});
    x.otp_limited_ip = &limited.With({"ip"});
    x.otp_limited_cooldown = &limited.With({"cooldown"});
    x.otp_limited_number = &limited.With({"number"});
    auto& refresh =
        reg.AddCounter("auth_token_refreshes_total", "Refresh-token uses by result.", {"result"});
    x.refresh_ok = &refresh.With({"ok"});
    x.refresh_invalid = &refresh.With({"invalid"});
    x.refresh_revoked = &refresh.With({"revoked"});
    x.refresh_reused = &refresh.With({"reused"});
    x.login_failures = &reg.AddCounter("auth_login_failures_total",
                                       "Password sign-ins refused for wrong credentials.")
                            .With({});
    auto& lock =
        reg.AddCounter("auth_lockouts_total", "Password lock-outs started, by kind.", {"kind"});
    x.lockout_account_ip = &lock.With({"account_ip"});
    x.lockout_account = &lock.With({"account"});
    x.lockout_ip = &lock.With({"ip"});
    auto& revoked =
        reg.AddCounter("auth_sessions_revoked_total", "Sessions revoked, by reason.", {"reason"});
    x.revoked_logout = &revoked.With({"logout"});
    x.revoked_user = &revoked.With({"revoked"});
    x.revoked_evicted = &revoked.With({"evicted"});
    x.revoked_reuse = &revoked.With({"refresh_token_reuse"});
    x.revoked_password = &revoked.With({"password_changed"});
    auto& lookups = reg.AddCounter("auth_user_lookups_total",
                                   "Contact lookups by phone or username, by result.", {"result"});
    x.lookups_found = &lookups.With({"found"});
    x.lookups_missing = &lookups.With({"missing"});
    x.lookups_limited = &lookups.With({"rate_limited"});
    return x;
  }();
  return m;
}

}  // namespace tchat::auth
