#include "store.hpp"

#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/pg/result.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "revocation_events.hpp"

namespace tchat::auth {

namespace {

// A timestamptz column as Unix milliseconds (truncated), formatted by FormatRfc3339Ms.
#define TCHAT_MS(col) "floor(extract(epoch FROM " col ") * 1000)::bigint"
// The user columns, in the order ReadUser expects.
#define USER_COLS                                                                                  \
  "u.id::text, u.phone, u.country, u.locale, u.display_name, u.username, u.avatar_url, " TCHAT_MS( \
      "u.created_at") ", u.password_hash IS NOT NULL"
constexpr int kUserCols = 9;

constexpr std::string_view kInsertUserSql =
    "INSERT INTO users (id, phone, country, locale) VALUES ($1::uuid, $2, $3, $4) "
    "ON CONFLICT (phone) DO NOTHING";
constexpr std::string_view kLockUserByPhoneSql =
    "SELECT " USER_COLS " FROM users u WHERE u.phone = $1 FOR UPDATE";
constexpr std::string_view kLockUserByIdSql = "SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE";
constexpr std::string_view kInsertSessionByPhoneSql =
    "INSERT INTO sessions (id, user_id, device_name, platform, ip, user_agent, method, expires_at) "
    "SELECT $1::uuid, u.id, NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), $7, "
    "now() + $8::interval FROM users u WHERE u.phone = $2";
constexpr std::string_view kInsertSessionSql =
    "INSERT INTO sessions (id, user_id, device_name, platform, ip, user_agent, method, expires_at) "
    "VALUES ($1::uuid, $2::uuid, NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), "
    "$7, now() + $8::interval)";
constexpr std::string_view kInsertFirstTokenSql =
    "INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at) "
    "SELECT decode($1, 'hex'), s.id, s.user_id, s.expires_at FROM sessions s WHERE s.id = $2::uuid";
// An event id made by the database: a UUIDv7 like NewUuidV7() (48 bits of Unix
// milliseconds, version 7, random rest), one per row.
#define TCHAT_SQL_UUID_V7                                                                    \
  "encode(set_byte(overlay(uuid_send(gen_random_uuid()) PLACING "                            \
  "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) " \
  "FROM 1 FOR 6), 6, 112 + floor(random() * 16)::int), 'hex')::uuid"
// The CTE `announced`: one auth.session.revoked outbox row (revocation_events.hpp;
// stream S, type T, occurred_at At: parameters) per row (id, user_id) of the CTE
// `gone`, in the statement that revokes them, so the announcement commits or
// rolls back with the revocation.
#define TCHAT_ANNOUNCE_GONE(S, T, At, reason)                                                      \
  " announced AS (INSERT INTO outbox (id, stream, type, payload)"                                  \
  " SELECT e.eid, " S ", " T ", jsonb_build_object('id', e.eid, 'type', " T ", 'occurred_at', " At \
  ", 'data', jsonb_build_object('user_id', e.user_id, 'session_id', e.id, 'reason', " reason       \
  "))"                                                                                             \
  " FROM (SELECT g.id, g.user_id, " TCHAT_SQL_UUID_V7 " AS eid FROM gone g) e)"

// The per-user cap: the sessions beyond the newest $2 end, each announced.
constexpr std::string_view kEvictSql =
    "WITH gone AS (UPDATE sessions SET revoked_at = now(), revoke_reason = 'evicted' WHERE id IN ("
    "SELECT id FROM sessions WHERE user_id = (SELECT user_id FROM sessions WHERE id = $1::uuid) "
    "AND revoked_at IS NULL AND expires_at > now() ORDER BY id DESC OFFSET $2) "
    "RETURNING id, user_id)," TCHAT_ANNOUNCE_GONE("$3::text", "$4::text", "$5::text",
                                                  "'evicted'") " SELECT count(*) FROM gone";
constexpr std::string_view kRehashSql =
    "UPDATE users SET password_hash = $2 WHERE id = $1::uuid AND password_hash = $3";

constexpr std::string_view kRefreshSql =
    "WITH used AS ("
    "  UPDATE refresh_tokens SET used_at = now()"
    "  WHERE token_hash = decode($1, 'hex') AND used_at IS NULL AND expires_at > now()"
    "  RETURNING session_id),"
    " s AS ("
    "  UPDATE sessions SET last_used_at = now(), expires_at = now() + $3::interval,"
    "    ip = COALESCE(NULLIF($4, ''), sessions.ip)"
    "  FROM used WHERE sessions.id = used.session_id AND sessions.revoked_at IS NULL"
    "  RETURNING sessions.id, sessions.user_id, sessions.expires_at),"
    " ins AS ("
    "  INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at)"
    "  SELECT decode($2, 'hex'), s.id, s.user_id, s.expires_at FROM s)"
    " SELECT " USER_COLS ", s.id::text FROM s JOIN users u ON u.id = s.user_id";
constexpr std::string_view kRefreshWhySql =
    "SELECT rt.session_id::text, rt.used_at IS NOT NULL, s.revoked_at IS NOT NULL "
    "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
    "WHERE rt.token_hash = decode($1, 'hex')";
constexpr std::string_view kRevokeForReuseSql =
    "WITH gone AS (UPDATE sessions SET revoked_at = now(), revoke_reason = 'refresh_token_reuse' "
    "WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id, user_id)," TCHAT_ANNOUNCE_GONE(
        "$2::text", "$3::text", "$4::text",
        "'refresh_token_reuse'") " SELECT user_id::text FROM gone";

constexpr std::string_view kSessionActiveSql =
    "SELECT revoked_at IS NULL AND expires_at > now() FROM sessions "
    "WHERE id = $1::uuid AND user_id = $2::uuid";
constexpr std::string_view kRevokeSql =
    "WITH t AS (SELECT id, revoked_at FROM sessions WHERE id = $1::uuid AND user_id = $2::uuid "
    "FOR UPDATE),"
    " r AS (UPDATE sessions SET revoked_at = now(), revoke_reason = $3 FROM t "
    "WHERE sessions.id = t.id AND t.revoked_at IS NULL RETURNING 1)"
    " SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM r)";
constexpr std::string_view kListSessionsSql =
    "SELECT id::text, method, device_name, platform, ip, " TCHAT_MS("created_at") ", "
    TCHAT_MS("last_used_at") ", " TCHAT_MS("expires_at") " FROM sessions "
    "WHERE user_id = $1::uuid AND revoked_at IS NULL AND expires_at > now() "
    "AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3";

constexpr std::string_view kGetUserSql = "SELECT " USER_COLS " FROM users u WHERE u.id = $1::uuid";
constexpr std::string_view kUserByPhoneSql = "SELECT " USER_COLS " FROM users u WHERE u.phone = $1";
constexpr std::string_view kUserByUsernameSql =
    "SELECT " USER_COLS
    " FROM users u WHERE lower(u.username) = lower($1) AND u.username IS NOT NULL";
constexpr std::string_view kLoginByPhoneSql =
    "SELECT " USER_COLS ", COALESCE(u.password_hash, '') FROM users u WHERE u.phone = $1";
constexpr std::string_view kLoginByUsernameSql =
    "SELECT " USER_COLS
    ", COALESCE(u.password_hash, '') FROM users u "
    "WHERE lower(u.username) = lower($1) AND u.username IS NOT NULL";
constexpr std::string_view kPasswordHashSql =
    "SELECT COALESCE(password_hash, '') FROM users WHERE id = $1::uuid";

constexpr std::string_view kUpdateProfileSql =
    "UPDATE users u SET"
    " display_name = CASE WHEN $2::boolean THEN $3 ELSE u.display_name END,"
    " username = CASE WHEN $4::boolean THEN $5 ELSE u.username END,"
    " locale = CASE WHEN $6::boolean THEN $7 ELSE u.locale END,"
    " avatar_url = CASE WHEN $8::boolean THEN $9 ELSE u.avatar_url END,"
    " updated_at = now()"
    " WHERE u.id = $1::uuid RETURNING " USER_COLS;
// An empty new hash ($2) removes the password.
constexpr std::string_view kSetPasswordSql =
    "WITH p AS (UPDATE users SET password_hash = NULLIF($2, ''), password_changed_at = now(), "
    "updated_at = now() WHERE id = $1::uuid AND COALESCE(password_hash, '') = $3 RETURNING id),"
    " r AS (UPDATE sessions SET revoked_at = now(), revoke_reason = 'password_changed' "
    "WHERE user_id IN (SELECT id FROM p) AND id <> $4::uuid AND revoked_at IS NULL RETURNING id)"
    " SELECT (SELECT count(*) FROM p), (SELECT COALESCE(string_agg(id::text, ','), '') FROM r)";

// The user's sessions still active are read before the row (and, by cascade,
// they) go: their ids are announced so that messaging refuses their tokens.
constexpr std::string_view kDeleteUserSql =
    "WITH s AS (SELECT id FROM sessions WHERE user_id = $1::uuid AND revoked_at IS NULL "
    "AND expires_at > now()), d AS (DELETE FROM users WHERE id = $1::uuid RETURNING id) "
    "SELECT (SELECT count(*) FROM d), (SELECT COALESCE(string_agg(id::text, ','), '') FROM s)";

constexpr std::string_view kCleanupSessionsSql =
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE "
    "(revoked_at IS NOT NULL AND revoked_at < now() - $1::interval) OR "
    "expires_at < now() - $1::interval LIMIT 5000)";
constexpr std::string_view kCleanupTokensSql =
    "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens "
    "WHERE expires_at < now() - $1::interval LIMIT 5000)";

std::optional<std::string> OptString(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return std::string(r.GetString(row, col));
}

UserRecord ReadUser(const pg::PgResult& r, int row, int first = 0) {
  UserRecord u;
  u.id = std::string(r.GetString(row, first + 0));
  u.phone = std::string(r.GetString(row, first + 1));
  u.country = std::string(r.GetString(row, first + 2));
  u.locale = std::string(r.GetString(row, first + 3));
  u.display_name = OptString(r, row, first + 4);
  u.username = OptString(r, row, first + 5);
  u.avatar_url = OptString(r, row, first + 6);
  u.created_at = FormatRfc3339Ms(r.GetInt64(row, first + 7));
  u.has_password = r.GetBool(row, first + 8);
  return u;
}

}  // namespace

AuthStore::AuthStore(pg::Pool& pool, std::chrono::seconds session_ttl, int max_sessions_per_user)
    : pool_(pool),
      session_ttl_(std::to_string(session_ttl.count()) + " seconds"),
      max_sessions_(max_sessions_per_user) {}

Task<Result<SignInRecord>> AuthStore::SignInByPhone(std::string_view phone,
                                                    std::string_view country,
                                                    std::string_view locale, const NewSession& s) {
  std::vector<pg::Statement> batch;
  batch.reserve(5);
  batch.push_back(pg::Statement::Of(kInsertUserSql, NewUuidV7(), phone, country, locale));
  batch.push_back(pg::Statement::Of(kLockUserByPhoneSql, phone));
  batch.push_back(pg::Statement::Of(kInsertSessionByPhoneSql, s.id, phone, s.device_name,
                                    s.platform, s.ip, s.user_agent, s.method, session_ttl_));
  batch.push_back(pg::Statement::Of(kInsertFirstTokenSql, s.refresh_hash, s.id));
  batch.push_back(Evict(s.id));
  auto r = co_await pool_.Pipeline(std::move(batch));
  if (!r) co_return std::move(r).error();
  auto& res = *r;
  if (res[1].Rows() != 1) co_return Error::Internal("sign-in: user row missing");
  SignInRecord out;
  out.new_user = res[0].AffectedRows() == 1;
  out.user = ReadUser(res[1], 0);
  out.evicted = res[4].GetInt64(0, 0);
  co_return out;
}

Task<Result<SignInRecord>> AuthStore::SignInUser(const UserRecord& user, const NewSession& s,
                                                 std::string_view old_hash,
                                                 std::string_view rehash) {
  std::vector<pg::Statement> batch;
  batch.push_back(pg::Statement::Of(kLockUserByIdSql, user.id));
  batch.push_back(pg::Statement::Of(kInsertSessionSql, s.id, user.id, s.device_name, s.platform,
                                    s.ip, s.user_agent, s.method, session_ttl_));
  batch.push_back(pg::Statement::Of(kInsertFirstTokenSql, s.refresh_hash, s.id));
  batch.push_back(Evict(s.id));
  if (!rehash.empty()) batch.push_back(pg::Statement::Of(kRehashSql, user.id, rehash, old_hash));
  auto r = co_await pool_.Pipeline(std::move(batch));
  if (!r) co_return std::move(r).error();
  if ((*r)[0].Rows() != 1) co_return Error::Unauthenticated("the account no longer exists");
  SignInRecord out;
  out.user = user;
  out.evicted = (*r)[3].GetInt64(0, 0);
  co_return out;
}

pg::Statement AuthStore::Evict(std::string_view new_session) const {
  return pg::Statement::Of(kEvictSql, new_session, max_sessions_, events::kAuthStream,
                           events::kSessionRevoked, FormatRfc3339Ms(NowUnixMs()));
}

Task<Result<RefreshRecord>> AuthStore::Refresh(std::string_view token_hash,
                                               std::string_view new_hash, std::string_view ip) {
  RefreshRecord out;
  auto r = co_await pool_.Query(kRefreshSql, token_hash, new_hash, session_ttl_, ip);
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 1) {
    out.status = RefreshStatus::kRotated;
    out.user = ReadUser(*r, 0);
    out.session_id = std::string(r->GetString(0, kUserCols));
    co_return out;
  }
  // Why not? Unknown, revoked, or a replay of a token that was already rotated.
  auto why = co_await pool_.Query(kRefreshWhySql, token_hash);
  if (!why) co_return std::move(why).error();
  if (why->Rows() == 0) co_return out;  // kUnknown
  out.session_id = std::string(why->GetString(0, 0));
  const bool used = why->GetBool(0, 1);
  const bool revoked = why->GetBool(0, 2);
  if (revoked) {
    out.status = RefreshStatus::kRevoked;
  } else if (used) {
    // Revoked and announced in one statement (a racing reuse finds it revoked).
    auto rv = co_await pool_.Query(kRevokeForReuseSql, out.session_id, events::kAuthStream,
                                   events::kSessionRevoked, FormatRfc3339Ms(NowUnixMs()));
    if (!rv) co_return std::move(rv).error();
    out.status = RefreshStatus::kReused;
    if (rv->Rows() == 1) out.user.id = std::string(rv->GetString(0, 0));
  }  // else: expired, kUnknown
  co_return out;
}

Task<Result<bool>> AuthStore::IsSessionActive(std::string_view session_id,
                                              std::string_view user_id) {
  auto r = co_await pool_.Query(kSessionActiveSql, session_id, user_id);
  if (!r) co_return std::move(r).error();
  co_return r->Rows() == 1 && r->GetBool(0, 0);
}

Task<Result<bool>> AuthStore::RevokeSession(std::string_view session_id, std::string_view user_id,
                                            std::string_view reason,
                                            const events::OutboxWriter& outbox,
                                            const events::Event& notice) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
        auto r = co_await c.Query(kRevokeSql, session_id, user_id, reason);
        if (!r) co_return std::move(r).error();
        if (r->GetInt64(0, 0) == 0) co_return false;
        if (r->GetInt64(0, 1) > 0) {  // newly revoked (an earlier revocation told already)
          if (Status st = co_await outbox.Append(c, notice); !st) co_return std::move(st).error();
        }
        co_return true;
      });
}

Task<Result<std::vector<SessionRecord>>> AuthStore::ListSessions(std::string_view user_id,
                                                                 std::optional<std::string> before,
                                                                 int limit) {
  auto r = co_await pool_.Query(kListSessionsSql, user_id, before, limit);
  if (!r) co_return std::move(r).error();
  std::vector<SessionRecord> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) {
    SessionRecord s;
    s.id = std::string(r->GetString(i, 0));
    s.method = std::string(r->GetString(i, 1));
    s.device_name = OptString(*r, i, 2);
    s.platform = OptString(*r, i, 3);
    s.ip = OptString(*r, i, 4);
    s.created_at = FormatRfc3339Ms(r->GetInt64(i, 5));
    s.last_used_at = FormatRfc3339Ms(r->GetInt64(i, 6));
    s.expires_at = FormatRfc3339Ms(r->GetInt64(i, 7));
    out.push_back(std::move(s));
  }
  co_return out;
}

Task<Result<std::optional<UserRecord>>> AuthStore::GetUser(std::string_view id) {
  auto r = co_await pool_.Query(kGetUserSql, id);
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 0) co_return std::optional<UserRecord>();
  co_return std::optional<UserRecord>(ReadUser(*r, 0));
}

Task<Result<std::optional<UserRecord>>> AuthStore::FindByPhone(std::string_view phone) {
  auto r = co_await pool_.Query(kUserByPhoneSql, phone);
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 0) co_return std::optional<UserRecord>();
  co_return std::optional<UserRecord>(ReadUser(*r, 0));
}

Task<Result<std::optional<UserRecord>>> AuthStore::FindByUsername(std::string_view username) {
  auto r = co_await pool_.Query(kUserByUsernameSql, username);
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 0) co_return std::optional<UserRecord>();
  co_return std::optional<UserRecord>(ReadUser(*r, 0));
}

Task<Result<std::optional<std::pair<UserRecord, std::string>>>> AuthStore::FindForLogin(
    std::string_view phone, std::string_view username) {
  using Found = std::optional<std::pair<UserRecord, std::string>>;
  Result<pg::PgResult> r = Error::Internal("unreachable");
  if (phone.empty()) {
    r = co_await pool_.Query(kLoginByUsernameSql, username);
  } else {
    r = co_await pool_.Query(kLoginByPhoneSql, phone);
  }
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 0) co_return Found();
  co_return Found(std::in_place, ReadUser(*r, 0), std::string(r->GetString(0, kUserCols)));
}

Task<Result<std::string>> AuthStore::GetPasswordHash(std::string_view user_id) {
  auto r = co_await pool_.Query(kPasswordHashSql, user_id);
  if (!r) co_return std::move(r).error();
  if (r->Rows() == 0) co_return Error::NotFound("user not found");
  co_return std::string(r->GetString(0, 0));
}

Task<Result<UserRecord>> AuthStore::UpdateProfile(std::string_view user_id, const ProfilePatch& p) {
  auto r = co_await pool_.Query(kUpdateProfileSql, user_id, p.set_display_name, p.display_name,
                                p.set_username, p.username, p.set_locale, p.locale,
                                p.set_avatar_url, p.avatar_url);
  if (!r) {
    if (r.error().IsUniqueViolation()) co_return Error::Conflict("username is taken");
    co_return std::move(r).error();
  }
  if (r->Rows() == 0) co_return Error::NotFound("user not found");
  co_return ReadUser(*r, 0);
}

Task<Result<bool>> AuthStore::SetPassword(std::string_view user_id, std::string_view expected_old,
                                          std::string_view new_hash, std::string_view keep_session,
                                          std::string_view revoke_reason,
                                          const events::OutboxWriter& outbox,
                                          const events::Event& notice) {
  // "Revoke all": a session id no session has.
  const std::string_view keep = keep_session.empty()
                                    ? std::string_view("00000000-0000-0000-0000-000000000000")
                                    : keep_session;
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
        auto r = co_await c.Query(kSetPasswordSql, user_id, new_hash, expected_old, keep);
        if (!r) co_return std::move(r).error();
        if (r->GetInt64(0, 0) != 1) co_return false;
        // The other sessions' end is announced in this transaction, with their ids.
        const events::Event revoked = SessionsRevokedEvent(user_id, keep_session, revoke_reason,
                                                           SplitSessionIds(r->GetString(0, 1)));
        if (Status st = co_await outbox.Append(c, revoked); !st) co_return std::move(st).error();
        if (Status st = co_await outbox.Append(c, notice); !st) co_return std::move(st).error();
        co_return true;
      });
}

Task<Result<bool>> AuthStore::DeleteUser(std::string_view user_id,
                                         const events::OutboxWriter& outbox) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
        // Locks the row first: a sign-in or password change of the user in flight
        // either commits before or finds the user gone.
        auto lock = co_await c.Query("SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", user_id);
        if (!lock) co_return std::move(lock).error();
        if (lock->empty()) co_return false;
        auto r = co_await c.Query(kDeleteUserSql, user_id);
        if (!r) co_return std::move(r).error();
        if (r->GetInt64(0, 0) != 1) co_return false;
        const events::Event revoked = SessionsRevokedEvent(user_id, "", "account_deleted",
                                                           SplitSessionIds(r->GetString(0, 1)));
        if (Status st = co_await outbox.Append(c, revoked); !st) co_return std::move(st).error();
        if (Status st = co_await outbox.Append(c, UserDeletedEvent(user_id)); !st) {
          co_return std::move(st).error();
        }
        co_return true;
      });
}

Task<Result<std::int64_t>> AuthStore::Cleanup(std::chrono::milliseconds retention) {
  const std::string age = std::to_string(retention.count()) + " milliseconds";
  auto a = co_await pool_.Query(kCleanupSessionsSql, age);
  if (!a) co_return std::move(a).error();
  auto b = co_await pool_.Query(kCleanupTokensSql, age);
  if (!b) co_return std::move(b).error();
  co_return a->AffectedRows() + b->AffectedRows();
}

Task<Status> AuthStore::Execute(pg::Statement statement) {
  auto r = co_await pool_.Execute(statement.sql, std::move(statement.params));
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

}  // namespace tchat::auth
