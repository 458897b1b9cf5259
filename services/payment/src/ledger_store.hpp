#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/pg/read_pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "records.hpp"

namespace tchat::payment {

// One transfer as handed to payment_post_transfers / payment_apply_transfer (the
// payment_transfer_item type of the migrations). The transfer's snapshot (its
// canonical JSON, records.hpp) and the outbox event are rendered before posting,
// so that the database stores with the Idempotency-Key the record a replay returns.
struct TransferItem {
  Transfer transfer;  // status "completed"
  std::string entry_id;
  std::int64_t from_account = 0;
  std::int64_t to_account = 0;
  std::optional<std::string> idempotency_key;
  std::string request_hash;
  std::optional<std::int64_t> daily_limit;  // nullopt: not counted against limits
  std::optional<std::int64_t> monthly_limit;
  std::string snapshot;
  std::string event_id;
  std::string event;
};

// The item as the JSON object the database reads (payment_transfer_item), with
// its 1-based position in the batch. Built by the submitting worker, so that the
// batcher only joins strings.
std::string TransferItemJson(const TransferItem& item, std::size_t ord);

// What the database answered for one item (payment_post_transfers, by column
// name): `result_code` "ok" or a domain code (insufficient_funds, limit_exceeded,
// amount_overflow, idempotency_key_reused), and whether it came from an earlier
// request with the key. `snapshot` is the stored transfer of a replayed "ok"
// (empty otherwise: a fresh item's transfer is the one it was posted with).
struct PostOutcome {
  std::string result_code;
  std::string snapshot;
  bool replayed = false;
};

struct Wallet {
  std::string currency;
  std::int64_t balance = 0;
  std::int64_t updated_ms = 0;
};

// One line of a user's history: a posting on one of their wallets.
struct HistoryLine {
  std::int64_t posting_id = 0;  // the cursor
  std::string entry_id;
  std::string kind;
  std::int64_t amount = 0;  // signed: negative leaves the wallet
  std::string currency;
  std::int64_t balance_after = 0;
  std::optional<std::string> counterparty_user_id;
  std::string reference_id;
  std::int64_t created_ms = 0;
};

// The system accounts of one currency. Clearing and withdrawal_pending are split
// into shards; a provider operation uses the shard its id hashes to.
struct SystemAccounts {
  std::vector<std::int64_t> clearing;
  std::vector<std::int64_t> withdrawal_pending;
  std::int64_t fees = 0;

  std::int64_t ClearingFor(std::string_view operation_id) const;
  std::int64_t PendingFor(std::string_view operation_id) const;
};

// SQL access to the ledger for one worker: wallets (with a cache of account ids,
// which never change once created), batched transfer posting, transfers, history,
// verification and pruning. Holds a reference to the worker's pool; not
// thread-safe, used only by coroutines on that worker.
class LedgerStore {
 public:
  // `reads` (may be null): where History reads, possibly a replica (pg::ReadPool).
  explicit LedgerStore(pg::Pool& pool, pg::ReadPool* reads = nullptr)
      : pool_(pool), reads_(reads) {}

  pg::Pool& pool() { return pool_; }

  // The account id of `user_id`'s wallet in `currency`, created (balance 0) on first
  // use. Safe under concurrent first uses.
  Task<Result<std::int64_t>> EnsureWallet(const std::string& user_id, std::string_view currency);
  // The user's wallets, by currency code.
  Task<Result<std::vector<Wallet>>> Wallets(const std::string& user_id);
  // Closes every wallet of the user (payment_close_wallets, migration 000004):
  // "ok" (also when already closed), "wallet_not_empty" or "operation_pending"
  // (then nothing changed).
  Task<Result<std::string>> CloseWallets(const std::string& user_id);
  // The system accounts of `currency` (loaded once).
  Task<Result<SystemAccounts>> System(std::string_view currency);

  // Posts the items in one transaction (payment_post_transfers); one outcome per
  // item, in order. An error means nothing of the batch was applied — unless the
  // connection broke during COMMIT, when the outcome is unknown (kUnavailable): a
  // retry with the same idempotency keys then finds out.
  // `items` are TransferItemJson texts with ord 1..n.
  Task<Result<std::vector<PostOutcome>>> PostTransfers(
      const std::vector<const std::string*>& items);
  // Runs payment_apply_transfer for one item inside the caller's transaction,
  // locking both accounts; returns its code.
  static Task<Result<std::string>> ApplyTransfer(pg::Connection& conn, const TransferItem& item);

  Task<Result<std::optional<Transfer>>> FindTransfer(const std::string& id);
  // FOR UPDATE inside the caller's transaction; also returns the two account ids.
  struct LockedTransfer {
    Transfer transfer;
    std::int64_t from_account = 0;
    std::int64_t to_account = 0;
  };
  static Task<Result<std::optional<LockedTransfer>>> LockTransfer(pg::Connection& conn,
                                                                  const std::string& id);
  static Task<Result<std::optional<Transfer>>> FindTransferOn(pg::Connection& conn,
                                                              const std::string& id);

  // The user's postings older than `before_posting_id`, newest first, at most
  // `limit`, optionally of one currency.
  Task<Result<std::vector<HistoryLine>>> History(const std::string& user_id,
                                                 const std::optional<std::string>& currency,
                                                 std::int64_t before_posting_id, int limit);

  // Recomputes the ledger's invariants from the raw postings in one consistent
  // snapshot: {"ok", "checks":[...], "currencies":{...}, "counts":{...}}.
  Task<Result<json::object>> Verify();

  // Deletes up to `batch` idempotency keys created before `cutoff_ms`; the number
  // deleted.
  Task<Result<std::int64_t>> PruneIdempotencyKeys(std::int64_t cutoff_ms, int batch);

  static Transfer TransferFromRow(const pg::PgResult& r, int row);

 private:
  pg::Pool& pool_;
  pg::ReadPool* reads_;
  std::unordered_map<std::string, std::int64_t> wallet_ids_;  // "user currency" → id
  std::unordered_map<std::string, SystemAccounts> system_;
};

}  // namespace tchat::payment
