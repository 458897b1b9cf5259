#pragma once

// The payment service's SQL beyond the ledger (ledger_store.hpp): idempotency
// keys, payment requests, top-ups, withdrawals, provider events and single
// journal entries. Free functions: those taking a pg::Connection run inside the
// caller's transaction, so that PaymentService composes one transaction of
// several calls; those taking the worker's pg::Pool run on their own. Same
// thread rules as the pool or connection they are given.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/pg/connection.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "records.hpp"

namespace tchat::payment {

// The Idempotency-Key protocol, C++ end. Its owner is the database: the
// contract is written once at the top of
// migrations/postgres/tchat_payment/000003_idempotency_outcome.up.sql. In short:
// a request with a key calls ClaimIdempotencyKey as the first statement of its
// transaction (a concurrent duplicate waits there); if it claimed the key it
// performs itself and calls SettleIdempotencyKey with its domain outcome in the
// same transaction; otherwise it answers with the stored outcome. Transfers do
// the same through payment_post_transfers (LedgerStore::PostTransfers).
struct IdempotencyClaim {
  bool claimed = false;     // true: perform the request, then settle the key
  std::string result_code;  // not claimed: "ok", a domain error code or idempotency_key_reused
  std::string snapshot;     // not claimed, "ok": the created record's JSON (records.hpp)
};
Task<Result<IdempotencyClaim>> ClaimIdempotencyKey(pg::Connection& c, const std::string& user_id,
                                                   const std::string& key,
                                                   const std::string& request_hash);
// Stores the domain outcome of the request that claimed the key: `result_code`
// "ok" with the created record's snapshot and id, or a domain error code.
Task<Status> SettleIdempotencyKey(pg::Connection& c, const std::string& user_id,
                                  const std::string& key, const std::string& result_code,
                                  const std::string& snapshot,
                                  const std::optional<std::string>& resource_id);

// Marks `id` refunded by the transfer `refunded_by`.
Task<Status> MarkTransferRefunded(pg::Connection& c, const std::string& id,
                                  const std::string& refunded_by);

// Payment requests. Times are RFC 3339 texts (FormatRfc3339Ms).
Task<Status> InsertPaymentRequest(pg::Connection& c, const PaymentRequest& req,
                                  const std::string& created_at);
Task<Result<std::optional<PaymentRequest>>> FindPaymentRequest(pg::Pool& pool,
                                                               const std::string& id);
// FOR UPDATE inside the caller's transaction.
Task<Result<std::optional<PaymentRequest>>> LockPaymentRequest(pg::Connection& c,
                                                               const std::string& id);
Task<Status> MarkPaymentRequestPaid(pg::Connection& c, const std::string& id,
                                    const std::string& transfer_id, const std::string& updated_at);
Task<Status> UpdatePaymentRequestStatus(pg::Connection& c, const std::string& id,
                                        std::string_view status, const std::string& updated_at);

// The requests where `user_id` is the payer (kIncoming), the requester (kOutgoing)
// or either (kBoth), newest first (created_at, then id, descending), optionally of
// one status, strictly after the keyset position `after` (none: from the newest).
enum class RequestDirection { kIncoming, kOutgoing, kBoth };
struct RequestKey {
  std::int64_t created_ms = 0;
  std::string id;
};
Task<Result<std::vector<PaymentRequest>>> ListPaymentRequests(
    pg::Pool& pool, const std::string& user_id, RequestDirection direction,
    const std::optional<std::string>& status, const std::optional<RequestKey>& after, int limit);

// Top-ups and withdrawals (status 'pending' when inserted).
Task<Status> InsertTopup(pg::Connection& c, const ProviderOperation& op, std::int64_t account_id,
                         const std::string& created_at);
Task<Status> InsertWithdrawal(pg::Connection& c, const ProviderOperation& op,
                              std::int64_t account_id, std::int64_t pending_account_id,
                              const std::string& hold_entry_id, const std::string& created_at);
Task<Result<std::optional<ProviderOperation>>> FindTopup(pg::Pool& pool, const std::string& id);
Task<Result<std::optional<ProviderOperation>>> FindWithdrawal(pg::Pool& pool,
                                                              const std::string& id);

// Provider webhooks: true when the event id is new (recorded now), false for a
// duplicate.
Task<Result<bool>> RecordProviderEvent(pg::Connection& c, const std::string& id,
                                       const std::string& type, const std::string& reference);
// The top-up or withdrawal with `provider_reference`, FOR UPDATE, with its
// wallet account and (withdrawals) its pending account.
struct LockedOperation {
  ProviderOperation op;
  std::int64_t account_id = 0;
  std::int64_t pending_account_id = 0;  // withdrawals only
};
Task<Result<std::optional<LockedOperation>>> LockProviderOperation(
    pg::Connection& c, bool is_topup, const std::string& provider_reference);
// Sets the final status and the journal entry that settled it.
Task<Status> SettleProviderOperation(pg::Connection& c, bool is_topup, const std::string& id,
                                     const std::string& status,
                                     const std::optional<std::string>& entry_id,
                                     const std::string& updated_at);

// The outgoing limits of the sender's wallet that an entry counts against: its
// amount is added to the wallet's UTC day and month totals, under the wallet's
// row lock, and the entry is refused (limit_exceeded) beyond either.
struct OutgoingLimits {
  std::int64_t daily = 0;
  std::int64_t monthly = 0;
};

// payment_post_entry with the caller's transaction; returns its code. With
// `limits`, the entry counts against the sender's outgoing limits.
Task<Result<std::string>> PostEntry(pg::Connection& c, const std::string& entry_id,
                                    std::string_view kind, const std::string& reference,
                                    std::int64_t from, std::int64_t to, std::int64_t amount,
                                    std::string_view currency, std::int64_t now_ms,
                                    std::optional<OutgoingLimits> limits = std::nullopt);

}  // namespace tchat::payment
