#include "store.hpp"

#include <utility>

#include <tchat/core/time.hpp>

namespace tchat::payment {
namespace {

#define TCHAT_REQUEST_COLUMNS                                                       \
  "id, from_user_id, to_user_id, amount, currency, note, conversation_id, status, " \
  "transfer_id, (extract(epoch FROM created_at) * 1000)::bigint, "                  \
  "(extract(epoch FROM updated_at) * 1000)::bigint"

#define TCHAT_TOPUP_COLUMNS                                             \
  "id, user_id, amount, currency, method, status, provider_reference, " \
  "(extract(epoch FROM created_at) * 1000)::bigint, "                   \
  "(extract(epoch FROM updated_at) * 1000)::bigint, account_id"

#define TCHAT_WITHDRAWAL_COLUMNS                                             \
  "id, user_id, amount, currency, destination, status, provider_reference, " \
  "(extract(epoch FROM created_at) * 1000)::bigint, "                        \
  "(extract(epoch FROM updated_at) * 1000)::bigint, account_id, pending_account_id"

std::optional<std::string> OptString(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return std::string(r.GetString(row, col));
}

PaymentRequest RequestFromRow(const pg::PgResult& r, int row) {
  PaymentRequest p;
  p.id = r.GetString(row, 0);
  p.from_user_id = r.GetString(row, 1);
  p.to_user_id = r.GetString(row, 2);
  p.amount = r.GetInt64(row, 3);
  p.currency = r.GetString(row, 4);
  p.note = OptString(r, row, 5);
  p.conversation_id = OptString(r, row, 6);
  p.status = r.GetString(row, 7);
  p.transfer_id = OptString(r, row, 8);
  p.created_ms = r.GetInt64(row, 9);
  p.updated_ms = r.GetInt64(row, 10);
  return p;
}

ProviderOperation OperationFromRow(const pg::PgResult& r, int row) {
  ProviderOperation op;
  op.id = r.GetString(row, 0);
  op.user_id = r.GetString(row, 1);
  op.amount = r.GetInt64(row, 2);
  op.currency = r.GetString(row, 3);
  op.method_or_destination = r.GetString(row, 4);
  op.status = r.GetString(row, 5);
  op.provider_reference = r.GetString(row, 6);
  op.created_ms = r.GetInt64(row, 7);
  op.updated_ms = r.GetInt64(row, 8);
  return op;
}

Status StatusOf(const Result<pg::PgResult>& r) {
  if (!r) return r.error();
  return Ok();
}

Result<std::optional<PaymentRequest>> OptionalRequest(Result<pg::PgResult> r) {
  if (!r) return std::move(r).error();
  if (r->empty()) return std::optional<PaymentRequest>();
  return std::optional<PaymentRequest>(RequestFromRow(*r, 0));
}

Result<std::optional<ProviderOperation>> OptionalOperation(Result<pg::PgResult> r) {
  if (!r) return std::move(r).error();
  if (r->empty()) return std::optional<ProviderOperation>();
  return std::optional<ProviderOperation>(OperationFromRow(*r, 0));
}

}  // namespace

Task<Result<IdempotencyClaim>> ClaimIdempotencyKey(pg::Connection& c, const std::string& user_id,
                                                   const std::string& key,
                                                   const std::string& request_hash) {
  auto r = co_await c.Query(
      "SELECT claimed, result_code, snapshot FROM payment_claim_idempotency_key($1, $2, $3)",
      user_id, key, request_hash);
  if (!r) co_return std::move(r).error();
  if (r->Rows() != 1) co_return Error::Internal("payment_claim_idempotency_key returned no row");
  IdempotencyClaim claim;
  claim.claimed = r->GetBool(0, "claimed");
  if (!r->IsNull(0, "result_code")) claim.result_code = r->GetString(0, "result_code");
  if (!r->IsNull(0, "snapshot")) claim.snapshot = r->GetString(0, "snapshot");
  co_return claim;
}

Task<Status> SettleIdempotencyKey(pg::Connection& c, const std::string& user_id,
                                  const std::string& key, const std::string& result_code,
                                  const std::string& snapshot,
                                  const std::optional<std::string>& resource_id) {
  auto r = co_await c.Query("SELECT payment_settle_idempotency_key($1, $2, $3, $4, $5)", user_id,
                            key, result_code, snapshot, resource_id);
  co_return StatusOf(r);
}

Task<Status> MarkTransferRefunded(pg::Connection& c, const std::string& id,
                                  const std::string& refunded_by) {
  auto r = co_await c.Query(
      "UPDATE transfers SET status = 'refunded', refunded_by = $2 WHERE id = $1", id, refunded_by);
  co_return StatusOf(r);
}

Task<Status> InsertPaymentRequest(pg::Connection& c, const PaymentRequest& req,
                                  const std::string& created_at) {
  auto r = co_await c.Query(
      "INSERT INTO payment_requests (id, from_user_id, to_user_id, amount, currency, note, "
      "conversation_id, status, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)",
      req.id, req.from_user_id, req.to_user_id, req.amount, req.currency, req.note,
      req.conversation_id, created_at);
  co_return StatusOf(r);
}

Task<Result<std::optional<PaymentRequest>>> FindPaymentRequest(pg::Pool& pool,
                                                               const std::string& id) {
  auto r = co_await pool.Query(
      "SELECT " TCHAT_REQUEST_COLUMNS " FROM payment_requests WHERE id = $1", id);
  co_return OptionalRequest(std::move(r));
}

Task<Result<std::optional<PaymentRequest>>> LockPaymentRequest(pg::Connection& c,
                                                               const std::string& id) {
  auto r = co_await c.Query(
      "SELECT " TCHAT_REQUEST_COLUMNS " FROM payment_requests WHERE id = $1 FOR UPDATE", id);
  co_return OptionalRequest(std::move(r));
}

Task<Status> MarkPaymentRequestPaid(pg::Connection& c, const std::string& id,
                                    const std::string& transfer_id, const std::string& updated_at) {
  auto r = co_await c.Query(
      "UPDATE payment_requests SET status = 'paid', transfer_id = $2, updated_at = $3 "
      "WHERE id = $1",
      id, transfer_id, updated_at);
  co_return StatusOf(r);
}

Task<Status> UpdatePaymentRequestStatus(pg::Connection& c, const std::string& id,
                                        std::string_view status, const std::string& updated_at) {
  auto r =
      co_await c.Query("UPDATE payment_requests SET status = $2, updated_at = $3 WHERE id = $1", id,
                       status, updated_at);
  co_return StatusOf(r);
}

Task<Result<std::vector<PaymentRequest>>> ListPaymentRequests(
    pg::Pool& pool, const std::string& user_id, RequestDirection direction,
    const std::optional<std::string>& status, const std::optional<RequestKey>& after, int limit) {
  // One index range scan per side (payment_requests_from_idx / _to_idx). created_at
  // is written in whole milliseconds (InsertPaymentRequest, FormatRfc3339Ms), so the
  // cursor's milliseconds name the position exactly.
  std::string_view party = direction == RequestDirection::kIncoming ? "from_user_id = $1"
                           : direction == RequestDirection::kOutgoing
                               ? "to_user_id = $1"
                               : "(from_user_id = $1 OR to_user_id = $1)";
  const std::string sql =
      "SELECT " TCHAT_REQUEST_COLUMNS " FROM payment_requests WHERE " + std::string(party) +
      " AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR (created_at, id) < "
      "('epoch'::timestamptz + $3::bigint * interval '1 millisecond', $4::uuid)) "
      "ORDER BY created_at DESC, id DESC LIMIT $5";
  std::optional<std::int64_t> after_ms;
  std::optional<std::string> after_id;
  if (after) {
    after_ms = after->created_ms;
    after_id = after->id;
  }
  auto r = co_await pool.Query(sql, user_id, status, after_ms, after_id, limit);
  if (!r) co_return std::move(r).error();
  std::vector<PaymentRequest> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) out.push_back(RequestFromRow(*r, i));
  co_return out;
}

Task<Status> InsertTopup(pg::Connection& c, const ProviderOperation& op, std::int64_t account_id,
                         const std::string& created_at) {
  auto r = co_await c.Query(
      "INSERT INTO topups (id, user_id, account_id, amount, currency, method, status, "
      "provider_reference, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8)",
      op.id, op.user_id, account_id, op.amount, op.currency, op.method_or_destination,
      op.provider_reference, created_at);
  co_return StatusOf(r);
}

Task<Status> InsertWithdrawal(pg::Connection& c, const ProviderOperation& op,
                              std::int64_t account_id, std::int64_t pending_account_id,
                              const std::string& hold_entry_id, const std::string& created_at) {
  auto r = co_await c.Query(
      "INSERT INTO withdrawals (id, user_id, account_id, amount, currency, destination, "
      "status, provider_reference, pending_account_id, hold_entry_id, created_at, "
      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10)",
      op.id, op.user_id, account_id, op.amount, op.currency, op.method_or_destination,
      op.provider_reference, pending_account_id, hold_entry_id, created_at);
  co_return StatusOf(r);
}

Task<Result<std::optional<ProviderOperation>>> FindTopup(pg::Pool& pool, const std::string& id) {
  auto r = co_await pool.Query("SELECT " TCHAT_TOPUP_COLUMNS " FROM topups WHERE id = $1", id);
  co_return OptionalOperation(std::move(r));
}

Task<Result<std::optional<ProviderOperation>>> FindWithdrawal(pg::Pool& pool,
                                                              const std::string& id) {
  auto r =
      co_await pool.Query("SELECT " TCHAT_WITHDRAWAL_COLUMNS " FROM withdrawals WHERE id = $1", id);
  co_return OptionalOperation(std::move(r));
}

Task<Result<bool>> RecordProviderEvent(pg::Connection& c, const std::string& id,
                                       const std::string& type, const std::string& reference) {
  auto fresh = co_await c.Query(
      "INSERT INTO psp_events (id, type, reference) VALUES ($1, $2, $3) "
      "ON CONFLICT DO NOTHING",
      id, type, reference);
  if (!fresh) co_return std::move(fresh).error();
  co_return fresh->AffectedRows() != 0;
}

Task<Result<std::optional<LockedOperation>>> LockProviderOperation(
    pg::Connection& c, bool is_topup, const std::string& provider_reference) {
  const std::string_view select_sql =
      is_topup ? std::string_view("SELECT " TCHAT_TOPUP_COLUMNS
                                  " FROM topups WHERE provider_reference = $1 FOR UPDATE")
               : std::string_view("SELECT " TCHAT_WITHDRAWAL_COLUMNS
                                  " FROM withdrawals WHERE provider_reference = $1 "
                                  "FOR UPDATE");
  auto row = co_await c.Query(select_sql, provider_reference);
  if (!row) co_return std::move(row).error();
  if (row->empty()) co_return std::optional<LockedOperation>();
  LockedOperation locked;
  locked.op = OperationFromRow(*row, 0);
  locked.account_id = row->GetInt64(0, 9);
  if (!is_topup) locked.pending_account_id = row->GetInt64(0, 10);
  co_return std::optional<LockedOperation>(std::move(locked));
}

Task<Status> SettleProviderOperation(pg::Connection& c, bool is_topup, const std::string& id,
                                     const std::string& status,
                                     const std::optional<std::string>& entry_id,
                                     const std::string& updated_at) {
  const std::string_view update_sql =
      is_topup ? std::string_view(
                     "UPDATE topups SET status = $2, entry_id = $3, "
                     "updated_at = $4 WHERE id = $1")
               : std::string_view(
                     "UPDATE withdrawals SET status = $2, final_entry_id = $3, "
                     "updated_at = $4 WHERE id = $1");
  auto r = co_await c.Query(update_sql, id, status, entry_id, updated_at);
  co_return StatusOf(r);
}

Task<Result<std::string>> PostEntry(pg::Connection& c, const std::string& entry_id,
                                    std::string_view kind, const std::string& reference,
                                    std::int64_t from, std::int64_t to, std::int64_t amount,
                                    std::string_view currency, std::int64_t now_ms,
                                    std::optional<OutgoingLimits> limits) {
  // The UTC day and month of the entry, as payment_apply_transfer computes them;
  // NULL (not counted) without limits.
  const std::optional<std::int64_t> daily =
      limits ? std::optional<std::int64_t>(limits->daily) : std::nullopt;
  const std::optional<std::int64_t> monthly =
      limits ? std::optional<std::int64_t>(limits->monthly) : std::nullopt;
  auto r = co_await c.Query(
      "SELECT payment_post_entry($1::uuid, $2::text, $3::uuid, $4::bigint, $5::bigint, "
      "$6::bigint, $7::text, NULL::uuid, NULL::uuid, $8::timestamptz, true, "
      "CASE WHEN $9::bigint IS NULL THEN NULL "
      "ELSE ($8::timestamptz AT TIME ZONE 'UTC')::date END, "
      "CASE WHEN $9::bigint IS NULL THEN NULL "
      "ELSE date_trunc('month', $8::timestamptz AT TIME ZONE 'UTC')::date END, "
      "$9::bigint, $10::bigint)",
      entry_id, kind, reference, from, to, amount, currency, FormatRfc3339Ms(now_ms), daily,
      monthly);
  if (!r) co_return std::move(r).error();
  co_return std::string(r->GetString(0, 0));
}

}  // namespace tchat::payment
