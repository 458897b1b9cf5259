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
#include "transfer_batcher.hpp"

namespace tchat::payment {

// The answer to a mutating request: the HTTP status and JSON body to send, and
// whether it was replayed from an earlier request (Idempotency-Key, or a request
// that is idempotent by nature such as paying a request twice). Domain failures
// are Errors instead (insufficient_funds, limit_exceeded, ...).
struct Answer {
  int status = 200;
  std::string body;
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

// A page of history.
struct HistoryPage {
  std::vector<HistoryLine> lines;
  std::optional<std::int64_t> next_cursor;
};

// The payment use cases for one worker: each validates what only the database can
// tell, runs one short transaction (or hands a transfer to the batcher), and
// renders the answer. Callers pass already-validated input (ids canonical,
// currencies known, amounts positive). Used only on its worker's thread.
class PaymentService {
 public:
  PaymentService(std::shared_ptr<LedgerStore> store, std::shared_ptr<TransferBatcher> batcher,
                 std::shared_ptr<const Config> config);

  const Config& config() const { return *config_holder_; }

  Task<Result<std::vector<Wallet>>> Wallets(const std::string& user_id);

  // 201 with the transfer; replays for a repeated key with the same body;
  // idempotency_key_reused, insufficient_funds, limit_exceeded (per-transfer,
  // daily, monthly).
  Task<Result<Answer>> CreateTransfer(const TransferCommand& cmd);
  // Parties only: anyone else gets not_found, as if it did not exist.
  Task<Result<Transfer>> GetTransfer(const std::string& user_id, const std::string& id);
  // The recipient sends the full amount back (201 with the refund); refunding
  // again answers 200 with the same refund. The sender gets permission_denied.
  Task<Result<Answer>> Refund(const std::string& user_id, const std::string& transfer_id);

  Task<Result<Answer>> CreateRequest(const RequestCommand& cmd);
  Task<Result<PaymentRequest>> GetRequest(const std::string& user_id, const std::string& id);
  // The payer pays (200 with the request and its transfer; again: the same).
  Task<Result<Answer>> PayRequest(const std::string& user_id, const std::string& id);
  // The payer declines / the requester cancels a pending request.
  Task<Result<Answer>> DeclineRequest(const std::string& user_id, const std::string& id);
  Task<Result<Answer>> CancelRequest(const std::string& user_id, const std::string& id);

  Task<Result<Answer>> CreateTopup(const ProviderCommand& cmd);
  // Holds the amount (wallet → withdrawal_pending) until the provider reports.
  Task<Result<Answer>> CreateWithdrawal(const ProviderCommand& cmd);
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
  struct Outcome {
    std::optional<Error> error;  // a domain error (nothing written but the key)
    Answer answer;
    std::optional<std::string> resource_id;
  };
  using Operation = std::function<Task<Result<Outcome>>(pg::Connection&, std::int64_t now_ms)>;
  // Runs `op` in a transaction guarded by the optional Idempotency-Key of `user_id`.
  Task<Result<Answer>> RunIdempotent(const std::string& user_id,
                                     const std::optional<IdempotencyRequest>& idem, Operation op);
  Task<Result<Answer>> SetRequestStatus(const std::string& user_id, const std::string& id,
                                        bool as_payer, std::string_view new_status);
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
