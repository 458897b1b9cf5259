#include "service.hpp"

#include <utility>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "metrics.hpp"
#include "service_steps.hpp"
#include "store.hpp"

namespace tchat::payment {
namespace {

// What the database stores with the item: the transfer's snapshot and its event.
void Render(TransferItem& it) {
  const json::object t = ToJson(it.transfer);
  it.snapshot = Serialize(t);
  it.event = Serialize(events::Envelope(events::Event{it.event_id, "payment.transfer.completed",
                                                      FromUnixMillis(it.transfer.created_ms), t}));
}

}  // namespace

PaymentService::PaymentService(std::shared_ptr<LedgerStore> store,
                               std::shared_ptr<TransferBatcher> batcher,
                               std::shared_ptr<const Config> config)
    : store_(std::move(store)),
      batcher_(std::move(batcher)),
      config_holder_(std::move(config)),
      config_(*config_holder_) {}

Error PaymentService::DomainError(std::string_view code) {
  if (code == "insufficient_funds") {
    return Error::Unprocessable("insufficient_funds", "not enough money in the wallet");
  }
  if (code == "limit_exceeded") {
    return Error::Unprocessable("limit_exceeded", "the amount exceeds a transfer limit");
  }
  if (code == "amount_overflow") {
    return Error::Unprocessable("limit_exceeded", "the amount would overflow the balance");
  }
  if (code == "idempotency_key_reused") {
    return Error::Unprocessable("idempotency_key_reused",
                                "the Idempotency-Key was used with a different request");
  }
  return Error::Internal("unexpected ledger result " + std::string(code));
}

Task<Result<std::vector<Wallet>>> PaymentService::Wallets(const std::string& user_id) {
  co_return co_await store_->Wallets(user_id);
}

Task<Status> PaymentService::CloseWallets(const std::string& user_id) {
  auto r = co_await store_->CloseWallets(user_id);
  if (!r) co_return std::move(r).error();
  if (*r == "wallet_not_empty") {
    co_return Error(ErrorCode::kConflict,
                    "the wallet still holds money: withdraw it before deleting the account",
                    "wallet_not_empty");
  }
  if (*r == "operation_pending") {
    co_return Error(ErrorCode::kConflict,
                    "a top-up or withdrawal is still pending: wait until it completes",
                    "operation_pending");
  }
  if (*r != "ok") co_return Error::Internal("payment_close_wallets answered " + *r);
  log::Info("wallets closed", {{"user_id", user_id}});
  co_return Ok();
}

TransferItem PaymentService::NewTransferItem(std::string_view kind, const std::string& from_user,
                                             const std::string& to_user, std::int64_t amount,
                                             std::string_view currency, std::int64_t now_ms) const {
  TransferItem it;
  Transfer& t = it.transfer;
  t.id = NewUuidV7(FromUnixMillis(now_ms));
  t.kind = kind;
  t.from_user_id = from_user;
  t.to_user_id = to_user;
  t.amount = amount;
  t.currency = currency;
  t.status = "completed";
  t.created_ms = now_ms;
  it.entry_id = NewUuidV7(FromUnixMillis(now_ms));
  it.event_id = NewUuidV7(FromUnixMillis(now_ms));
  return it;
}

Task<Result<Done<Transfer>>> PaymentService::CreateTransfer(const TransferCommand& cmd) {
  auto& metrics = Metrics::Get();
  const CurrencyLimits& limits = config_.LimitsFor(*cmd.currency);
  if (cmd.amount > limits.per_transfer) {
    metrics.Transfer("transfer", "limit_exceeded");
    co_return Error::Unprocessable("limit_exceeded", "the amount exceeds the per-transfer limit");
  }
  auto from_account = co_await store_->EnsureWallet(cmd.from_user_id, cmd.currency->code);
  if (!from_account) co_return std::move(from_account).error();
  auto to_account = co_await store_->EnsureWallet(cmd.to_user_id, cmd.currency->code);
  if (!to_account) co_return std::move(to_account).error();

  const std::int64_t now = NowUnixMs();
  TransferItem it = NewTransferItem("transfer", cmd.from_user_id, cmd.to_user_id, cmd.amount,
                                    cmd.currency->code, now);
  it.transfer.note = cmd.note;
  it.transfer.conversation_id = cmd.conversation_id;
  it.from_account = *from_account;
  it.to_account = *to_account;
  it.idempotency_key = cmd.idempotency.key;
  it.request_hash = cmd.idempotency.fingerprint;
  it.daily_limit = limits.daily;
  it.monthly_limit = limits.monthly;
  Render(it);
  Transfer fresh = it.transfer;

  auto outcome = co_await batcher_->Submit(std::move(it));
  if (!outcome && outcome.error().sqlstate == "23514") {
    // accounts_closed_no_credit: the recipient's wallet closed (account deleted)
    // after this worker cached it; the transaction rolled back, nothing moved.
    metrics.Transfer("transfer", "wallet_closed");
    co_return Error(ErrorCode::kConflict, "the recipient's wallets are closed", "wallet_closed");
  }
  if (!outcome) {
    metrics.Transfer("transfer", "error");
    co_return std::move(outcome).error();
  }
  if (outcome->replayed) {
    metrics.Replay();
    if (outcome->result_code != "ok") co_return DomainError(outcome->result_code);
    auto stored = TransferFromJson(outcome->snapshot);
    if (!stored) co_return std::move(stored).error();
    co_return Done<Transfer>{std::move(*stored), true};
  }
  if (outcome->result_code != "ok") {
    metrics.Transfer("transfer", outcome->result_code);
    co_return DomainError(outcome->result_code);
  }
  metrics.Transfer("transfer", "completed");
  metrics.Amount(cmd.currency->code, cmd.amount);
  EventsCommitted();
  co_return Done<Transfer>{std::move(fresh), false};
}

Task<Result<Transfer>> PaymentService::GetTransfer(const std::string& user_id,
                                                   const std::string& id) {
  auto t = co_await store_->FindTransfer(id);
  if (!t) co_return std::move(t).error();
  if (!*t || ((*t)->from_user_id != user_id && (*t)->to_user_id != user_id)) {
    co_return Error::NotFound("transfer not found");
  }
  co_return std::move(**t);
}

Task<Result<Done<Transfer>>> PaymentService::Refund(const std::string& user_id,
                                                    const std::string& transfer_id) {
  auto& metrics = Metrics::Get();
  auto r = co_await store_->pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<Done<Transfer>>> {
        auto locked = co_await LedgerStore::LockTransfer(c, transfer_id);
        if (!locked) co_return std::move(locked).error();
        if (!*locked) co_return Error::NotFound("transfer not found");
        const Transfer& orig = (*locked)->transfer;
        if (orig.to_user_id != user_id) {
          if (orig.from_user_id == user_id) {
            co_return Error::PermissionDenied("only the recipient can refund a transfer");
          }
          co_return Error::NotFound("transfer not found");
        }
        if (orig.kind == "refund") co_return Error::Conflict("a refund cannot be refunded");
        if (orig.status == "refunded" && orig.refunded_by) {
          auto existing = co_await LedgerStore::FindTransferOn(c, *orig.refunded_by);
          if (!existing) co_return std::move(existing).error();
          if (!*existing) co_return Error::Internal("refund record missing");
          co_return Done<Transfer>{std::move(**existing), true};
        }
        const std::int64_t now = NowUnixMs();
        TransferItem it = NewTransferItem("refund", orig.to_user_id, orig.from_user_id, orig.amount,
                                          orig.currency, now);
        it.transfer.conversation_id = orig.conversation_id;
        it.transfer.refund_of = orig.id;
        it.from_account = (*locked)->to_account;
        it.to_account = (*locked)->from_account;
        it.request_hash = "refund";
        Render(it);
        auto code = co_await LedgerStore::ApplyTransfer(c, it);
        if (!code) co_return std::move(code).error();
        if (*code != "ok") co_return DomainError(*code);
        auto marked = co_await MarkTransferRefunded(c, orig.id, it.transfer.id);
        if (!marked) co_return std::move(marked).error();
        co_return Done<Transfer>{std::move(it.transfer), false};
      });
  if (!r) {
    metrics.Transfer("refund", std::string(r.error().WireCode()));
  } else if (!r->replayed) {
    metrics.Transfer("refund", "completed");
    EventsCommitted();
  }
  co_return r;
}

Task<Result<std::optional<std::string>>> PaymentService::RunIdempotent(
    const std::string& user_id, const std::optional<IdempotencyRequest>& idem, Operation op) {
  struct Ran {
    Outcome outcome;
    bool replayed = false;
  };
  auto r = co_await store_->pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<Ran>> {
        const std::int64_t now = NowUnixMs();
        if (idem) {
          // First statement of the transaction: a concurrent duplicate waits here.
          auto claim = co_await ClaimIdempotencyKey(c, user_id, idem->key, idem->fingerprint);
          if (!claim) co_return std::move(claim).error();
          if (!claim->claimed) {
            Ran stored;
            stored.outcome.result_code = std::move(claim->result_code);
            stored.outcome.snapshot = std::move(claim->snapshot);
            stored.replayed = stored.outcome.result_code != "idempotency_key_reused";
            co_return stored;
          }
        }
        auto out = co_await op(c, now);
        if (!out) co_return std::move(out).error();
        if (idem) {
          // Domain refusals are stored too: the same request gets the same answer.
          auto settled = co_await SettleIdempotencyKey(c, user_id, idem->key, out->result_code,
                                                       out->snapshot, out->resource_id);
          if (!settled) co_return std::move(settled).error();
        }
        co_return Ran{std::move(*out), false};
      });
  if (!r) co_return std::move(r).error();
  if (r->replayed) Metrics::Get().Replay();
  if (r->outcome.result_code != "ok") co_return DomainError(r->outcome.result_code);
  if (r->replayed) co_return std::optional<std::string>(std::move(r->outcome.snapshot));
  EventsCommitted();
  co_return std::optional<std::string>();
}

Task<Result<Done<PaymentRequest>>> PaymentService::CreateRequest(const RequestCommand& cmd) {
  if (cmd.amount > config_.LimitsFor(*cmd.currency).per_transfer) {
    co_return Error::Unprocessable("limit_exceeded", "the amount exceeds the per-transfer limit");
  }
  PaymentRequest created;
  Operation op_fn = [&cmd, &created](pg::Connection& c, std::int64_t now) -> Task<Result<Outcome>> {
    PaymentRequest& req = created;
    req.id = NewUuidV7(FromUnixMillis(now));
    req.from_user_id = cmd.from_user_id;
    req.to_user_id = cmd.to_user_id;
    req.amount = cmd.amount;
    req.currency = cmd.currency->code;
    req.note = cmd.note;
    req.conversation_id = cmd.conversation_id;
    req.status = "pending";
    req.created_ms = now;
    req.updated_ms = now;
    const std::string ts = FormatRfc3339Ms(now);
    auto ins = co_await InsertPaymentRequest(c, req, ts);
    if (!ins) co_return std::move(ins).error();
    const json::object body = ToJson(req);
    auto ev = co_await InsertOutbox(c, NewUuidV7(FromUnixMillis(now)), "payment.request.created",
                                    now, body);
    if (!ev) co_return std::move(ev).error();
    Outcome o;
    o.snapshot = Serialize(body);
    o.resource_id = req.id;
    co_return o;
  };
  auto run = co_await RunIdempotent(cmd.to_user_id, cmd.idempotency, std::move(op_fn));
  co_return FreshOrReplayed(std::move(run), std::move(created), &PaymentRequestFromJson);
}

Task<Result<PaymentRequest>> PaymentService::GetRequest(const std::string& user_id,
                                                        const std::string& id) {
  auto r = co_await FindPaymentRequest(store_->pool(), id);
  if (!r) co_return std::move(r).error();
  if (!*r) co_return Error::NotFound("payment request not found");
  PaymentRequest req = std::move(**r);
  if (req.from_user_id != user_id && req.to_user_id != user_id) {
    co_return Error::NotFound("payment request not found");
  }
  co_return req;
}

Task<Result<Done<PaidRequest>>> PaymentService::PayRequest(const std::string& user_id,
                                                           const std::string& id) {
  using Answer = Done<PaidRequest>;
  auto& metrics = Metrics::Get();
  auto pre = co_await GetRequest(user_id, id);
  if (!pre) co_return std::move(pre).error();
  if (pre->from_user_id != user_id) {
    co_return Error::PermissionDenied("only the payer can pay a payment request");
  }
  const CurrencyInfo* currency = FindCurrency(pre->currency);
  if (currency == nullptr) co_return Error::Internal("payment request in unknown currency");
  const CurrencyLimits& limits = config_.LimitsFor(*currency);
  auto from_account = co_await store_->EnsureWallet(pre->from_user_id, currency->code);
  if (!from_account) co_return std::move(from_account).error();
  auto to_account = co_await store_->EnsureWallet(pre->to_user_id, currency->code);
  if (!to_account) co_return std::move(to_account).error();

  auto r = co_await store_->pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<Answer>> {
        auto locked = co_await LockPaymentRequest(c, id);
        if (!locked) co_return std::move(locked).error();
        if (!*locked) co_return Error::NotFound("payment request not found");
        PaymentRequest req = std::move(**locked);
        if (req.status == "paid" && req.transfer_id) {
          auto t = co_await LedgerStore::FindTransferOn(c, *req.transfer_id);
          if (!t) co_return std::move(t).error();
          if (!*t) co_return Error::Internal("transfer of a paid request missing");
          co_return Answer{PaidRequest{std::move(req), std::move(**t)}, true};
        }
        if (req.status != "pending") {
          co_return Error::Conflict("payment request is " + req.status);
        }
        if (req.amount > limits.per_transfer) {
          co_return Error::Unprocessable("limit_exceeded",
                                         "the amount exceeds the per-transfer limit");
        }
        const std::int64_t now = NowUnixMs();
        TransferItem it = NewTransferItem("request_payment", req.from_user_id, req.to_user_id,
                                          req.amount, req.currency, now);
        it.transfer.note = req.note;
        it.transfer.conversation_id = req.conversation_id;
        it.transfer.payment_request_id = req.id;
        it.from_account = *from_account;
        it.to_account = *to_account;
        it.request_hash = "request_payment";
        it.daily_limit = limits.daily;
        it.monthly_limit = limits.monthly;
        Render(it);
        auto code = co_await LedgerStore::ApplyTransfer(c, it);
        if (!code) co_return std::move(code).error();
        if (*code != "ok") co_return DomainError(*code);
        auto upd = co_await MarkPaymentRequestPaid(c, req.id, it.transfer.id, FormatRfc3339Ms(now));
        if (!upd) co_return std::move(upd).error();
        req.status = "paid";
        req.transfer_id = it.transfer.id;
        req.updated_ms = now;
        PaidRequest paid{std::move(req), std::move(it.transfer)};
        json::object body = ToJson(paid);
        auto ev = co_await InsertOutbox(c, NewUuidV7(FromUnixMillis(now)), "payment.request.paid",
                                        now, std::move(body));
        if (!ev) co_return std::move(ev).error();
        co_return Answer{std::move(paid), false};
      });
  if (!r) {
    metrics.Transfer("request_payment", std::string(r.error().WireCode()));
  } else if (!r->replayed) {
    metrics.Transfer("request_payment", "completed");
    metrics.Amount(currency->code, pre->amount);
    EventsCommitted();
  }
  co_return r;
}

Task<Result<Done<PaymentRequest>>> PaymentService::DeclineRequest(const std::string& user_id,
                                                                  const std::string& id) {
  co_return co_await SetRequestStatus(user_id, id, true, "declined");
}

Task<Result<Done<PaymentRequest>>> PaymentService::CancelRequest(const std::string& user_id,
                                                                 const std::string& id) {
  co_return co_await SetRequestStatus(user_id, id, false, "cancelled");
}

Task<Result<Done<PaymentRequest>>> PaymentService::SetRequestStatus(const std::string& user_id,
                                                                    const std::string& id,
                                                                    bool as_payer,
                                                                    std::string_view new_status) {
  using Answer = Done<PaymentRequest>;
  auto r = co_await store_->pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<Answer>> {
        auto locked = co_await LockPaymentRequest(c, id);
        if (!locked) co_return std::move(locked).error();
        if (!*locked) co_return Error::NotFound("payment request not found");
        PaymentRequest req = std::move(**locked);
        if (req.from_user_id != user_id && req.to_user_id != user_id) {
          co_return Error::NotFound("payment request not found");
        }
        const std::string& actor = as_payer ? req.from_user_id : req.to_user_id;
        if (actor != user_id) {
          co_return Error::PermissionDenied(as_payer ? "only the payer can decline a request"
                                                     : "only the requester can cancel a request");
        }
        if (req.status == new_status) co_return Answer{std::move(req), true};
        if (req.status != "pending") co_return Error::Conflict("payment request is " + req.status);
        const std::int64_t now = NowUnixMs();
        auto upd = co_await UpdatePaymentRequestStatus(c, req.id, new_status, FormatRfc3339Ms(now));
        if (!upd) co_return std::move(upd).error();
        req.status = new_status;
        req.updated_ms = now;
        const json::object body = ToJson(req);
        const std::string type = "payment.request." + std::string(new_status);
        auto ev = co_await InsertOutbox(c, NewUuidV7(FromUnixMillis(now)), type, now, body);
        if (!ev) co_return std::move(ev).error();
        co_return Answer{std::move(req), false};
      });
  if (r && !r->replayed) EventsCommitted();
  co_return r;
}

Task<Result<RequestPage>> PaymentService::ListRequests(const std::string& user_id,
                                                       RequestDirection direction,
                                                       const std::optional<std::string>& status,
                                                       const std::optional<RequestKey>& after,
                                                       int limit) {
  auto rows =
      co_await ListPaymentRequests(store_->pool(), user_id, direction, status, after, limit + 1);
  if (!rows) co_return std::move(rows).error();
  RequestPage page;
  page.requests = std::move(*rows);
  if (page.requests.size() > static_cast<std::size_t>(limit)) {
    page.requests.resize(static_cast<std::size_t>(limit));
    const PaymentRequest& last = page.requests.back();
    page.next = RequestKey{last.created_ms, last.id};
  }
  co_return page;
}

Task<Result<HistoryPage>> PaymentService::History(const std::string& user_id,
                                                  const std::optional<std::string>& currency,
                                                  std::optional<std::int64_t> cursor, int limit) {
  const std::int64_t before = cursor.value_or(INT64_MAX);
  auto lines = co_await store_->History(user_id, currency, before, limit + 1);
  if (!lines) co_return std::move(lines).error();
  HistoryPage page;
  page.lines = std::move(*lines);
  if (page.lines.size() > static_cast<std::size_t>(limit)) {
    page.lines.resize(static_cast<std::size_t>(limit));
    page.next_cursor = page.lines.back().posting_id;
  }
  co_return page;
}

}  // namespace tchat::payment
