#include "ledger_store.hpp"

#include <utility>

#include <tchat/core/time.hpp>

namespace tchat::payment {
namespace {

// Columns of a transfer row in the order TransferFromRow reads them.
#define TCHAT_TRANSFER_COLUMNS                                                            \
  "id, kind, from_user_id, to_user_id, amount, currency, note, conversation_id, status, " \
  "refund_of, refunded_by, payment_request_id, "                                          \
  "(extract(epoch FROM created_at) * 1000)::bigint AS created_ms, from_account_id, to_account_id"

constexpr std::size_t kWalletCacheMax = 200'000;

std::optional<std::string> OptString(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return std::string(r.GetString(row, col));
}

json::value ItemJson(const TransferItem& it, std::size_t ord) {
  const Transfer& t = it.transfer;
  json::object o;
  o["ord"] = ord;
  o["transfer_id"] = t.id;
  o["entry_id"] = it.entry_id;
  o["kind"] = t.kind;
  o["from_user"] = t.from_user_id;
  o["to_user"] = t.to_user_id;
  o["from_account"] = it.from_account;
  o["to_account"] = it.to_account;
  o["amount"] = t.amount;
  o["currency"] = t.currency;
  if (t.note) o["note"] = *t.note;
  if (t.conversation_id) o["conversation_id"] = *t.conversation_id;
  if (it.idempotency_key) o["idem_key"] = *it.idempotency_key;
  o["request_hash"] = it.request_hash;
  if (t.refund_of) o["refund_of"] = *t.refund_of;
  if (t.payment_request_id) o["payment_request_id"] = *t.payment_request_id;
  o["created_at"] = FormatRfc3339Ms(t.created_ms);
  if (it.daily_limit) o["daily_limit"] = *it.daily_limit;
  if (it.monthly_limit) o["monthly_limit"] = *it.monthly_limit;
  o["snapshot"] = it.snapshot;
  o["event_id"] = it.event_id;
  o["event"] = it.event;
  return o;
}

// One verification query: every row it returns is a violation (first column: an
// identifying text).
struct Check {
  const char* name;
  const char* sql;
};

constexpr Check kChecks[] = {
    {"entries_balanced",
     "SELECT entry_id::text FROM postings GROUP BY entry_id, currency HAVING sum(amount) <> 0"},
    {"entries_have_two_postings",
     "SELECT e.id::text FROM journal_entries e LEFT JOIN "
     "(SELECT entry_id, count(*) AS n FROM postings GROUP BY entry_id) p ON p.entry_id = e.id "
     "WHERE COALESCE(p.n, 0) < 2"},
    {"balances_match_postings",
     "SELECT a.id::text FROM accounts a LEFT JOIN "
     "(SELECT account_id, sum(amount) AS total FROM postings GROUP BY account_id) p "
     "ON p.account_id = a.id WHERE a.balance <> COALESCE(p.total, 0)"},
    {"balance_after_matches_running_sum",
     "SELECT id::text FROM (SELECT id, balance_after, "
     "sum(amount) OVER (PARTITION BY account_id ORDER BY id) AS running FROM postings) s "
     "WHERE balance_after <> running"},
    {"no_negative_wallets",
     "SELECT id::text FROM accounts WHERE kind <> 'clearing' AND balance < 0 "
     "UNION ALL SELECT 'posting ' || p.id FROM postings p JOIN accounts a ON a.id = p.account_id "
     "WHERE a.kind <> 'clearing' AND p.balance_after < 0"},
    {"transfers_posted",
     "SELECT t.id::text FROM transfers t LEFT JOIN postings p ON p.entry_id = t.entry_id "
     "AND p.account_id = t.to_account_id AND p.amount = t.amount WHERE p.id IS NULL"},
    {"idempotency_keys_applied_once",
     "SELECT from_user_id::text || ' ' || idempotency_key FROM transfers "
     "WHERE idempotency_key IS NOT NULL GROUP BY from_user_id, idempotency_key "
     "HAVING count(*) > 1 "
     "UNION ALL SELECT k.user_id::text || ' ' || k.key FROM idempotency_keys k "
     "WHERE k.result_code = 'ok' AND NOT EXISTS (SELECT 1 FROM transfers t "
     "WHERE t.id = k.resource_id) AND NOT EXISTS (SELECT 1 FROM topups u "
     "WHERE u.id = k.resource_id) AND NOT EXISTS (SELECT 1 FROM withdrawals w "
     "WHERE w.id = k.resource_id) AND NOT EXISTS (SELECT 1 FROM payment_requests r "
     "WHERE r.id = k.resource_id)"},
    {"provider_operations_settled_once",
     "SELECT id::text FROM topups WHERE (status = 'succeeded') <> (entry_id IS NOT NULL) "
     "UNION ALL SELECT id::text FROM withdrawals WHERE (status = 'pending') <> "
     "(final_entry_id IS NULL)"},
};

constexpr const char* kCurrencyTotals =
    "SELECT c.code, COALESCE((SELECT sum(balance) FROM accounts a WHERE a.currency = c.code), 0)"
    "::text, COALESCE((SELECT sum(amount) FROM postings p WHERE p.currency = c.code), 0)::text "
    "FROM currencies c ORDER BY c.code";

constexpr const char* kCounts =
    "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM journal_entries), "
    "(SELECT count(*) FROM postings), (SELECT count(*) FROM transfers)";

}  // namespace

namespace {

std::int64_t Pick(const std::vector<std::int64_t>& shards, std::string_view key) {
  return shards[std::hash<std::string_view>{}(key) % shards.size()];
}

}  // namespace

std::int64_t SystemAccounts::ClearingFor(std::string_view operation_id) const {
  return Pick(clearing, operation_id);
}

std::int64_t SystemAccounts::PendingFor(std::string_view operation_id) const {
  return Pick(withdrawal_pending, operation_id);
}

Transfer LedgerStore::TransferFromRow(const pg::PgResult& r, int row) {
  Transfer t;
  t.id = r.GetString(row, 0);
  t.kind = r.GetString(row, 1);
  t.from_user_id = r.GetString(row, 2);
  t.to_user_id = r.GetString(row, 3);
  t.amount = r.GetInt64(row, 4);
  t.currency = r.GetString(row, 5);
  t.note = OptString(r, row, 6);
  t.conversation_id = OptString(r, row, 7);
  t.status = r.GetString(row, 8);
  t.refund_of = OptString(r, row, 9);
  t.refunded_by = OptString(r, row, 10);
  t.payment_request_id = OptString(r, row, 11);
  t.created_ms = r.GetInt64(row, 12);
  return t;
}

Task<Result<std::int64_t>> LedgerStore::EnsureWallet(const std::string& user_id,
                                                     std::string_view currency) {
  std::string cache_key = user_id;
  cache_key.push_back(' ');
  cache_key.append(currency);
  if (auto it = wallet_ids_.find(cache_key); it != wallet_ids_.end()) co_return it->second;

  static constexpr std::string_view kFind =
      "SELECT id FROM accounts WHERE kind = 'user' AND user_id = $1 AND currency = $2";
  static constexpr std::string_view kCreate =
      "INSERT INTO accounts (kind, user_id, currency) VALUES ('user', $1, $2) "
      "ON CONFLICT DO NOTHING RETURNING id";
  std::optional<std::int64_t> id;
  for (int attempt = 0; attempt < 2 && !id; ++attempt) {
    auto found = co_await pool_.Query(kFind, user_id, currency);
    if (!found) co_return std::move(found).error();
    if (!found->empty()) {
      id = found->GetInt64(0, 0);
      break;
    }
    // A concurrent creator makes this insert wait and then do nothing; the next
    // SELECT (a new snapshot) sees its row.
    auto created = co_await pool_.Query(kCreate, user_id, currency);
    if (!created && created.error().sqlstate == "23514") {
      // accounts_closed_owner_no_new: the owner's wallets were closed (account deleted).
      co_return Error(ErrorCode::kConflict, "the recipient's wallets are closed", "wallet_closed");
    }
    if (!created) co_return std::move(created).error();
    if (!created->empty()) id = created->GetInt64(0, 0);
  }
  if (!id) co_return Error::Internal("wallet could not be created");
  if (wallet_ids_.size() >= kWalletCacheMax) wallet_ids_.clear();
  wallet_ids_.emplace(std::move(cache_key), *id);
  co_return *id;
}

Task<Result<std::vector<Wallet>>> LedgerStore::Wallets(const std::string& user_id) {
  static constexpr std::string_view kSql =
      "SELECT currency, balance, (extract(epoch FROM updated_at) * 1000)::bigint "
      "FROM accounts WHERE kind = 'user' AND user_id = $1 ORDER BY currency";
  auto r = co_await pool_.Query(kSql, user_id);
  if (!r) co_return std::move(r).error();
  std::vector<Wallet> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) {
    out.push_back(Wallet{std::string(r->GetString(i, 0)), r->GetInt64(i, 1), r->GetInt64(i, 2)});
  }
  co_return out;
}

Task<Result<std::string>> LedgerStore::CloseWallets(const std::string& user_id) {
  auto r = co_await pool_.Query("SELECT payment_close_wallets($1::uuid)", user_id);
  if (!r) co_return std::move(r).error();
  co_return std::string(r->GetString(0, 0));
}

Task<Result<SystemAccounts>> LedgerStore::System(std::string_view currency) {
  if (system_.empty()) {
    auto r = co_await pool_.Query(
        "SELECT id, kind, currency FROM accounts WHERE kind <> 'user' ORDER BY id");
    if (!r) co_return std::move(r).error();
    for (int i = 0; i < r->Rows(); ++i) {
      auto& s = system_[std::string(r->GetString(i, 2))];
      const std::string_view kind = r->GetString(i, 1);
      if (kind == "clearing") s.clearing.push_back(r->GetInt64(i, 0));
      if (kind == "withdrawal_pending") s.withdrawal_pending.push_back(r->GetInt64(i, 0));
      if (kind == "fees") s.fees = r->GetInt64(i, 0);
    }
  }
  auto it = system_.find(std::string(currency));
  if (it == system_.end() || it->second.clearing.empty() || it->second.withdrawal_pending.empty()) {
    system_.clear();  // reload next time: the migration may have been incomplete
    co_return Error::Internal("system accounts missing for " + std::string(currency));
  }
  co_return it->second;
}

std::string TransferItemJson(const TransferItem& item, std::size_t ord) {
  return tchat::ToJson(ItemJson(item, ord));
}

Task<Result<std::vector<PostOutcome>>> LedgerStore::PostTransfers(
    const std::vector<const std::string*>& items) {
  std::size_t size = 2;
  for (const std::string* it : items) size += it->size() + 1;
  std::string payload;
  payload.reserve(size);
  payload.push_back('[');
  for (const std::string* it : items) {
    if (payload.size() > 1) payload.push_back(',');
    payload.append(*it);
  }
  payload.push_back(']');
  auto r = co_await pool_.Query(
      "SELECT ord, result_code, snapshot, replayed FROM payment_post_transfers($1::jsonb) "
      "ORDER BY ord",
      payload);
  if (!r) co_return std::move(r).error();
  if (r->Rows() != static_cast<int>(items.size())) {
    co_return Error::Internal("payment_post_transfers returned a wrong number of rows");
  }
  std::vector<PostOutcome> out;
  out.reserve(items.size());
  for (int i = 0; i < r->Rows(); ++i) {
    PostOutcome o;
    o.result_code = r->GetString(i, "result_code");
    if (!r->IsNull(i, "snapshot")) o.snapshot = r->GetString(i, "snapshot");
    o.replayed = r->GetBool(i, "replayed");
    out.push_back(std::move(o));
  }
  co_return out;
}

Task<Result<std::string>> LedgerStore::ApplyTransfer(pg::Connection& conn,
                                                     const TransferItem& item) {
  const std::string payload = tchat::ToJson(ItemJson(item, 1));
  auto r = co_await conn.Query(
      "SELECT payment_apply_transfer(jsonb_populate_record(NULL::payment_transfer_item, "
      "$1::jsonb), true)",
      payload);
  if (!r) co_return std::move(r).error();
  co_return std::string(r->GetString(0, 0));
}

Task<Result<std::optional<Transfer>>> LedgerStore::FindTransfer(const std::string& id) {
  auto r =
      co_await pool_.Query("SELECT " TCHAT_TRANSFER_COLUMNS " FROM transfers WHERE id = $1", id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<Transfer>();
  co_return std::optional<Transfer>(TransferFromRow(*r, 0));
}

Task<Result<std::optional<Transfer>>> LedgerStore::FindTransferOn(pg::Connection& conn,
                                                                  const std::string& id) {
  auto r =
      co_await conn.Query("SELECT " TCHAT_TRANSFER_COLUMNS " FROM transfers WHERE id = $1", id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<Transfer>();
  co_return std::optional<Transfer>(TransferFromRow(*r, 0));
}

Task<Result<std::optional<LedgerStore::LockedTransfer>>> LedgerStore::LockTransfer(
    pg::Connection& conn, const std::string& id) {
  auto r = co_await conn.Query(
      "SELECT " TCHAT_TRANSFER_COLUMNS " FROM transfers WHERE id = $1 FOR UPDATE", id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<LockedTransfer>();
  LockedTransfer lt;
  lt.transfer = TransferFromRow(*r, 0);
  lt.from_account = r->GetInt64(0, 13);
  lt.to_account = r->GetInt64(0, 14);
  co_return std::optional<LockedTransfer>(std::move(lt));
}

Task<Result<std::vector<HistoryLine>>> LedgerStore::History(
    const std::string& user_id, const std::optional<std::string>& currency,
    std::int64_t before_posting_id, int limit) {
  // One index range scan per wallet (postings_account_idx), merged and cut.
  static constexpr std::string_view kSql =
      "SELECT p.id, e.id, e.kind, p.amount, p.currency, p.balance_after, "
      "p.counterparty_user_id, e.reference_id, "
      "(extract(epoch FROM p.created_at) * 1000)::bigint "
      "FROM accounts a "
      "CROSS JOIN LATERAL (SELECT * FROM postings q WHERE q.account_id = a.id AND q.id < $3 "
      "ORDER BY q.id DESC LIMIT $4) p "
      "JOIN journal_entries e ON e.id = p.entry_id "
      "WHERE a.kind = 'user' AND a.user_id = $1 AND ($2::text IS NULL OR a.currency = $2) "
      "ORDER BY p.id DESC LIMIT $4";
  // The first page (no cursor) shows a transfer the user was just told of: from the
  // primary. Later pages from the replica when one is within its lag bound, unless
  // the user moved money within the pin window (handlers.cpp pins them after each
  // money POST); docs/operations/read-replica.md.
  auto query = [&](pg::Pool& pool) {
    return pool.Query(kSql, user_id, currency, before_posting_id, limit);
  };
  // (No co_await inside ?: — GCC 12 miscompiles it.)
  Result<pg::PgResult> r = Error::Internal("unset");
  if (reads_ && before_posting_id < INT64_MAX) {  // INT64_MAX: no cursor (service.cpp)
    r = co_await reads_->Read(query, user_id);
  } else {
    r = co_await query(pool_);
  }
  if (!r) co_return std::move(r).error();
  std::vector<HistoryLine> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) {
    HistoryLine h;
    h.posting_id = r->GetInt64(i, 0);
    h.entry_id = r->GetString(i, 1);
    h.kind = r->GetString(i, 2);
    h.amount = r->GetInt64(i, 3);
    h.currency = r->GetString(i, 4);
    h.balance_after = r->GetInt64(i, 5);
    h.counterparty_user_id = OptString(*r, i, 6);
    h.reference_id = r->GetString(i, 7);
    h.created_ms = r->GetInt64(i, 8);
    out.push_back(std::move(h));
  }
  co_return out;
}

Task<Result<json::object>> LedgerStore::Verify() {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kRepeatableRead, [](pg::Connection& conn) -> Task<Result<json::object>> {
        if (auto ro = co_await conn.Query("SET TRANSACTION READ ONLY"); !ro) {
          co_return std::move(ro).error();
        }
        json::object out;
        bool ok = true;
        json::array checks;
        for (const Check& c : kChecks) {
          auto r = co_await conn.Query(c.sql);
          if (!r) co_return std::move(r).error();
          json::array examples;
          for (int i = 0; i < r->Rows() && i < 5; ++i) examples.emplace_back(r->GetString(i, 0));
          json::object check;
          check["name"] = c.name;
          check["ok"] = r->Rows() == 0;
          check["violations"] = r->Rows();
          check["examples"] = std::move(examples);
          ok = ok && r->Rows() == 0;
          checks.push_back(std::move(check));
        }
        auto totals = co_await conn.Query(kCurrencyTotals);
        if (!totals) co_return std::move(totals).error();
        json::object currencies;
        bool sums_zero = true;
        for (int i = 0; i < totals->Rows(); ++i) {
          json::object cur;
          const std::string_view balances = totals->GetString(i, 1);
          const std::string_view postings = totals->GetString(i, 2);
          cur["balances_sum"] = balances;
          cur["postings_sum"] = postings;
          sums_zero = sums_zero && balances == "0" && postings == "0";
          currencies[totals->GetString(i, 0)] = std::move(cur);
        }
        json::object zero;
        zero["name"] = "currencies_sum_to_zero";
        zero["ok"] = sums_zero;
        zero["violations"] = sums_zero ? 0 : 1;
        zero["examples"] = json::array();
        checks.push_back(std::move(zero));
        ok = ok && sums_zero;

        auto counts = co_await conn.Query(kCounts);
        if (!counts) co_return std::move(counts).error();
        json::object c;
        c["accounts"] = counts->GetInt64(0, 0);
        c["entries"] = counts->GetInt64(0, 1);
        c["postings"] = counts->GetInt64(0, 2);
        c["transfers"] = counts->GetInt64(0, 3);

        out["ok"] = ok;
        out["checked_at"] = FormatRfc3339Ms(NowUnixMs());
        out["checks"] = std::move(checks);
        out["currencies"] = std::move(currencies);
        out["counts"] = std::move(c);
        co_return out;
      });
}

Task<Result<std::int64_t>> LedgerStore::PruneIdempotencyKeys(std::int64_t cutoff_ms, int batch) {
  auto r = co_await pool_.Query(
      "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys "
      "WHERE created_at < $1::timestamptz LIMIT $2))",
      FormatRfc3339Ms(cutoff_ms), batch);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows();
}

}  // namespace tchat::payment
