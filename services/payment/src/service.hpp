#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"
#include "ledger_store.hpp"
#include "money.hpp"
#include "records.hpp"
#include "store.hpp"
#include "transfer_batcher.hpp"

namespace tchat::payment {

// What a mutating use case returns: the record it produced or, replayed, the
// record an earlier identical request produced (an Idempotency-Key seen before,
// or an action already done, such as refunding a refunded transfer). Domain
// refusals are Errors instead (insufficient_funds, limit_exceeded, ...). How
// either is shown (status, headers) is the handlers' business.
template <class Record>
struct Done {
  Record record;
  bool replayed = false;
};

// An Idempotency-Key and the fingerprint of the request it came with.
struct IdempotencyRequest {
  std::string key;
  std::string fingerprint;
};

// POST /v1/transfers, validated.
struct TransferCommand {
  std::string from_user_id;
  std::string to_user_id;
  std::int64_t amount = 0;
  const CurrencyInfo* currency = nullptr;
  std::optional<std::string> note;
  std::optional<std::string> conversation_id;
  IdempotencyRequest idempotency;
};

// POST /v1/payment-requests, validated: to_user_id asks from_user_id to pay.
struct RequestCommand {
  std::string to_user_id;
  std::string from_user_id;
  std::int64_t amount = 0;
  const CurrencyInfo* currency = nullptr;
  std::optional<std::string> note;
  std::optional<std::string> conversation_id;
  std::optional<IdempotencyRequest> idempotency;
};

// POST /v1/topups and /v1/withdrawals, validated.
struct ProviderCommand {
  std::string user_id;
  std::int64_t amount = 0;
  const CurrencyInfo* currency = nullptr;
  std::string method_or_destination;
  std::optional<IdempotencyRequest> idempotency;
};

// A payment-provider webhook whose signature has been verified.
struct ProviderEvent {
  std::string id;
  std::string type;  // topup.succeeded | topup.failed | withdrawal.succeeded | withdrawal.failed
  std::string reference;
  std::int64_t amount = 0;
  const CurrencyInfo* currency = nullptr;
};

// A page of payment requests; next_cursor is the last one's keyset position.
struct RequestPage {
  std::vector<PaymentRequest> requests;
  std::optional<RequestKey> next;
};

// A page of history.
struct HistoryPage {
  std::vector<HistoryLine> lines;
  std::optional<std::int64_t> next_cursor;
};

// The payment use cases for one worker: each validates what only the database can
// tell, runs one short transaction (or hands a transfer to the batcher), and
// returns domain values: records, Done<Record> and Errors with stable codes.
// Callers pass already-validated input (ids canonical, currencies known, amounts
// positive). Used only on its worker's thread.
class PaymentService {
 public:
  PaymentService(std::shared_ptr<LedgerStore> store, std::shared_ptr<TransferBatcher> batcher,
                 std::shared_ptr<const Config> config);

  const Config& config() const { return *config_holder_; }

  Task<Result<std::vector<Wallet>>> Wallets(const std::string& user_id);
  // POST /v1/wallets/close (asked by auth before it deletes the account): closes
  // every wallet of the user when all hold zero and nothing is pending. 409
  // wallet_not_empty / operation_pending otherwise (nothing changes). Idempotent.
  Task<Status> CloseWallets(const std::string& user_id);

  // The transfer; a repeated key with the same request replays the first one.
  // idempotency_key_reused, insufficient_funds, limit_exceeded (per-transfer,
  // daily, monthly).
  Task<Result<Done<Transfer>>> CreateTransfer(const TransferCommand& cmd);
  // Parties only: anyone else gets not_found, as if it did not exist.
  Task<Result<Transfer>> GetTransfer(const std::string& user_id, const std::string& id);
  // The recipient sends the full amount back; refunding again replays the same
  // refund. The sender gets permission_denied.
  Task<Result<Done<Transfer>>> Refund(const std::string& user_id, const std::string& transfer_id);

  Task<Result<Done<PaymentRequest>>> CreateRequest(const RequestCommand& cmd);
  Task<Result<PaymentRequest>> GetRequest(const std::string& user_id, const std::string& id);
  // The payer pays (the request and its transfer; again: the same, replayed).
  Task<Result<Done<PaidRequest>>> PayRequest(const std::string& user_id, const std::string& id);
  // The payer declines / the requester cancels a pending request.
  Task<Result<Done<PaymentRequest>>> DeclineRequest(const std::string& user_id,
                                                    const std::string& id);
  Task<Result<Done<PaymentRequest>>> CancelRequest(const std::string& user_id,
                                                   const std::string& id);

  // The caller's requests (as payer, requester or both), newest first.
  Task<Result<RequestPage>> ListRequests(const std::string& user_id, RequestDirection direction,
                                         const std::optional<std::string>& status,
                                         const std::optional<RequestKey>& after, int limit);

  Task<Result<Done<ProviderOperation>>> CreateTopup(const ProviderCommand& cmd);
  // Holds the amount (wallet → withdrawal_pending) until the provider reports.
  Task<Result<Done<ProviderOperation>>> CreateWithdrawal(const ProviderCommand& cmd);
  Task<Result<ProviderOperation>> GetTopup(const std::string& user_id, const std::string& id);
  Task<Result<ProviderOperation>> GetWithdrawal(const std::string& user_id, const std::string& id);
  // Applies a verified provider event exactly once: "applied", "duplicate" (event
  // id seen before) or "ignored" (the operation is no longer pending). Unknown
  // reference → not_found; amount or currency different → amount_mismatch.
  Task<Result<std::string>> HandleProviderEvent(const ProviderEvent& ev);

  Task<Result<HistoryPage>> History(const std::string& user_id,
                                    const std::optional<std::string>& currency,
                                    std::optional<std::int64_t> cursor, int limit);
  Task<Result<json::object>> Verify() { return store_->Verify(); }

  // The Error clients see for a domain result code of the ledger functions.
  static Error DomainError(std::string_view code);

  // Called after a commit that wrote outbox events (wakes the relay). Set at start-up.
  void OnEventsCommitted(std::function<void()> fn) { events_committed_ = std::move(fn); }

 private:
  // What an operation run by RunIdempotent decided: "ok" with the created
  // record's snapshot (its JSON) and id, or a domain error code (then nothing but
  // the key is written).
  struct Outcome {
    std::string result_code = "ok";
    std::string snapshot;
    std::optional<std::string> resource_id;
  };
  using Operation = std::function<Task<Result<Outcome>>(pg::Connection&, std::int64_t now_ms)>;
  // Runs `op` in a transaction guarded by the optional Idempotency-Key of
  // `user_id` (the protocol of store.hpp). nullopt when `op` ran now; the stored
  // snapshot when an earlier request with the key had succeeded.
  Task<Result<std::optional<std::string>>> RunIdempotent(
      const std::string& user_id, const std::optional<IdempotencyRequest>& idem, Operation op);
  // `fresh`, or the record of a replayed snapshot, after RunIdempotent.
  template <class Record>
  static Result<Done<Record>> FreshOrReplayed(Result<std::optional<std::string>> run, Record fresh,
                                              Result<Record> (*parse)(std::string_view)) {
    if (!run) return std::move(run).error();
    if (!*run) return Done<Record>{std::move(fresh), false};
    auto stored = parse(**run);
    if (!stored) return std::move(stored).error();
    return Done<Record>{std::move(*stored), true};
  }
  Task<Result<Done<PaymentRequest>>> SetRequestStatus(const std::string& user_id,
                                                      const std::string& id, bool as_payer,
                                                      std::string_view new_status);
  TransferItem NewTransferItem(std::string_view kind, const std::string& from_user,
                               const std::string& to_user, std::int64_t amount,
                               std::string_view currency, std::int64_t now_ms) const;

  std::shared_ptr<LedgerStore> store_;
  std::shared_ptr<TransferBatcher> batcher_;
  void EventsCommitted() const {
    if (events_committed_) events_committed_();
  }

  std::shared_ptr<const Config> config_holder_;
  const Config& config_;
  std::function<void()> events_committed_;
};

}  // namespace tchat::payment
