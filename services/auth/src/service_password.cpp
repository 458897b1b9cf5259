// AuthService: setting, changing, removing and resetting a password. Every change needs a
// proof besides the session (the current password, or a code sent to the phone
// for this purpose), ends the user's other sessions and tells their devices
// (auth.password.changed, docs/ARCHITECTURE.md "Events between services").
#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/log.hpp>

#include "metrics.hpp"
#include "phone.hpp"
#include "service.hpp"
#include "validation.hpp"

namespace tchat::auth {

Task<Status> AuthService::CheckCurrentPassword(const Caller& caller, const std::string& stored,
                                               std::string current, std::string_view ip) {
  auto& m = Metrics::Get();
  if (stored.empty()) {
    co_return Error::InvalidArgument(
        "no password is set: prove the change with otp_code (purpose password)");
  }
  if (Status st = co_await deps_->guard->Check(redis_, caller.user_id, ip); !st) co_return st;
  auto v = co_await deps_->hasher->Verify(stored, std::move(current));
  if (!v) co_return std::move(v).error();
  if (!*v) {
    m.login_failures->Inc();
    auto ev = co_await deps_->guard->RecordFailure(redis_, caller.user_id, ip);
    if (ev && ev->account_ip) m.lockout_account_ip->Inc();
    if (ev && ev->account) m.lockout_account->Inc();
    co_return Error::PermissionDenied("current_password is wrong");
  }
  (void)co_await deps_->guard->RecordSuccess(redis_, caller.user_id, ip);
  co_return Ok();
}

Task<Status> AuthService::CheckPasswordCode(const Caller& caller, std::string_view code,
                                            std::string_view ip) {
  if (Status st = ValidateOtpCode(code); !st) co_return st;
  auto user = co_await store_.GetUser(caller.user_id);
  if (!user) co_return std::move(user).error();
  if (!*user) co_return Error::NotFound("user not found");
  Status st = co_await CheckCode((*user)->phone, ip, code, OtpPurpose::kPassword);
  // A wrong proof from a signed-in session is a refusal, not a sign-in failure.
  if (!st && st.error().code == ErrorCode::kUnauthenticated) {
    co_return Error::PermissionDenied("otp_code: " + st.error().message);
  }
  co_return st;
}

Task<Status> AuthService::CheckProof(const Caller& caller, const std::string& stored,
                                     std::optional<std::string> current_password,
                                     std::optional<std::string> otp_code, std::string_view ip) {
  // A session alone (however it was obtained: a stolen access or refresh token
  // mints fresh ones) never proves enough: the current password or a code sent
  // to the phone must come with the request.
  if (current_password && !current_password->empty()) {
    co_return co_await CheckCurrentPassword(caller, stored, std::move(*current_password), ip);
  }
  if (otp_code && !otp_code->empty()) co_return co_await CheckPasswordCode(caller, *otp_code, ip);
  co_return Error::InvalidArgument(
      stored.empty() ? "otp_code is required: request one with POST /v1/auth/otp/request "
                       "{\"phone\",\"purpose\":\"password\"}"
                     : "current_password or otp_code is required to change the password");
}

Task<Status> AuthService::SetPassword(const Caller& caller, std::string password,
                                      std::optional<std::string> current_password,
                                      std::optional<std::string> otp_code, std::string_view ip) {
  if (Status st = ValidatePassword(password); !st) co_return st;
  auto old = co_await store_.GetPasswordHash(caller.user_id);
  if (!old) co_return std::move(old).error();
  Status proved =
      co_await CheckProof(caller, *old, std::move(current_password), std::move(otp_code), ip);
  if (!proved) co_return proved;
  co_return co_await StorePassword(caller.user_id, caller.session_id, *old, std::move(password),
                                   old->empty() ? "set" : "changed");
}

Task<Status> AuthService::RemovePassword(const Caller& caller,
                                         std::optional<std::string> current_password,
                                         std::optional<std::string> otp_code, std::string_view ip) {
  const bool has_proof =
      (current_password && !current_password->empty()) || (otp_code && !otp_code->empty());
  if (!has_proof) {
    co_return Error::InvalidArgument("current_password or otp_code is required to remove it");
  }
  auto old = co_await store_.GetPasswordHash(caller.user_id);
  if (!old) co_return std::move(old).error();
  if (old->empty()) co_return Error::Conflict("no password is set");
  Status proved =
      co_await CheckProof(caller, *old, std::move(current_password), std::move(otp_code), ip);
  if (!proved) co_return proved;
  // An empty password: StorePassword stores no hash (the column becomes NULL).
  // (Named, not a temporary: see Logout.)
  std::string none;
  co_return co_await StorePassword(caller.user_id, caller.session_id, *old, std::move(none),
                                   "removed");
}

Task<Status> AuthService::ResetPassword(std::string_view phone_input, std::string_view country,
                                        std::string_view code, std::string password,
                                        std::string_view ip) {
  auto phone = NormalizePhone(phone_input, country);
  if (!phone) co_return std::move(phone).error();
  if (Status st = ValidateOtpCode(code); !st) co_return st;
  if (Status st = ValidatePassword(password); !st) co_return st;
  if (Status st = co_await CheckCode(phone->e164, ip, code, OtpPurpose::kPassword); !st) {
    co_return st;
  }
  // The code proved the number; only now may the answer say whether it has an account.
  auto user = co_await store_.FindByPhone(phone->e164);
  if (!user) co_return std::move(user).error();
  if (!*user) co_return Error::NotFound("no account has this phone number");
  auto old = co_await store_.GetPasswordHash((*user)->id);
  if (!old) co_return std::move(old).error();
  // Every session ends: whoever forgot the password may not be the only one in.
  const std::string no_session;  // a named value: see Logout
  co_return co_await StorePassword((*user)->id, no_session, *old, std::move(password), "reset");
}

Task<Status> AuthService::StorePassword(const std::string& user_id, const std::string& session_id,
                                        const std::string& old_hash, std::string password,
                                        std::string_view change) {
  std::string hash;  // empty: the password is removed
  if (!password.empty()) {
    auto h = co_await deps_->hasher->Hash(std::move(password));
    if (!h) co_return std::move(h).error();
    hash = std::move(*h);
  }
  // The user's devices are told (notification service), whoever asked.
  events::Event notice = events::Event::Make(
      std::string(events::kPasswordChanged),
      json::object{
          {"user_id", user_id},
          {"session_id", session_id.empty() ? json::value(nullptr) : json::value(session_id)},
          {"change", change}});
  // Messaging closes the user's other sockets (all of them after a reset) and
  // refuses their tokens: auth.sessions.revoked, in the same transaction.
  const std::string reason = "password_" + std::string(change);
  auto set = co_await store_.SetPassword(user_id, old_hash, hash, session_id, reason,
                                         *deps_->outbox, notice);
  if (!set) co_return std::move(set).error();
  if (!*set) co_return Error::Conflict("the password was changed meanwhile; try again");
  deps_->outbox->Committed();
  log::Info("password set", {{"user_id", user_id}, {"change", change}, {"event_id", notice.id}});
  co_return Ok();
}

}  // namespace tchat::auth
