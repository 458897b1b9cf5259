#include "event_store.hpp"

#include <algorithm>

#include <tchat/core/pg/result.hpp>

#include "localization.hpp"

namespace tchat::notification {

namespace {

constexpr std::string_view kDedupe = R"(
INSERT INTO processed_events (consumer, event_id)
SELECT $1, e FROM unnest($2::text[]) AS e ON CONFLICT DO NOTHING RETURNING event_id)";

constexpr std::string_view kPruneProcessed =
    "DELETE FROM processed_events WHERE ctid IN (SELECT ctid FROM processed_events "
    "WHERE processed_at < now() - $1::float8 * interval '1 second' LIMIT 50000)";

constexpr std::string_view kLoadPrefs = R"(
SELECT user_id::text AS user_id, push_enabled, show_previews, quiet_start, quiet_end,
       quiet_timezone, locale, timezone
FROM notification_preferences WHERE user_id = ANY($1::uuid[]))";

constexpr std::string_view kLoadMutes = R"(
SELECT user_id::text AS user_id, conversation_id FROM muted_conversations
WHERE user_id = ANY($1::uuid[]) AND conversation_id = ANY($2::text[])
  AND (until IS NULL OR until > now()))";

constexpr std::string_view kLoadDevices = R"(
SELECT id::text AS id, user_id::text AS user_id, platform, token FROM devices
WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, created_at, id)";

constexpr std::string_view kInsertInbox = R"(
INSERT INTO notifications (id, user_id, kind, title, body, data, event_id, created_at)
SELECT i::uuid, u::uuid, k, t, b, d::jsonb, e, a::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS x(i, u, k, t, b, d, e, a))";

constexpr std::string_view kInsertSending = R"(
INSERT INTO delivery_queue (id, channel, user_id, collapse_key, payload, device_ids, state, due_at,
                            event_id)
SELECT i::uuid, c, NULLIF(u, '')::uuid, NULLIF(k, ''), p::jsonb, d::uuid[], 'sending',
       now() + $8::float8 * interval '1 millisecond', e
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS x(i, c, u, k, p, d, e))";

constexpr std::string_view kUpsertWaiting = R"(
INSERT INTO delivery_queue (id, channel, user_id, collapse_key, payload, msg_count, state, due_at,
                            event_id)
SELECT i::uuid, 'push', u::uuid, k, p::jsonb, n, 'waiting',
       now() + $7::float8 * interval '1 millisecond', e
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
  AS x(i, u, k, p, n, e)
ON CONFLICT (user_id, collapse_key) WHERE state = 'waiting' AND collapse_key IS NOT NULL
DO UPDATE SET msg_count = delivery_queue.msg_count + EXCLUDED.msg_count,
  -- The newest message (by seq, then time) is the one shown, whichever batch
  -- commits last.
  payload = CASE WHEN (COALESCE((EXCLUDED.payload->>'seq')::bigint, 0),
                       COALESCE((EXCLUDED.payload->>'event_at')::bigint, 0)) >=
                      (COALESCE((delivery_queue.payload->>'seq')::bigint, 0),
                       COALESCE((delivery_queue.payload->>'event_at')::bigint, 0))
                 THEN EXCLUDED.payload ELSE delivery_queue.payload END,
  event_id = EXCLUDED.event_id)";

// The devices of ended sessions (auth.session.revoked) go.
constexpr std::string_view kDeleteSessionDevices = R"(
DELETE FROM devices d USING unnest($1::uuid[], $2::uuid[]) AS x(u, s)
WHERE d.user_id = x.u AND d.session_id = x.s)";

// A deleted account's data (auth.user.deleted). Deliveries being sent finish
// or fail on their own; their devices are gone.
constexpr std::string_view kDeleteUsersData = R"(
WITH u AS (SELECT DISTINCT unnest($1::uuid[]) AS id),
d AS (DELETE FROM devices WHERE user_id IN (SELECT id FROM u)),
p AS (DELETE FROM notification_preferences WHERE user_id IN (SELECT id FROM u)),
m AS (DELETE FROM muted_conversations WHERE user_id IN (SELECT id FROM u)),
n AS (DELETE FROM notifications WHERE user_id IN (SELECT id FROM u)),
q AS (DELETE FROM delivery_queue WHERE user_id IN (SELECT id FROM u) AND state <> 'sending')
SELECT count(*) FROM u)";

constexpr std::string_view kInsertPoison = R"(
INSERT INTO poison_events (stream, entry_id, event_id, event_type, reason, raw)
SELECT $1, en, NULLIF(ei, ''), NULLIF(et, ''), r, w
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(en, ei, et, r, w)
ON CONFLICT (stream, entry_id) DO NOTHING)";
// Message entries (kind "message"): at most one unread entry per user and
// conversation (notifications_message_unread_idx, migration 000003). The batch's
// messages are merged into the entries that exist, locked first so that the
// merge (count, latest message) is computed from what is committed and nobody
// changes it meanwhile (marking it read waits for this transaction).
// One index probe per key (LATERAL with LIMIT 1, which the planner cannot turn
// into a join), whatever the statistics say: a young, growing table without
// them gets a hash join that reads every unread entry of every user for each
// batch, so that a batch costs more the longer the service runs. Rows are
// locked in the order of the keys, which the caller sorts, so that concurrent
// batches lock in the same order.
constexpr std::string_view kLockMessageInbox = R"(
SELECT n.id::text AS id, n.user_id::text AS user_id, n.conversation_id, n.render, n.count
FROM unnest($1::uuid[], $2::text[]) AS k(u, c)
CROSS JOIN LATERAL (
  SELECT id, user_id, data->>'conversation_id' AS conversation_id,
         COALESCE(render, '{}'::jsonb)::text AS render,
         CASE WHEN jsonb_typeof(data->'count') = 'number' THEN (data->>'count')::bigint ELSE 1 END
           AS count
  FROM notifications
  WHERE user_id = k.u AND data->>'conversation_id' = k.c AND kind = 'message' AND read_at IS NULL
  LIMIT 1
  FOR UPDATE) n)";

// A message entry moves to the top of the inbox: its created_at becomes its
// latest message's time.
constexpr std::string_view kUpdateMessageInbox = R"(
UPDATE notifications n
SET title = x.t, body = x.b, data = x.d::jsonb, render = x.r::jsonb, event_id = x.e,
    created_at = GREATEST(n.created_at, x.a::timestamptz)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS x(i, t, b, d, r, e, a)
WHERE n.id = x.i::uuid)";

// Keys another transaction created an entry for since the lock query come back
// missing from RETURNING (ON CONFLICT waited for that transaction to commit):
// they are merged into that entry in another round.
constexpr std::string_view kInsertMessageInbox = R"(
INSERT INTO notifications (id, user_id, kind, title, body, data, render, event_id, created_at)
SELECT i::uuid, u::uuid, 'message', t, b, d::jsonb, r::jsonb, e, a::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS x(i, u, t, b, d, r, e, a)
ON CONFLICT (user_id, (data->>'conversation_id')) WHERE kind = 'message' AND read_at IS NULL
DO NOTHING
RETURNING user_id::text AS user_id, data->>'conversation_id' AS conversation_id)";

UserSettings ReadSettings(const pg::PgResult& prefs, int i) {
  UserSettings s;
  s.push_enabled = prefs.GetBool(i, "push_enabled");
  s.show_previews = prefs.GetBool(i, "show_previews");
  s.locale = ParseLocale(prefs.GetString(i, "locale")).value_or(Locale::kEn);
  s.timezone = std::string(prefs.GetString(i, "timezone"));
  if (!prefs.IsNull(i, "quiet_start") && !prefs.IsNull(i, "quiet_end")) {
    s.quiet = QuietHours{prefs.GetInt32(i, "quiet_start"), prefs.GetInt32(i, "quiet_end"),
                         prefs.IsNull(i, "quiet_timezone")
                             ? s.timezone
                             : std::string(prefs.GetString(i, "quiet_timezone"))};
  }
  return s;
}

void ReadAudience(const std::vector<pg::PgResult>& r, Audience& a) {
  const pg::PgResult& prefs = r[0];
  for (int i = 0; i < prefs.Rows(); ++i) {
    a.users[std::string(prefs.GetString(i, "user_id"))].view.settings = ReadSettings(prefs, i);
  }
  const pg::PgResult& m = r[1];
  for (int i = 0; i < m.Rows(); ++i) {
    a.mutes.emplace(std::string(m.GetString(i, "user_id")),
                    std::string(m.GetString(i, "conversation_id")));
  }
  const pg::PgResult& dev = r[2];
  for (int i = 0; i < dev.Rows(); ++i) {
    UserData& ud = a.users[std::string(dev.GetString(i, "user_id"))];
    ud.devices.push_back(Device{std::string(dev.GetString(i, "id")),
                                std::string(dev.GetString(i, "user_id")),
                                std::string(dev.GetString(i, "platform")),
                                std::string(dev.GetString(i, "token")),
                                {},
                                {}});
    ud.view.has_devices = true;
  }
}

std::map<MessageInboxKey, LockedMessageEntry> ReadLocked(const pg::PgResult& locked) {
  std::map<MessageInboxKey, LockedMessageEntry> existing;
  for (int i = 0; i < locked.Rows(); ++i) {
    LockedMessageEntry e;
    e.id = std::string(locked.GetString(i, "id"));
    boost::system::error_code ec;
    json::value r = json::parse(locked.GetString(i, "render"), ec);
    if (!ec && r.is_object()) e.render = std::move(r.as_object());
    e.count = std::max<std::int64_t>(1, locked.GetInt64(i, "count"));
    existing.emplace(MessageInboxKey{std::string(locked.GetString(i, "user_id")),
                                     std::string(locked.GetString(i, "conversation_id"))},
                     std::move(e));
  }
  return existing;
}

}  // namespace

Task<Result<std::unordered_set<std::string>>> MarkEventsProcessed(
    pg::Connection& c, const std::string& consumer, const std::vector<std::string>& event_ids) {
  auto d = co_await c.Query(kDedupe, consumer, pg::ToArray(event_ids));
  if (!d) co_return std::move(d).error();
  std::unordered_set<std::string> fresh;
  for (int i = 0; i < d->Rows(); ++i) fresh.emplace(d->GetString(i, 0));
  co_return fresh;
}

Task<Result<std::int64_t>> PruneProcessedEvents(pg::Pool& pool, double retention_seconds) {
  auto r = co_await pool.Query(kPruneProcessed, retention_seconds);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows();
}

Task<Status> LoadAudience(pg::Connection& c, const std::vector<std::string>& users,
                          const std::vector<std::string>& conversations, Audience& audience) {
  const std::string user_arr = pg::ToArray(users);
  std::vector<pg::Statement> st;
  st.push_back(pg::Statement::Of(kLoadPrefs, user_arr));
  st.push_back(pg::Statement::Of(kLoadMutes, user_arr, pg::ToArray(conversations)));
  st.push_back(pg::Statement::Of(kLoadDevices, user_arr));
  auto r = co_await c.Pipeline(std::move(st));
  if (!r) co_return std::move(r).error();
  ReadAudience(*r, audience);
  co_return Ok();
}

pg::Statement InsertInboxEntries(const InboxColumns& r) {
  return pg::Statement::Of(kInsertInbox, r.id.str(), r.user.str(), r.kind.str(), r.title.str(),
                           r.body.str(), r.data.str(), r.event.str(), r.at.str());
}

pg::Statement InsertSendingDeliveries(const SendingColumns& r, double lease_ms) {
  return pg::Statement::Of(kInsertSending, r.id.str(), r.channel.str(), r.user.str(),
                           r.collapse_key.str(), r.payload.str(), r.device_ids.str(), r.event.str(),
                           lease_ms);
}

pg::Statement UpsertWaitingDeliveries(const WaitingColumns& r, double window_ms) {
  return pg::Statement::Of(kUpsertWaiting, r.id.str(), r.user.str(), r.collapse_key.str(),
                           r.payload.str(), r.count.str(), r.event.str(), window_ms);
}

pg::Statement DeleteSessionDevices(const pg::ArrayBuilder& user_ids,
                                   const pg::ArrayBuilder& session_ids) {
  return pg::Statement::Of(kDeleteSessionDevices, user_ids.str(), session_ids.str());
}

pg::Statement DeleteUsersData(const pg::ArrayBuilder& user_ids) {
  return pg::Statement::Of(kDeleteUsersData, user_ids.str());
}

pg::Statement InsertPoisonEvents(const std::string& stream, const PoisonColumns& r) {
  return pg::Statement::Of(kInsertPoison, stream, r.entry_id.str(), r.event_id.str(), r.type.str(),
                           r.reason.str(), r.raw.str());
}

Task<Status> RecordPoisonEvents(pg::Pool& pool, const std::string& stream,
                                const PoisonColumns& rows) {
  pg::Statement st = InsertPoisonEvents(stream, rows);
  auto r = co_await pool.Execute(st.sql, std::move(st.params));
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<std::map<MessageInboxKey, LockedMessageEntry>>> LockMessageEntries(
    pg::Connection& c, const std::vector<MessageInboxKey>& keys) {
  pg::ArrayBuilder users, conversations;
  for (const auto& [user, conversation] : keys) {
    users.Add(user);
    conversations.Add(conversation);
  }
  auto locked = co_await c.Query(kLockMessageInbox, users.str(), conversations.str());
  if (!locked) co_return std::move(locked).error();
  co_return ReadLocked(*locked);
}

Task<Result<std::set<MessageInboxKey>>> WriteMessageEntries(pg::Connection& c,
                                                            const MessageEntryColumns& r) {
  // The updates, then the insert (last: its RETURNING tells what it wrote).
  std::vector<pg::Statement> st;
  if (r.u_id.size() > 0) {
    st.push_back(pg::Statement::Of(kUpdateMessageInbox, r.u_id.str(), r.u_title.str(),
                                   r.u_body.str(), r.u_data.str(), r.u_render.str(),
                                   r.u_event.str(), r.u_at.str()));
  }
  const bool inserting = r.i_id.size() > 0;
  if (inserting) {
    st.push_back(pg::Statement::Of(kInsertMessageInbox, r.i_id.str(), r.i_user.str(),
                                   r.i_title.str(), r.i_body.str(), r.i_data.str(),
                                   r.i_render.str(), r.i_event.str(), r.i_at.str()));
  }
  std::set<MessageInboxKey> written;
  if (st.empty()) co_return written;
  auto w = co_await c.Pipeline(std::move(st));
  if (!w) co_return std::move(w).error();
  if (!inserting) co_return written;
  const pg::PgResult& inserted = w->back();
  for (int i = 0; i < inserted.Rows(); ++i) {
    written.emplace(std::string(inserted.GetString(i, "user_id")),
                    std::string(inserted.GetString(i, "conversation_id")));
  }
  co_return written;
}

}  // namespace tchat::notification
