#include "conversation_store.hpp"

#include <algorithm>
#include <charconv>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/pg/array.hpp>
#include <tchat/core/uuid.hpp>

#include "pg_rows.hpp"

namespace tchat::messaging {

namespace {

Error ConversationNotFound() {
  return Error::NotFound("conversation not found");
}

// INSERT of one outbox event whose data is the JSON object `data`.
pg::Statement OutboxInsert(std::string_view event_id, std::string_view type, json::object data) {
  static const events::OutboxWriter writer{std::string(events::kMessagingStream)};
  return writer.Insert(events::Event{std::string(event_id), std::string(type),
                                     std::chrono::system_clock::now(), std::move(data)});
}

json::array IdArray(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}

struct Cursor {
  std::int64_t updated_us = INT64_MAX;
  std::string id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
};

std::optional<Cursor> ParseCursor(std::string_view s) {
  Cursor c;
  if (s.empty()) return c;
  const auto sep = s.find('_');
  if (sep == std::string_view::npos) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + sep, c.updated_us);
  if (ec != std::errc() || p != s.data() + sep) return std::nullopt;
  auto id = CanonicalUuid(s.substr(sep + 1));
  if (!id) return std::nullopt;
  c.id = std::move(*id);
  return c;
}

}  // namespace

std::string DirectKey(std::string_view a, std::string_view b) {
  return a < b ? std::string(a) + ":" + std::string(b) : std::string(b) + ":" + std::string(a);
}

Task<Result<Access>> ConversationStore::GetAccess(std::string_view conversation_id,
                                                  std::string_view user_id) {
  auto r = co_await pool_.Query(
      "SELECT c.type, m.role FROM conversations c LEFT JOIN members m "
      "ON m.conversation_id = c.id AND m.user_id = $2 WHERE c.id = $1",
      conversation_id, user_id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return ConversationNotFound();
  Access a;
  a.type = std::string(r->GetString(0, 0));
  if (!r->IsNull(0, 1)) a.role = std::string(r->GetString(0, 1));
  co_return a;
}

Task<Result<std::pair<std::string, bool>>> ConversationStore::FindOrCreateDirect(
    std::string_view new_id, std::string_view user_id, std::string_view peer_id,
    std::string_view event_id) {
  const std::string key = DirectKey(user_id, peer_id);
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted,
      [&](pg::Connection& c) -> Task<Result<std::pair<std::string, bool>>> {
        auto ins = co_await c.Query(
            "INSERT INTO conversations (id, type, direct_key, created_by) "
            "VALUES ($1, 'direct', $2, $3) ON CONFLICT (direct_key) DO NOTHING RETURNING id",
            new_id, key, user_id);
        if (!ins) co_return std::move(ins).error();
        if (ins->empty()) {
          auto found = co_await c.Query("SELECT id FROM conversations WHERE direct_key = $1", key);
          if (!found) co_return std::move(found).error();
          if (found->empty()) co_return Error::Unavailable("direct conversation vanished; retry");
          co_return std::make_pair(std::string(found->GetString(0, 0)), false);
        }
        std::vector<pg::Statement> st;
        st.push_back(
            pg::Statement::Of("INSERT INTO members (conversation_id, user_id, role) "
                              "VALUES ($1, $2, 'member'), ($1, $3, 'member')",
                              new_id, user_id, peer_id));
        st.push_back(OutboxInsert(event_id, "conversation.created",
                                  json::object{{"conversation_id", new_id},
                                               {"type", "direct"},
                                               {"title", nullptr},
                                               {"created_by", user_id},
                                               {"member_ids", json::array{user_id, peer_id}}}));
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        co_return std::make_pair(std::string(new_id), true);
      });
}

Task<Status> ConversationStore::CreateGroup(std::string_view id, std::string_view creator_id,
                                            std::string_view title,
                                            const std::vector<std::string>& member_ids,
                                            std::string_view event_id) {
  std::vector<std::string> all;
  all.reserve(member_ids.size() + 1);
  all.emplace_back(creator_id);
  for (const auto& m : member_ids) {
    if (m != creator_id) all.push_back(m);
  }
  std::vector<pg::Statement> st;
  st.push_back(pg::Statement::Of(
      "INSERT INTO conversations (id, type, title, created_by) VALUES ($1, 'group', $2, $3)", id,
      title, creator_id));
  st.push_back(
      pg::Statement::Of("INSERT INTO members (conversation_id, user_id, role) "
                        "SELECT $1, u, CASE WHEN u = $2::uuid THEN 'owner' ELSE 'member' END "
                        "FROM unnest($3::uuid[]) AS u",
                        id, creator_id, pg::ToArray(all)));
  st.push_back(OutboxInsert(event_id, "conversation.created",
                            json::object{{"conversation_id", id},
                                         {"type", "group"},
                                         {"title", title},
                                         {"created_by", creator_id},
                                         {"member_ids", IdArray(all)}}));
  // Outside an explicit transaction a pipeline is one atomic transaction.
  auto rs = co_await pool_.Pipeline(std::move(st));
  if (!rs) co_return std::move(rs).error();
  co_return Ok();
}

Task<Result<Conversation>> ConversationStore::Load(std::string_view conversation_id,
                                                   std::string_view viewer_id) {
  auto lease = co_await pool_.Acquire();
  if (!lease) co_return std::move(lease).error();
  auto r = co_await (*lease)->Query(
      "SELECT " TCHAT_CONV_COLUMNS
      " FROM conversations c JOIN members me ON me.conversation_id = c.id AND me.user_id = $2 "
      "WHERE c.id = $1",
      conversation_id, viewer_id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return ConversationNotFound();
  std::vector<pgrows::ConversationRow> rows;
  rows.push_back(pgrows::ReadConversationRow(*r, 0));
  auto loaded = co_await pgrows::LoadConversations(**lease, viewer_id, std::move(rows));
  if (!loaded) co_return std::move(loaded).error();
  co_return std::move(loaded->front());
}

Task<Result<ConversationPage>> ConversationStore::List(std::string_view viewer_id, int limit,
                                                       std::string_view cursor) {
  auto cur = ParseCursor(cursor);
  if (!cur) co_return Error::InvalidArgument("cursor is not valid");
  auto lease = co_await pool_.Acquire();
  if (!lease) co_return std::move(lease).error();
  auto r = co_await (*lease)->Query(
      "SELECT " TCHAT_USER_CONV_COLUMNS
      ", (extract(epoch FROM c.updated_at) * 1000000)::bigint AS us "
      // Reads the page's memberships by hour of activity, not all the user's (000014).
      "FROM msg_conversation_page($1, 'epoch'::timestamptz + "
      "least($2::bigint, 253402300799000000) * interval '1 microsecond', $3::uuid, $4) c "
      "ORDER BY c.updated_at DESC, c.id DESC",
      viewer_id, cur->updated_us, cur->id, limit + 1);
  if (!r) co_return std::move(r).error();
  ConversationPage page;
  const int n = std::min(r->Rows(), limit);
  std::vector<pgrows::ConversationRow> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows.push_back(pgrows::ReadConversationRow(*r, i));
  if (r->Rows() > limit) {
    page.next_cursor = std::to_string(r->GetInt64(n - 1, pgrows::kConversationColumnCount)) + "_" +
                       std::string(r->GetString(n - 1, 0));
  }
  auto loaded = co_await pgrows::LoadConversations(**lease, viewer_id, std::move(rows),
                                                   pgrows::MemberDetail::kListPage);
  if (!loaded) co_return std::move(loaded).error();
  page.conversations = std::move(*loaded);
  co_return page;
}

Task<Status> ConversationStore::UpdateTitle(std::string_view conversation_id,
                                            std::string_view title) {
  auto r = co_await pool_.Query(
      "UPDATE conversations SET title = $2, change_xid = pg_current_xact_id(), "
      "updated_at = now() WHERE id = $1 AND type = 'group'",
      conversation_id, title);
  if (!r) co_return std::move(r).error();
  if (r->AffectedRows() == 0) co_return ConversationNotFound();
  co_return Ok();
}

Task<Result<std::vector<std::string>>> ConversationStore::AddMembers(
    std::string_view conversation_id, std::string_view actor_id,
    const std::vector<std::string>& user_ids, std::size_t max_members, std::string_view event_id) {
  const std::string ids = pg::ToArray(user_ids);
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted,
      [&](pg::Connection& c) -> Task<Result<std::vector<std::string>>> {
        auto cur = co_await c.Query(
            "SELECT (SELECT count(*) FROM members WHERE conversation_id = $1), "
            "(SELECT count(*) FROM members WHERE conversation_id = $1 AND user_id = "
            "ANY($2::uuid[])) "
            "FROM conversations WHERE id = $1 FOR UPDATE",
            conversation_id, ids);
        if (!cur) co_return std::move(cur).error();
        if (cur->empty()) co_return ConversationNotFound();
        const std::int64_t count = cur->GetInt64(0, 0);
        const std::int64_t already = cur->GetInt64(0, 1);
        const auto after =
            static_cast<std::size_t>(count) + user_ids.size() - static_cast<std::size_t>(already);
        if (after > max_members) {
          co_return Error::Unprocessable(
              "too_many_members",
              "a group has at most " + std::to_string(max_members) + " members");
        }
        auto ins = co_await c.Query(
            "INSERT INTO members (conversation_id, user_id, role) "
            "SELECT $1, u, 'member' FROM unnest($2::uuid[]) AS u "
            "ON CONFLICT DO NOTHING RETURNING user_id",
            conversation_id, ids);
        if (!ins) co_return std::move(ins).error();
        std::vector<std::string> added;
        for (int i = 0; i < ins->Rows(); ++i) added.emplace_back(ins->GetString(i, 0));
        if (added.empty()) co_return added;
        std::vector<pg::Statement> st;
        st.push_back(
            pg::Statement::Of("DELETE FROM member_departures WHERE conversation_id = $1 AND "
                              "user_id = ANY($2::uuid[])",
                              conversation_id, pg::ToArray(added)));
        st.push_back(pg::Statement::Of(
            "UPDATE conversations SET change_xid = pg_current_xact_id(), updated_at = now() "
            "WHERE id = $1",
            conversation_id));
        st.push_back(OutboxInsert(event_id, "conversation.members_added",
                                  json::object{{"conversation_id", conversation_id},
                                               {"user_ids", IdArray(added)},
                                               {"added_by", actor_id}}));
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        co_return added;
      });
}

Task<Result<RemoveOutcome>> ConversationStore::RemoveMember(std::string_view conversation_id,
                                                            std::string_view user_id,
                                                            std::string_view actor_id,
                                                            std::string_view event_id) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<RemoveOutcome>> {
        auto conv = co_await c.Query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
                                     conversation_id);
        if (!conv) co_return std::move(conv).error();
        if (conv->empty()) co_return ConversationNotFound();
        auto del = co_await c.Query(
            "DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING role",
            conversation_id, user_id);
        if (!del) co_return std::move(del).error();
        if (del->empty()) co_return Error::NotFound("not a member of this conversation");
        RemoveOutcome out;
        out.removed_role = std::string(del->GetString(0, 0));
        if (out.removed_role == "owner") {
          auto promoted = co_await c.Query(
              "UPDATE members SET role = 'owner' WHERE conversation_id = $1 AND user_id = "
              "(SELECT user_id FROM members WHERE conversation_id = $1 "
              " ORDER BY (role = 'admin') DESC, joined_at, user_id LIMIT 1) RETURNING user_id",
              conversation_id);
          if (!promoted) co_return std::move(promoted).error();
          if (!promoted->empty()) out.new_owner = std::string(promoted->GetString(0, 0));
        }
        std::vector<pg::Statement> st;
        st.push_back(pg::Statement::Of(
            "INSERT INTO member_departures (user_id, conversation_id, change_xid) "
            "VALUES ($1, $2, pg_current_xact_id()) ON CONFLICT (user_id, conversation_id) "
            "DO UPDATE SET change_xid = EXCLUDED.change_xid, departed_at = now()",
            user_id, conversation_id));
        st.push_back(pg::Statement::Of(
            "UPDATE conversations SET change_xid = pg_current_xact_id() WHERE id = $1",
            conversation_id));
        st.push_back(OutboxInsert(event_id, "conversation.member_removed",
                                  json::object{{"conversation_id", conversation_id},
                                               {"user_id", user_id},
                                               {"removed_by", actor_id}}));
        st.push_back(pg::Statement::Of(
            "SELECT user_id FROM members WHERE conversation_id = $1 ORDER BY user_id",
            conversation_id));
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        const pg::PgResult& rem = rs->back();
        for (int i = 0; i < rem.Rows(); ++i) out.remaining.emplace_back(rem.GetString(i, 0));
        co_return out;
      });
}

Task<Status> ConversationStore::SetRole(std::string_view conversation_id, std::string_view user_id,
                                        std::string_view role) {
  std::vector<pg::Statement> st;
  st.push_back(
      pg::Statement::Of("UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2 "
                        "AND role <> 'owner'",
                        conversation_id, user_id, role));
  st.push_back(pg::Statement::Of(
      "UPDATE conversations SET change_xid = pg_current_xact_id() WHERE id = $1", conversation_id));
  auto rs = co_await pool_.Pipeline(std::move(st));
  if (!rs) co_return std::move(rs).error();
  if ((*rs)[0].AffectedRows() == 0) {
    co_return Error::NotFound("not a member whose role can change");
  }
  co_return Ok();
}

Task<Result<ReadOutcome>> ConversationStore::MarkRead(std::string_view conversation_id,
                                                      std::string_view user_id, std::int64_t seq) {
  auto r = co_await pool_.Query(
      "WITH upd AS ("
      "  UPDATE members me SET last_read_seq = LEAST($3::bigint, c.last_seq) "
      "  FROM conversations c WHERE c.id = $1 AND me.conversation_id = $1 AND me.user_id = $2 "
      "  AND me.last_read_seq < LEAST($3::bigint, c.last_seq) RETURNING me.last_read_seq), "
      "bump AS (UPDATE conversations SET change_xid = pg_current_xact_id() "
      "  WHERE id = $1 AND EXISTS (SELECT 1 FROM upd) RETURNING 1) "
      "SELECT (SELECT last_read_seq FROM upd), (SELECT count(*) FROM bump), "
      "  (SELECT last_read_seq FROM members WHERE conversation_id = $1 AND user_id = $2)",
      conversation_id, user_id, seq);
  if (!r) co_return std::move(r).error();
  ReadOutcome out;
  if (!r->IsNull(0, 0)) {
    out.last_read_seq = r->GetInt64(0, 0);
    out.changed = true;
  } else if (!r->IsNull(0, 2)) {
    out.last_read_seq = r->GetInt64(0, 2);
  } else {
    co_return Error::NotFound("not a member of this conversation");
  }
  co_return out;
}

Task<Status> ConversationStore::Block(std::string_view blocker_id, std::string_view blocked_id) {
  auto r = co_await pool_.Query(
      "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      blocker_id, blocked_id);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Status> ConversationStore::Unblock(std::string_view blocker_id, std::string_view blocked_id) {
  auto r = co_await pool_.Query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
                                blocker_id, blocked_id);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<std::vector<std::string>>> ConversationStore::Blocked(std::string_view blocker_id) {
  auto r = co_await pool_.Query(
      "SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY created_at, blocked_id",
      blocker_id);
  if (!r) co_return std::move(r).error();
  std::vector<std::string> out;
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

Task<Result<std::vector<std::string>>> ConversationStore::BlockedBy(
    std::string_view user_id, const std::vector<std::string>& user_ids) {
  std::vector<std::string> out;
  if (user_ids.empty()) co_return out;
  auto r = co_await pool_.Query(
      "SELECT blocker_id FROM blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::uuid[])",
      user_id, pg::ToArray(user_ids));
  if (!r) co_return std::move(r).error();
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

Task<Result<std::vector<std::string>>> ConversationStore::PresenceVisible(
    std::string_view viewer_id, const std::vector<std::string>& user_ids) {
  std::vector<std::string> out;
  if (user_ids.empty()) co_return out;
  auto r = co_await pool_.Query(
      "SELECT u::text FROM unnest($2::uuid[]) AS u WHERE u = $1::uuid OR ("
      "EXISTS (SELECT 1 FROM members mine JOIN members theirs "
      "ON theirs.conversation_id = mine.conversation_id "
      "WHERE mine.user_id = $1 AND theirs.user_id = u) "
      "AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = u AND blocked_id = $1))",
      viewer_id, pg::ToArray(user_ids));
  if (!r) co_return std::move(r).error();
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

Task<Result<std::vector<std::string>>> ConversationStore::ConversationIds(std::string_view user_id,
                                                                          int limit) {
  auto r = co_await pool_.Query("SELECT conversation_id FROM members WHERE user_id = $1 LIMIT $2",
                                user_id, limit);
  if (!r) co_return std::move(r).error();
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

Task<Result<std::vector<std::string>>> ConversationStore::MemberIds(
    std::string_view conversation_id) {
  auto r = co_await pool_.Query(
      "SELECT user_id FROM members WHERE conversation_id = $1 ORDER BY user_id", conversation_id);
  if (!r) co_return std::move(r).error();
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

Task<Result<ForgetOutcome>> ConversationStore::ForgetUser(std::string_view user_id,
                                                          std::string_view event_id) {
  auto r = co_await pool_.Query(
      "SELECT conversations, messages, media FROM msg_forget_user($1::uuid, $2)", user_id,
      event_id);
  if (!r) co_return std::move(r).error();
  if (r->Rows() != 1) co_return Error::Internal("msg_forget_user answered no row");
  ForgetOutcome out;
  out.conversations = static_cast<int>(r->GetInt64(0, 0));
  out.already_done = out.conversations < 0;
  if (out.already_done) out.conversations = 0;
  out.messages = r->GetInt64(0, 1);
  out.media = static_cast<int>(r->GetInt64(0, 2));
  // The avatar row, also on a repeat (an earlier delivery may have stopped
  // between the two): msg_forget_user deleted the upload when no message
  // carries it (the row went with it); one still carried by someone else's
  // message (a forward) stays with that message but is no longer an avatar.
  auto a = co_await pool_.Query("DELETE FROM avatars WHERE user_id = $1::uuid", user_id);
  if (!a) co_return std::move(a).error();
  co_return out;
}

}  // namespace tchat::messaging
