#include "pg_rows.hpp"

#include <unordered_map>

#include <boost/json/parse.hpp>

#include <tchat/core/pg/array.hpp>

namespace tchat::messaging::pgrows {

json::object ReadJsonObject(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return {};
  std::string_view text = r.GetString(row, col);
  if (text == "{}") return {};
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

namespace {

std::optional<json::object> OptionalJson(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return ReadJsonObject(r, row, col);
}

}  // namespace

Message ReadMessage(const pg::PgResult& r, int row, int col) {
  Message m;
  m.conversation_id = std::string(r.GetString(row, col));
  m.seq = r.GetInt64(row, col + 1);
  m.id = std::string(r.GetString(row, col + 2));
  m.sender_id = std::string(r.GetString(row, col + 3));
  m.type = std::string(r.GetString(row, col + 4));
  m.body = std::string(r.GetString(row, col + 5));
  if (!r.IsNull(row, col + 6)) m.client_msg_id = std::string(r.GetString(row, col + 6));
  if (!r.IsNull(row, col + 7)) m.reply_to_seq = r.GetInt64(row, col + 7);
  m.attachment = OptionalJson(r, row, col + 8);
  m.payment = OptionalJson(r, row, col + 9);
  m.system = OptionalJson(r, row, col + 10);
  m.reactions = ReadJsonObject(r, row, col + 11);
  m.created_ms = r.GetInt64(row, col + 12);
  if (!r.IsNull(row, col + 13)) m.edited_ms = r.GetInt64(row, col + 13);
  m.deleted = r.GetBool(row, col + 14);
  return m;
}

ConversationRow ReadConversationRow(const pg::PgResult& r, int row, int col) {
  ConversationRow out;
  Conversation& c = out.conversation;
  c.id = std::string(r.GetString(row, col));
  c.type = std::string(r.GetString(row, col + 1));
  if (!r.IsNull(row, col + 2)) c.title = std::string(r.GetString(row, col + 2));
  c.last_seq = r.GetInt64(row, col + 3);
  c.created_ms = r.GetInt64(row, col + 4);
  c.updated_ms = r.GetInt64(row, col + 5);
  out.viewer_last_read_seq = r.GetInt64(row, col + 6);
  return out;
}

namespace {

// The members statement: all of them, or a list page's (see MemberDetail) with
// each group's count, so that the page reads one member row per group (a direct
// conversation's count is its rows).
pg::Statement MembersStatement(const std::vector<ConversationRow>& rows,
                               const std::string& id_array, std::string_view viewer_id,
                               MemberDetail detail) {
  if (detail == MemberDetail::kAll) {
    return pg::Statement::Of(
        "SELECT conversation_id, user_id, role, last_read_seq, NULL::bigint FROM members "
        "WHERE conversation_id = ANY($1::uuid[]) ORDER BY conversation_id, joined_at, user_id",
        id_array);
  }
  std::vector<std::string> direct;
  for (const ConversationRow& r : rows) {
    if (r.conversation.type == "direct") direct.push_back(r.conversation.id);
  }
  return pg::Statement::Of(
      "SELECT conversation_id, user_id, role, last_read_seq, NULL::bigint, joined_at "
      "FROM members WHERE conversation_id = ANY($2::uuid[]) "
      "UNION ALL SELECT conversation_id, user_id, role, last_read_seq, NULL, joined_at "
      "FROM members WHERE conversation_id = ANY($1::uuid[]) AND user_id = $3::uuid "
      "AND NOT conversation_id = ANY($2::uuid[]) "
      "UNION ALL SELECT k.c, NULL, NULL, NULL, "
      "(SELECT count(*) FROM members m WHERE m.conversation_id = k.c), NULL "
      "FROM unnest($1::uuid[]) AS k(c) WHERE NOT k.c = ANY($2::uuid[]) "
      "ORDER BY 1, 5 NULLS FIRST, 6, 2",
      id_array, pg::ToArray(direct), viewer_id);
}

}  // namespace

Task<Result<std::vector<Conversation>>> LoadConversations(pg::Connection& conn,
                                                          std::string_view viewer_id,
                                                          std::vector<ConversationRow> rows,
                                                          MemberDetail detail) {
  std::vector<Conversation> out;
  if (rows.empty()) co_return out;
  std::vector<std::string> ids, last_seqs, read_seqs;
  ids.reserve(rows.size());
  for (const ConversationRow& r : rows) {
    ids.push_back(r.conversation.id);
    last_seqs.push_back(std::to_string(r.conversation.last_seq));
    read_seqs.push_back(std::to_string(r.viewer_last_read_seq));
  }
  const std::string id_array = pg::ToArray(ids);
  std::vector<pg::Statement> statements;
  statements.push_back(MembersStatement(rows, id_array, viewer_id, detail));
  statements.push_back(
      pg::Statement::Of("SELECT x.* FROM unnest($1::uuid[], $2::bigint[]) AS k(c, s) "
                        "CROSS JOIN LATERAL (SELECT " TCHAT_MSG_COLUMNS
                        " FROM messages m WHERE m.conversation_id = k.c AND m.seq = k.s) x",
                        id_array, pg::ToArray(last_seqs)));
  // Unread counts stop at the last_seq the conversation row was read with, so the
  // count agrees with the last message shown even when a message lands meanwhile.
  statements.push_back(pg::Statement::Of(
      "SELECT k.c, (SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.conversation_id = k.c "
      "AND m.seq > k.r AND m.seq <= k.l AND m.sender_id <> $3::uuid LIMIT 1000) z) "
      "FROM unnest($1::uuid[], $2::bigint[], $4::bigint[]) AS k(c, r, l)",
      id_array, pg::ToArray(read_seqs), viewer_id, pg::ToArray(last_seqs)));
  auto results = co_await conn.Pipeline(std::move(statements));
  if (!results) co_return std::move(results).error();
  const pg::PgResult& members = (*results)[0];
  const pg::PgResult& last = (*results)[1];
  const pg::PgResult& unread = (*results)[2];

  std::unordered_map<std::string_view, std::size_t> index;
  out.reserve(rows.size());
  for (ConversationRow& r : rows) out.push_back(std::move(r.conversation));
  for (std::size_t i = 0; i < out.size(); ++i) index.emplace(out[i].id, i);
  for (int i = 0; i < members.Rows(); ++i) {
    auto it = index.find(members.GetString(i, 0));
    if (it == index.end()) continue;
    Conversation& c = out[it->second];
    if (!members.IsNull(i, 4)) {
      c.member_count = members.GetInt64(i, 4);
      continue;
    }
    c.members.push_back(Member{std::string(members.GetString(i, 1)),
                               std::string(members.GetString(i, 2)), members.GetInt64(i, 3)});
  }
  for (Conversation& c : out) {
    if (detail == MemberDetail::kAll || c.type == "direct") {
      c.member_count = static_cast<std::int64_t>(c.members.size());
    }
  }
  for (int i = 0; i < last.Rows(); ++i) {
    Message m = ReadMessage(last, i);
    auto it = index.find(m.conversation_id);
    if (it != index.end()) out[it->second].last_message = std::move(m);
  }
  for (int i = 0; i < unread.Rows(); ++i) {
    auto it = index.find(unread.GetString(i, 0));
    if (it != index.end()) out[it->second].unread_count = unread.GetInt64(i, 1);
  }
  co_return out;
}

}  // namespace tchat::messaging::pgrows
