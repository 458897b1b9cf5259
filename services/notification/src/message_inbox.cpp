#include "message_inbox.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <tchat/core/pg/array.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "rules.hpp"

namespace tchat::notification {

namespace {

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

// An unread message entry that exists, locked by this transaction.
struct ExistingEntry {
  std::string id;
  json::object render;
  std::int64_t count = 1;
};

std::map<MessageInboxKey, ExistingEntry> ReadLocked(const pg::PgResult& locked) {
  std::map<MessageInboxKey, ExistingEntry> existing;
  for (int i = 0; i < locked.Rows(); ++i) {
    ExistingEntry e;
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

// The writes of one round: merges into the entries that exist, and new entries.
class RoundWrites {
 public:
  void Merge(const ExistingEntry& e, const MessageInbox& m) {
    // The entry shows the latest message, whichever batch brought it.
    const bool newer = e.render.empty() || m.order >= MessageOrder(e.render);
    const json::object& render = newer ? m.render : e.render;
    MessageInboxText text = RenderMessageInbox(render, e.count + m.count);
    u_id_.Add(e.id);
    u_title_.Add(text.title);
    u_body_.Add(text.body);
    u_data_.Add(ToJson(text.data));
    u_render_.Add(ToJson(render));
    u_event_.Add(m.event_id);
    u_at_.Add(FormatRfc3339Ms(m.latest_at_ms));
  }

  void Create(const MessageInboxKey& key, const MessageInbox& m) {
    MessageInboxText text = RenderMessageInbox(m.render, m.count);
    i_id_.Add(NewUuidV7At(FromUnixMillis(m.latest_at_ms)));
    i_user_.Add(key.first);
    i_title_.Add(text.title);
    i_body_.Add(text.body);
    i_data_.Add(ToJson(text.data));
    i_render_.Add(ToJson(m.render));
    i_event_.Add(m.event_id);
    i_at_.Add(FormatRfc3339Ms(m.latest_at_ms));
  }

  bool inserting() const { return i_id_.size() > 0; }

  // The updates, then the insert (last: its RETURNING tells what it wrote).
  std::vector<pg::Statement> Statements() const {
    std::vector<pg::Statement> st;
    if (u_id_.size() > 0) {
      st.push_back(pg::Statement::Of(kUpdateMessageInbox, u_id_.str(), u_title_.str(),
                                     u_body_.str(), u_data_.str(), u_render_.str(), u_event_.str(),
                                     u_at_.str()));
    }
    if (inserting()) {
      st.push_back(pg::Statement::Of(kInsertMessageInbox, i_id_.str(), i_user_.str(),
                                     i_title_.str(), i_body_.str(), i_data_.str(), i_render_.str(),
                                     i_event_.str(), i_at_.str()));
    }
    return st;
  }

 private:
  pg::ArrayBuilder u_id_, u_title_, u_body_, u_data_, u_render_, u_event_, u_at_;
  pg::ArrayBuilder i_id_, i_user_, i_title_, i_body_, i_data_, i_render_, i_event_, i_at_;
};

// The keys of `pending` that a round wrote nowhere: no entry was locked for them
// and the insert (whose RETURNING is `inserted`) met an entry created meanwhile.
std::map<MessageInboxKey, MessageInbox> Unwritten(
    std::map<MessageInboxKey, MessageInbox>& pending,
    const std::map<MessageInboxKey, ExistingEntry>& existing, const pg::PgResult& inserted) {
  std::set<MessageInboxKey> written;
  for (int i = 0; i < inserted.Rows(); ++i) {
    written.emplace(std::string(inserted.GetString(i, "user_id")),
                    std::string(inserted.GetString(i, "conversation_id")));
  }
  std::map<MessageInboxKey, MessageInbox> again;
  for (auto& [key, m] : pending) {
    if (!existing.contains(key) && !written.contains(key)) again.emplace(key, std::move(m));
  }
  return again;
}

}  // namespace

void Absorb(MessageInbox& into, const json::object& payload, std::string_view event_id,
            std::int64_t at_ms) {
  const auto order = MessageOrder(payload);
  if (into.count == 0 || order >= into.order) {
    into.render = payload;
    into.order = order;
    into.event_id = std::string(event_id);
  }
  into.count += 1;
  into.latest_at_ms = std::max(into.latest_at_ms, at_ms);
}

Task<Status> WriteMessageInbox(pg::Connection& c, std::map<MessageInboxKey, MessageInbox> pending) {
  // Each round either writes every key or finds entries created concurrently
  // since its lock query; a handful of rounds means something keeps racing.
  for (int round = 0; round < 5 && !pending.empty(); ++round) {
    pg::ArrayBuilder k_user, k_conv;
    for (const auto& [key, m] : pending) {
      k_user.Add(key.first);
      k_conv.Add(key.second);
    }
    auto locked = co_await c.Query(kLockMessageInbox, k_user.str(), k_conv.str());
    if (!locked) co_return std::move(locked).error();
    const std::map<MessageInboxKey, ExistingEntry> existing = ReadLocked(*locked);
    RoundWrites writes;
    for (const auto& [key, m] : pending) {
      if (auto it = existing.find(key); it != existing.end()) {
        writes.Merge(it->second, m);
      } else {
        writes.Create(key, m);
      }
    }
    auto w = co_await c.Pipeline(writes.Statements());
    if (!w) co_return std::move(w).error();
    std::map<MessageInboxKey, MessageInbox> again;
    if (writes.inserting()) again = Unwritten(pending, existing, w->back());
    pending = std::move(again);
  }
  if (!pending.empty()) {
    co_return Error::Unavailable("message inbox entries kept changing; the batch will be retried");
  }
  co_return Ok();
}

}  // namespace tchat::notification
