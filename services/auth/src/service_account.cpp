// AuthService: deleting the account (PDPA erasure; docs/operations/account-deletion.md).
// A fresh proof besides the session (a code of purpose "password" sent to the
// phone, or the current password), then payment closes the wallets (its
// zero-balance rule), then the user row goes with every session, and
// auth.sessions.revoked + auth.user.deleted are written in that transaction.
#include <tchat/core/log.hpp>

#include "payment_wallets.hpp"
#include "service.hpp"

namespace tchat::auth {

Task<Status> AuthService::CheckDeletionProof(const Caller& caller,
                                             std::optional<std::string> current_password,
                                             std::optional<std::string> otp_code,
                                             std::string_view ip) {
  if (otp_code && !otp_code->empty()) co_return co_await CheckPasswordCode(caller, *otp_code, ip);
  if (current_password && !current_password->empty()) {
    auto stored = co_await store_.GetPasswordHash(caller.user_id);
    if (!stored) co_return std::move(stored).error();
    co_return co_await CheckCurrentPassword(caller, *stored, std::move(*current_password), ip);
  }
  co_return Error::InvalidArgument(
      "otp_code is required to delete the account: request one with POST /v1/auth/otp/request "
      "{\"phone\",\"purpose\":\"password\"} (or give current_password)");
}

Task<Status> AuthService::DeleteAccount(const Caller& caller,
                                        std::optional<std::string> current_password,
                                        std::optional<std::string> otp_code, std::string_view ip,
                                        std::string_view authorization, PaymentWallets& wallets) {
  Status proved =
      co_await CheckDeletionProof(caller, std::move(current_password), std::move(otp_code), ip);
  if (!proved) co_return proved;
  // Money first: payment refuses (409) while a wallet holds money or an
  // operation is pending, and then nothing is deleted. Closed wallets take no
  // more money, so none can arrive between this and the deletion.
  if (Status closed = co_await wallets.Close(authorization); !closed) co_return closed;
  auto deleted = co_await store_.DeleteUser(caller.user_id, *deps_->outbox);
  if (!deleted) co_return std::move(deleted).error();
  if (!*deleted) co_return Error::NotFound("user not found");
  deps_->outbox->Committed();
  log::Info("account deleted", {{"user_id", caller.user_id}});
  co_return Ok();
}

}  // namespace tchat::auth
