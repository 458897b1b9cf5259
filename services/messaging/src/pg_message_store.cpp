#include "pg_message_store.hpp"

#include <algorithm>
#include <unordered_map>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/pg/array.hpp>

#include "pg_rows.hpp"
#include "search_store.hpp"
#include "text.hpp"

namespace tchat::messaging {

namespace {

using pgrows::ReadMessage;

constexpr int kMaxDistinctReactions = 50;

AppendStatus ParseStatus(std::string_view s) {
  if (s == "ok") return AppendStatus::kOk;
  if (s == "duplicate") return AppendStatus::kDuplicate;
  if (s == "not_member") return AppendStatus::kNotMember;
  if (s == "blocked") return AppendStatus::kBlocked;
  if (s == "bad_reply") return AppendStatus::kBadReply;
  return AppendStatus::kNotFound;
}

std::optional<json::object> OptionalObject(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return pgrows::ReadJsonObject(r, row, col);
}

Error MessageNotFound() {
  return Error::NotFound("message not found");
}

// The statements every message change ends with: bump the conversation for sync,
// optionally write an event, and read the members to tell.
void AppendChangeTail(std::vector<pg::Statement>& statements, std::string_view conversation_id,
                      std::string_view event_type, std::string_view event_id, std::int64_t seq,
                      std::string_view actor_field, std::string_view actor_id) {
  statements.push_back(pg::Statement::Of(
      "UPDATE conversations SET change_xid = pg_current_xact_id() WHERE id = $1", conversation_id));
  if (!event_type.empty()) {
    statements.push_back(pg::Statement::Of(
        "INSERT INTO outbox (id, stream, type, payload) "
        "SELECT $1::uuid, $7::text, $2::text, jsonb_build_object("
        "'id', $1::uuid, 'type', $2::text, 'occurred_at', tchat_rfc3339(now()), 'data', "
        "jsonb_build_object('conversation_id', m.conversation_id, 'seq', m.seq, "
        "'message_id', m.id, 'sender_id', m.sender_id, $5::text, $6::uuid)) "
        "FROM messages m WHERE m.conversation_id = $3 AND m.seq = $4",
        event_id, event_type, conversation_id, seq, actor_field, actor_id,
        events::kMessagingStream));
  }
  statements.push_back(
      pg::Statement::Of("SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM members "
                        "WHERE conversation_id = $1",
                        conversation_id));
}

// A batch without the requests that repeat an earlier one's (conversation,
// sender, client_msg_id): only the first goes to the database; the others are
// answered as its duplicates.
struct DedupedBatch {
  std::vector<AppendRequest> unique;
  std::vector<std::size_t> first_of;      // per request: the first of its kind (itself if none)
  std::vector<std::size_t> unique_index;  // per first request: its place in `unique`
};

DedupedBatch Dedupe(const std::vector<AppendRequest>& batch) {
  DedupedBatch d;
  d.first_of.resize(batch.size());
  d.unique_index.resize(batch.size());
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    d.first_of[i] = i;
    if (batch[i].client_msg_id) {
      std::string key =
          batch[i].conversation_id + '\n' + batch[i].sender_id + '\n' + *batch[i].client_msg_id;
      auto [it, fresh] = seen.emplace(std::move(key), i);
      if (!fresh) {
        d.first_of[i] = it->second;
        continue;
      }
    }
    d.unique_index[i] = d.unique.size();
    d.unique.push_back(batch[i]);
  }
  return d;
}

// msg_send_batch's answers, by the index of the request in `unique` (whose
// attachment, payment and system objects move into the new messages).
std::vector<AppendOutcome> ReadAppendOutcomes(const pg::PgResult& res,
                                              std::vector<AppendRequest>& unique) {
  std::vector<AppendOutcome> answers(unique.size());
  for (int row = 0; row < res.Rows(); ++row) {
    const std::int64_t idx = res.GetInt64(row, 0);
    if (idx < 0 || static_cast<std::size_t>(idx) >= unique.size()) continue;
    AppendRequest& req = unique[static_cast<std::size_t>(idx)];
    AppendOutcome& o = answers[static_cast<std::size_t>(idx)];
    o.status = ParseStatus(res.GetString(row, 1));
    if (o.status != AppendStatus::kOk && o.status != AppendStatus::kDuplicate) continue;
    Message& m = o.message;
    m.conversation_id = req.conversation_id;
    m.sender_id = req.sender_id;
    m.client_msg_id = req.client_msg_id;
    m.seq = res.GetInt64(row, 2);
    m.type = std::string(res.GetString(row, 3));
    m.body = std::string(res.GetString(row, 4));
    if (!res.IsNull(row, 5)) m.reply_to_seq = res.GetInt64(row, 5);
    m.id = std::string(res.GetString(row, 14));
    if (o.status == AppendStatus::kOk) {
      m.attachment = std::move(req.attachment);
      m.payment = std::move(req.payment);
      m.system = std::move(req.system);
    } else {
      m.attachment = OptionalObject(res, row, 6);
      m.payment = OptionalObject(res, row, 7);
      m.system = OptionalObject(res, row, 8);
      m.reactions = pgrows::ReadJsonObject(res, row, 9);
    }
    m.created_ms = res.GetInt64(row, 10);
    if (!res.IsNull(row, 11)) m.edited_ms = res.GetInt64(row, 11);
    m.deleted = res.GetBool(row, 12);
    o.recipients = pg::ParseArray(res.GetString(row, 13)).value_or(std::vector<std::string>{});
  }
  return answers;
}

// One outcome per request of the batch: its own, or a copy of the first one's
// (as a duplicate).
void SpreadOutcomes(std::vector<AppendOutcome>& answers, const DedupedBatch& d,
                    std::vector<AppendOutcome>& out) {
  out.resize(d.first_of.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (d.first_of[i] == i) {
      out[i] = std::move(answers[d.unique_index[i]]);
    } else {
      out[i] = out[d.first_of[i]];  // the first one comes earlier: already filled
      if (out[i].status == AppendStatus::kOk) out[i].status = AppendStatus::kDuplicate;
    }
  }
}

}  // namespace

// CONTRACT with msg_send_batch (migrations/postgres/tchat_messaging/000005_send_batch_contract
// .up.sql, which lists the fields and owns the message.created envelope, and 000006_search,
// which adds "search_terms"): one object per request, under the names the function reads.
// Change both ends together.
std::string PgMessageStore::EncodeSendBatch(const std::vector<AppendRequest>& batch) {
  std::string out;
  out.reserve(batch.size() * 400);
  out += '[';
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const AppendRequest& r = batch[i];
    if (i > 0) out += ',';
    out += "{\"index\":";
    out += std::to_string(i);
    const auto text = [&out](std::string_view key, std::string_view value) {
      out += ",\"";
      out += key;
      out += "\":";
      AppendJsonString(out, value);
    };
    const auto object = [&out](std::string_view key, const std::optional<json::object>& value) {
      if (!value) return;
      out += ",\"";
      out += key;
      out += "\":";
      out += json::serialize(*value);
    };
    text("message_id", r.id);
    text("event_id", r.event_id);
    text("conversation_id", r.conversation_id);
    text("sender_id", r.sender_id);
    if (r.client_msg_id) text("client_msg_id", *r.client_msg_id);
    text("type", r.type);
    text("body", r.body);
    if (r.reply_to_seq) out += ",\"reply_to_seq\":" + std::to_string(*r.reply_to_seq);
    object("attachment", r.attachment);
    object("payment", r.payment);
    object("system", r.system);
    if (r.server_posted) out += ",\"server_posted\":true";
    out += ",\"search_terms\":[";
    const std::vector<std::string> terms = MessageSearchTerms(r.body, r.payment, r.system);
    for (std::size_t t = 0; t < terms.size(); ++t) {
      if (t > 0) out += ',';
      AppendJsonString(out, terms[t]);
    }
    out += "]}";
  }
  out += ']';
  return out;
}

Task<Result<std::vector<AppendOutcome>>> PgMessageStore::Append(std::vector<AppendRequest> batch) {
  std::vector<AppendOutcome> out;
  if (batch.empty()) co_return out;
  DedupedBatch d = Dedupe(batch);
  const std::string arg = EncodeSendBatch(d.unique);
  Result<pg::PgResult> r = Error::Internal("not run");
  // A deadlock or serialization failure rolled the whole batch back: run it again.
  for (int attempt = 0; attempt < 4; ++attempt) {
    r = co_await pool_.Query(
        "SELECT idx, status, seq, type, body, reply_to_seq, attachment, payment, meta, "
        "reactions, created_ms, edited_ms, deleted, recipients, id FROM msg_send_batch($1::jsonb)",
        arg);
    if (r || !(r.error().IsDeadlock() || r.error().IsSerializationFailure())) break;
  }
  if (!r) co_return std::move(r).error();
  std::vector<AppendOutcome> answers = ReadAppendOutcomes(*r, d.unique);
  SpreadOutcomes(answers, d, out);
  co_return out;
}

Task<Result<HistoryPage>> PgMessageStore::History(std::string_view conversation_id,
                                                  HistoryQuery q) {
  HistoryPage page;
  const std::int64_t upper = q.before_seq ? *q.before_seq : INT64_MAX;
  const int fetch = q.limit + 1;
  if (q.after_seq) {
    auto r = co_await pool_.Query(
        "SELECT " TCHAT_MSG_COLUMNS
        " FROM messages m WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq < $3 "
        "ORDER BY m.seq LIMIT $4",
        conversation_id, *q.after_seq, upper, fetch);
    if (!r) co_return std::move(r).error();
    const int n = std::min(r->Rows(), q.limit);
    page.messages.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) page.messages.push_back(ReadMessage(*r, i));
    page.has_more = r->Rows() > q.limit;
    co_return page;
  }
  auto r = co_await pool_.Query("SELECT " TCHAT_MSG_COLUMNS
                                " FROM messages m WHERE m.conversation_id = $1 AND m.seq < $2 "
                                "ORDER BY m.seq DESC LIMIT $3",
                                conversation_id, upper, fetch);
  if (!r) co_return std::move(r).error();
  const int n = std::min(r->Rows(), q.limit);
  page.messages.reserve(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) page.messages.push_back(ReadMessage(*r, i));
  page.has_more = r->Rows() > q.limit;
  co_return page;
}

Task<Result<MessageChange>> PgMessageStore::Edit(std::string_view conversation_id, std::int64_t seq,
                                                 std::string_view editor_id, std::string_view body,
                                                 std::string_view event_id) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<MessageChange>> {
        auto cur = co_await c.Query(
            "SELECT sender_id, type, deleted FROM messages "
            "WHERE conversation_id = $1 AND seq = $2 FOR UPDATE",
            conversation_id, seq);
        if (!cur) co_return std::move(cur).error();
        if (cur->empty()) co_return MessageNotFound();
        if (cur->GetString(0, 0) != editor_id) {
          co_return Error::PermissionDenied("only the sender can edit a message");
        }
        if (cur->GetBool(0, 2)) {
          co_return Error::Unprocessable("message_deleted", "the message was deleted");
        }
        const std::string_view type = cur->GetString(0, 1);
        if (type != "text" && type != "image" && type != "file") {
          co_return Error::Unprocessable("not_editable", "this message cannot be edited");
        }
        if (type == "text" && body.empty()) {
          co_return Error::InvalidArgument("body must not be empty");
        }
        // The new body's words (and the conversation key, migration 000010) replace
        // the old ones; the vocabulary is written last, after the conversation's row
        // (the order msg_send_batch takes them in).
        const std::string terms = pg::ToArray(MessageSearchTerms(body, std::nullopt, std::nullopt));
        std::vector<pg::Statement> st;
        st.push_back(pg::Statement::Of(
            "UPDATE messages AS m SET body = $3, edited_at = now(), "
            "search_terms = array_prepend(search_conversation_key(m.conversation_id), $4::text[]), "
            "change_xid = pg_current_xact_id() WHERE m.conversation_id = $1 AND m.seq = $2 "
            "RETURNING " TCHAT_MSG_COLUMNS,
            conversation_id, seq, body, terms));
        AppendChangeTail(st, conversation_id, "message.updated", event_id, seq, "editor_id",
                         editor_id);
        st.push_back(pg::Statement::Of(kAddVocabularySql, terms));
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        MessageChange change;
        change.message = ReadMessage((*rs)[0], 0);
        change.recipients = pg::ParseArray((*rs)[rs->size() - 2].GetString(0, 0))
                                .value_or(std::vector<std::string>{});
        co_return change;
      });
}

Task<Result<MessageChange>> PgMessageStore::Delete(std::string_view conversation_id,
                                                   std::int64_t seq, std::string_view actor_id,
                                                   bool actor_is_admin, std::string_view event_id) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<MessageChange>> {
        auto cur = co_await c.Query(
            "SELECT sender_id, deleted FROM messages "
            "WHERE conversation_id = $1 AND seq = $2 FOR UPDATE",
            conversation_id, seq);
        if (!cur) co_return std::move(cur).error();
        if (cur->empty()) co_return MessageNotFound();
        if (cur->GetString(0, 0) != actor_id && !actor_is_admin) {
          co_return Error::PermissionDenied("only the sender or a group admin can delete it");
        }
        MessageChange change;
        if (cur->GetBool(0, 1)) {  // already a tombstone
          std::vector<pg::Statement> st;
          st.push_back(pg::Statement::Of("SELECT " TCHAT_MSG_COLUMNS
                                         " FROM messages m WHERE m.conversation_id = $1 "
                                         "AND m.seq = $2",
                                         conversation_id, seq));
          st.push_back(pg::Statement::Of(
              "SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM members "
              "WHERE conversation_id = $1",
              conversation_id));
          auto rs = co_await c.Pipeline(std::move(st));
          if (!rs) co_return std::move(rs).error();
          change.message = ReadMessage((*rs)[0], 0);
          change.recipients =
              pg::ParseArray((*rs)[1].GetString(0, 0)).value_or(std::vector<std::string>{});
          change.changed = false;
          co_return change;
        }
        std::vector<pg::Statement> st;
        st.push_back(pg::Statement::Of(
            "UPDATE messages AS m SET deleted = true, body = '', attachment = NULL, "
            "payment = NULL, reactions = '{}', search_terms = NULL, "
            "change_xid = pg_current_xact_id() "
            "WHERE m.conversation_id = $1 AND m.seq = $2 RETURNING " TCHAT_MSG_COLUMNS,
            conversation_id, seq));
        AppendChangeTail(st, conversation_id, "message.deleted", event_id, seq, "deleted_by",
                         actor_id);
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        change.message = ReadMessage((*rs)[0], 0);
        change.recipients =
            pg::ParseArray(rs->back().GetString(0, 0)).value_or(std::vector<std::string>{});
        co_return change;
      });
}

Task<Result<MessageChange>> PgMessageStore::React(std::string_view conversation_id,
                                                  std::int64_t seq, std::string_view user_id,
                                                  std::string_view emoji, bool add) {
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<MessageChange>> {
        auto cur = co_await c.Query("SELECT " TCHAT_MSG_COLUMNS
                                    " FROM messages m WHERE m.conversation_id = $1 "
                                    "AND m.seq = $2 FOR UPDATE",
                                    conversation_id, seq);
        if (!cur) co_return std::move(cur).error();
        if (cur->empty()) co_return MessageNotFound();
        MessageChange change;
        change.message = ReadMessage(*cur, 0);
        if (change.message.deleted) {
          co_return Error::Unprocessable("message_deleted", "the message was deleted");
        }
        json::object& reactions = change.message.reactions;
        json::value* users = reactions.if_contains(emoji);
        bool present = false;
        if (users != nullptr && users->is_array()) {
          for (const json::value& u : users->get_array()) {
            if (u.is_string() && u.get_string() == user_id) present = true;
          }
        }
        change.changed = present != add;
        if (change.changed) {
          if (add) {
            if (users == nullptr &&
                reactions.size() >= static_cast<std::size_t>(kMaxDistinctReactions)) {
              co_return Error::Unprocessable("too_many_reactions",
                                             "this message has too many different reactions");
            }
            if (users == nullptr || !users->is_array()) {
              reactions[emoji] = json::array();
              users = reactions.if_contains(emoji);
            }
            users->get_array().push_back(json::string(user_id));
          } else {
            json::array& list = users->get_array();
            for (auto it = list.begin(); it != list.end();) {
              it = (it->is_string() && it->get_string() == user_id) ? list.erase(it) : it + 1;
            }
            if (list.empty()) reactions.erase(emoji);
          }
        }
        std::vector<pg::Statement> st;
        if (change.changed) {
          st.push_back(pg::Statement::Of(
              "UPDATE messages SET reactions = $3::jsonb, change_xid = pg_current_xact_id() "
              "WHERE conversation_id = $1 AND seq = $2",
              conversation_id, seq, ToJson(reactions)));
          AppendChangeTail(st, conversation_id, "", "", seq, "", "");
        } else {
          st.push_back(pg::Statement::Of(
              "SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM members "
              "WHERE conversation_id = $1",
              conversation_id));
        }
        auto rs = co_await c.Pipeline(std::move(st));
        if (!rs) co_return std::move(rs).error();
        change.recipients =
            pg::ParseArray(rs->back().GetString(0, 0)).value_or(std::vector<std::string>{});
        co_return change;
      });
}

std::string EncodeSyncToken(std::string_view snapshot) {
  return "s1." + jwt::Base64UrlEncode(snapshot);
}

Result<std::string> DecodeSyncToken(std::string_view token) {
  if (!token.starts_with("s1.")) return Error::InvalidArgument("since is not a sync token");
  auto raw = jwt::Base64UrlDecode(token.substr(3));
  if (!raw || raw->empty() || raw->size() > 4096) {
    return Error::InvalidArgument("since is not a sync token");
  }
  for (char c : *raw) {
    if (!((c >= '0' && c <= '9') || c == ':' || c == ',')) {
      return Error::InvalidArgument("since is not a sync token");
    }
  }
  return std::move(*raw);
}

namespace {

// The snapshot, then the conversations changed since `since` (all of the
// user's without it) and, with it, those the user left since.
std::vector<pg::Statement> SyncStatements(std::string_view user_id,
                                          const std::optional<std::string>& since) {
  std::vector<pg::Statement> st;
  st.push_back(pg::Statement::Of("SELECT pg_current_snapshot()::text"));
  if (since) {
    st.push_back(pg::Statement::Of(
        "SELECT " TCHAT_USER_CONV_COLUMNS
        " FROM msg_user_conversations($1) c "  // by key at any size (migration 000008)
        "WHERE NOT pg_visible_in_snapshot(c.change_xid, $2::pg_snapshot) "
        "ORDER BY c.updated_at DESC, c.id",
        user_id, *since));
    st.push_back(
        pg::Statement::Of("SELECT conversation_id FROM member_departures WHERE user_id = $1 "
                          "AND NOT pg_visible_in_snapshot(change_xid, $2::pg_snapshot)",
                          user_id, *since));
  } else {
    st.push_back(
        pg::Statement::Of("SELECT " TCHAT_USER_CONV_COLUMNS
                          " FROM msg_user_conversations($1) c ORDER BY c.updated_at DESC, c.id",
                          user_id));
  }
  return st;
}

// Reads the answers to SyncStatements: the next token and the departures into
// `out`; the changed conversations are returned.
std::vector<pgrows::ConversationRow> ReadSyncChanges(const std::vector<pg::PgResult>& rs,
                                                     bool incremental, SyncResult& out) {
  out.token = EncodeSyncToken(rs[0].GetString(0, 0));
  out.full = !incremental;
  std::vector<pgrows::ConversationRow> rows;
  const pg::PgResult& convs = rs[1];
  rows.reserve(static_cast<std::size_t>(convs.Rows()));
  for (int i = 0; i < convs.Rows(); ++i) rows.push_back(pgrows::ReadConversationRow(convs, i));
  if (incremental) {
    const pg::PgResult& gone = rs[2];
    for (int i = 0; i < gone.Rows(); ++i) {
      out.removed_conversation_ids.emplace_back(gone.GetString(i, 0));
    }
  }
  return rows;
}

// Per conversation: its messages changed since `since`, at most `limit` + 1.
std::vector<pg::Statement> ChangedMessageStatements(
    const std::vector<pgrows::ConversationRow>& rows, const std::string& since, int limit) {
  std::vector<pg::Statement> ms;
  ms.reserve(rows.size());
  for (const auto& r : rows) {
    ms.push_back(pg::Statement::Of("SELECT " TCHAT_MSG_COLUMNS
                                   " FROM messages m WHERE m.conversation_id = $1 "
                                   "AND m.change_xid >= pg_snapshot_xmin($2::pg_snapshot) "
                                   "AND NOT pg_visible_in_snapshot(m.change_xid, $2::pg_snapshot) "
                                   "ORDER BY m.seq LIMIT $3",
                                   r.conversation.id, since, limit + 1));
  }
  return ms;
}

// The sync's conversations with their changed messages (`changed`, `more`: per
// conversation, in the order of `loaded`).
void AddSyncConversations(SyncResult& out, std::vector<Conversation> loaded,
                          std::vector<std::vector<Message>>& changed,
                          const std::vector<bool>& more) {
  out.conversations.reserve(loaded.size());
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    SyncConversation sc;
    sc.conversation = std::move(loaded[i]);
    sc.messages = std::move(changed[i]);
    sc.has_more = more[i];
    out.conversations.push_back(std::move(sc));
  }
}

}  // namespace

Task<Result<SyncResult>> PgMessageStore::Sync(std::string_view user_id, std::string_view token,
                                              int message_limit) {
  std::optional<std::string> since;
  if (!token.empty()) {
    auto snap = DecodeSyncToken(token);
    if (!snap) co_return std::move(snap).error();
    since = std::move(*snap);
  }
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kRepeatableRead, [&](pg::Connection& c) -> Task<Result<SyncResult>> {
        SyncResult out;
        auto rs = co_await c.Pipeline(SyncStatements(user_id, since));
        if (!rs) co_return std::move(rs).error();
        std::vector<pgrows::ConversationRow> rows = ReadSyncChanges(*rs, since.has_value(), out);
        std::vector<std::vector<Message>> changed(rows.size());
        std::vector<bool> more(rows.size(), false);
        if (since && !rows.empty()) {
          auto mr = co_await c.Pipeline(ChangedMessageStatements(rows, *since, message_limit));
          if (!mr) co_return std::move(mr).error();
          for (std::size_t i = 0; i < rows.size(); ++i) {
            const pg::PgResult& r = (*mr)[i];
            const int n = std::min(r.Rows(), message_limit);
            for (int k = 0; k < n; ++k) changed[i].push_back(ReadMessage(r, k));
            more[i] = r.Rows() > message_limit;
          }
        }
        auto loaded = co_await pgrows::LoadConversations(c, user_id, std::move(rows));
        if (!loaded) co_return std::move(loaded).error();
        AddSyncConversations(out, std::move(*loaded), changed, more);
        co_return out;
      });
}

}  // namespace tchat::messaging
