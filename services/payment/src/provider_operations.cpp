// PaymentService's operations with the payment provider: top-ups, withdrawals
// and the provider's webhook events that settle them.
#include <utility>

#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "metrics.hpp"
#include "service.hpp"
#include "service_steps.hpp"
#include "store.hpp"

namespace tchat::payment {
Task<Result<Done<ProviderOperation>>> PaymentService::CreateTopup(const ProviderCommand& cmd) {
  if (cmd.amount > config_.LimitsFor(*cmd.currency).monthly) {
    co_return Error::Unprocessable("limit_exceeded", "the amount exceeds the top-up limit");
  }
  auto account = co_await store_->EnsureWallet(cmd.user_id, cmd.currency->code);
  if (!account) co_return std::move(account).error();
  const std::int64_t account_id = *account;
  ProviderOperation created;
  Operation op_fn = [&cmd, account_id, &created](pg::Connection& c,
                                                 std::int64_t now) -> Task<Result<Outcome>> {
    ProviderOperation& op = created;
    op.id = NewUuidV7(FromUnixMillis(now));
    op.user_id = cmd.user_id;
    op.amount = cmd.amount;
    op.currency = cmd.currency->code;
    op.method_or_destination = cmd.method_or_destination;
    op.status = "pending";
    op.provider_reference = "psp_tu_" + RandomHex(16);
    op.created_ms = now;
    op.updated_ms = now;
    auto ins = co_await InsertTopup(c, op, account_id, FormatRfc3339Ms(now));
    if (!ins) co_return std::move(ins).error();
    Outcome o;
    o.snapshot = Serialize(TopupJson(op));
    o.resource_id = op.id;
    co_return o;
  };
  auto run = co_await RunIdempotent(cmd.user_id, cmd.idempotency, std::move(op_fn));
  if (!run && run.error().sqlstate == "23514") {
    // topups_closed_wallet: the account was deleted (its wallets closed) meanwhile.
    co_return Error(ErrorCode::kConflict, "the wallet is closed", "wallet_closed");
  }
  co_return FreshOrReplayed(std::move(run), std::move(created), &TopupFromJson);
}

Task<Result<Done<ProviderOperation>>> PaymentService::CreateWithdrawal(const ProviderCommand& cmd) {
  const CurrencyLimits& currency_limits = config_.LimitsFor(*cmd.currency);
  // A withdrawal leaves the wallet like a transfer: the same outgoing limits.
  const OutgoingLimits limits{currency_limits.daily, currency_limits.monthly};
  if (cmd.amount > currency_limits.per_transfer) {
    co_return Error::Unprocessable("limit_exceeded", "the amount exceeds the withdrawal limit");
  }
  auto account = co_await store_->EnsureWallet(cmd.user_id, cmd.currency->code);
  if (!account) co_return std::move(account).error();
  auto system = co_await store_->System(cmd.currency->code);
  if (!system) co_return std::move(system).error();
  const std::int64_t account_id = *account;
  const SystemAccounts accounts = *system;
  ProviderOperation created;
  // A named operation: GCC 12 destroys non-trivial temporaries of a co_await
  // expression twice.
  Operation op_fn = [&cmd, account_id, &accounts, &created, limits](
                        pg::Connection& c, std::int64_t now) -> Task<Result<Outcome>> {
    ProviderOperation& op = created;
    op.id = NewUuidV7(FromUnixMillis(now));
    const std::int64_t pending_id = accounts.PendingFor(op.id);
    op.user_id = cmd.user_id;
    op.amount = cmd.amount;
    op.currency = cmd.currency->code;
    op.method_or_destination = cmd.method_or_destination;
    op.status = "pending";
    op.provider_reference = "psp_wd_" + RandomHex(16);
    op.created_ms = now;
    op.updated_ms = now;
    const std::string entry = NewUuidV7(FromUnixMillis(now));
    auto code = co_await PostEntry(c, entry, "withdrawal", op.id, account_id, pending_id, op.amount,
                                   op.currency, now, limits);
    if (!code) co_return std::move(code).error();
    Outcome o;
    if (*code != "ok") {
      o.result_code = std::move(*code);
      co_return o;
    }
    auto ins =
        co_await InsertWithdrawal(c, op, account_id, pending_id, entry, FormatRfc3339Ms(now));
    if (!ins) co_return std::move(ins).error();
    const json::object body = WithdrawalJson(op);
    auto ev = co_await InsertOutbox(c, NewUuidV7(FromUnixMillis(now)),
                                    "payment.withdrawal.requested", now, body);
    if (!ev) co_return std::move(ev).error();
    o.snapshot = Serialize(body);
    o.resource_id = op.id;
    co_return o;
  };
  auto run = co_await RunIdempotent(cmd.user_id, cmd.idempotency, std::move(op_fn));
  co_return FreshOrReplayed(std::move(run), std::move(created), &WithdrawalFromJson);
}

Task<Result<ProviderOperation>> PaymentService::GetTopup(const std::string& user_id,
                                                         const std::string& id) {
  auto r = co_await FindTopup(store_->pool(), id);
  if (!r) co_return std::move(r).error();
  if (!*r || (*r)->user_id != user_id) co_return Error::NotFound("top-up not found");
  co_return std::move(**r);
}

Task<Result<ProviderOperation>> PaymentService::GetWithdrawal(const std::string& user_id,
                                                              const std::string& id) {
  auto r = co_await FindWithdrawal(store_->pool(), id);
  if (!r) co_return std::move(r).error();
  if (!*r || (*r)->user_id != user_id) co_return Error::NotFound("withdrawal not found");
  co_return std::move(**r);
}

Task<Result<std::string>> PaymentService::HandleProviderEvent(const ProviderEvent& ev) {
  const bool is_topup = ev.type == "topup.succeeded" || ev.type == "topup.failed";
  const bool succeeded = ev.type == "topup.succeeded" || ev.type == "withdrawal.succeeded";
  auto system = co_await store_->System(ev.currency->code);
  if (!system) co_return std::move(system).error();
  const SystemAccounts accounts = *system;

  auto r = co_await store_->pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<std::string>> {
        auto fresh = co_await RecordProviderEvent(c, ev.id, ev.type, ev.reference);
        if (!fresh) co_return std::move(fresh).error();
        if (!*fresh) co_return std::string("duplicate");

        auto row = co_await LockProviderOperation(c, is_topup, ev.reference);
        if (!row) co_return std::move(row).error();
        if (!*row) co_return Error::NotFound("unknown provider reference");
        ProviderOperation op = (*row)->op;
        const std::int64_t account_id = (*row)->account_id;
        if (op.amount != ev.amount || op.currency != ev.currency->code) {
          co_return Error::Unprocessable("amount_mismatch",
                                         "amount or currency differs from the pending record");
        }
        if (op.status != "pending") co_return std::string("ignored");

        const std::int64_t now = NowUnixMs();
        const std::string entry = NewUuidV7(FromUnixMillis(now));
        std::optional<std::string> entry_id;
        if (is_topup && succeeded) {
          auto code = co_await PostEntry(c, entry, "topup", op.id, accounts.ClearingFor(op.id),
                                         account_id, op.amount, op.currency, now);
          if (!code) co_return std::move(code).error();
          if (*code != "ok") co_return Error::Internal("top-up could not be posted: " + *code);
          entry_id = entry;
        } else if (!is_topup) {
          const std::int64_t pending = (*row)->pending_account_id;
          const std::int64_t to = succeeded ? accounts.ClearingFor(op.id) : account_id;
          auto code = co_await PostEntry(c, entry,
                                         succeeded ? "withdrawal_settlement" : "withdrawal_release",
                                         op.id, pending, to, op.amount, op.currency, now);
          if (!code) co_return std::move(code).error();
          if (*code != "ok") co_return Error::Internal("withdrawal could not be settled: " + *code);
          entry_id = entry;
        }
        op.status = succeeded ? "succeeded" : "failed";
        op.updated_ms = now;
        const std::string ts = FormatRfc3339Ms(now);
        auto upd = co_await SettleProviderOperation(c, is_topup, op.id, op.status, entry_id, ts);
        if (!upd) co_return std::move(upd).error();
        const std::string type = "payment." + ev.type;
        json::object data = is_topup ? TopupJson(op) : WithdrawalJson(op);
        auto out =
            co_await InsertOutbox(c, NewUuidV7(FromUnixMillis(now)), type, now, std::move(data));
        if (!out) co_return std::move(out).error();
        co_return std::string("applied");
      });
  if (r && *r == "applied") EventsCommitted();
  co_return r;
}

}  // namespace tchat::payment
