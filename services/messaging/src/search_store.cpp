#include "search_store.hpp"

#include <algorithm>

#include <tchat/core/pg/array.hpp>

namespace tchat::messaging {

namespace {

using pgrows::ReadMessage;

// A search that runs longer is cancelled (kDeadlineExceeded, 504).
constexpr int kSearchTimeoutMs = 5000;

// Above every UUID: the first page's cursor.
constexpr std::string_view kNoCursor = "ffffffff-ffff-ffff-ffff-ffffffffffff";

// At most this many messages are taken from the GIN index before a search
// turns to the caller's conversations instead (see PgSearchStore::Messages).
constexpr int kIndexFirstCap = 2000;

// Conditions on the query's words ($5, when `words`) and on the conversation
// ($6 after words, else $5; when `conversation`), as far as `emit_words` and
// `emit_conversation` ask. `terms` is the column (or expression) the words test.
std::string Conditions(std::string_view terms, std::string_view alias, bool words,
                       bool conversation, bool emit_words, bool emit_conversation) {
  std::string sql;
  const int words_param = 5;
  const int conversation_param = words ? 6 : 5;
  if (words && emit_words) {
    sql += " AND ";
    sql += terms;
    sql += " @> $" + std::to_string(words_param) + "::text[]";
  }
  if (conversation && emit_conversation) {
    sql += " AND ";
    sql += alias;
    sql += ".conversation_id = $" + std::to_string(conversation_param) + "::uuid";
  }
  return sql;
}

// Index first: the messages whose terms match, from the GIN index, at most
// kIndexFirstCap + 1 of them (column 0: how many), then those of the caller's
// conversations among them, newest first, at most $4 (columns 1...: the message,
// NULL when none). $2 the prefix's terms.
std::string IndexFirstSql(bool words, bool conversation) {
  return "WITH g AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id FROM messages m "
         "WHERE m.search_terms && $2::text[] AND NOT m.deleted" +
         Conditions("m.search_terms", "m", words, conversation, true, false) + " LIMIT " +
         std::to_string(kIndexFirstCap + 1) +
         ") SELECT (SELECT count(*) FROM g), r.* FROM (SELECT 1) AS one LEFT JOIN LATERAL ("
         "SELECT " TCHAT_MSG_COLUMNS
         " FROM g JOIN messages m ON m.conversation_id = g.conversation_id AND m.seq = g.seq "
         "WHERE g.conversation_id IN (SELECT me.conversation_id FROM members me "
         "WHERE me.user_id = $1) AND g.id < $3::uuid" +
         Conditions("m.search_terms", "g", words, conversation, false, true) +
         " ORDER BY g.id DESC LIMIT $4) AS r ON true";
}

// Conversations first: the caller's messages (by the conversations' keys),
// tested one by one. The terms are tested through an expression the GIN index
// does not serve, so that the planner cannot probe the index once per
// conversation (which costs a scan of every matching term per conversation).
std::string ConversationsFirstSql(bool words, bool conversation) {
  return "SELECT " TCHAT_MSG_COLUMNS
         " FROM messages m WHERE m.conversation_id IN (SELECT me.conversation_id "
         "FROM members me WHERE me.user_id = $1) "
         "AND (m.search_terms || '{}'::text[]) && $2::text[] AND NOT m.deleted "
         "AND m.id < $3::uuid" +
         Conditions("(m.search_terms || '{}'::text[])", "m", words, conversation, true, true) +
         " ORDER BY m.id DESC LIMIT $4";
}

// The vocabulary's terms that start with $1, the first kMaxPrefixTerms.
std::string PrefixSql() {
  return "SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab "
         "WHERE term >= $1::text COLLATE \"C\" AND term < ($1::text || chr(1114111)) "
         "COLLATE \"C\" ORDER BY term LIMIT " +
         std::to_string(kMaxPrefixTerms) + ") v";
}

}  // namespace

std::vector<std::string> MessageSearchTerms(std::string_view body,
                                            const std::optional<json::object>& payment,
                                            const std::optional<json::object>& system) {
  std::string text(body);
  const auto add = [&text](const std::optional<json::object>& o, std::string_view key) {
    if (!o) return;
    const json::value* v = o->if_contains(key);
    if (v == nullptr || !v->is_string()) return;
    text += '\n';
    text += v->get_string();
  };
  add(payment, "currency");
  if (system) {
    const json::value* action = system->if_contains("action");
    if (action != nullptr && action->is_string() && action->get_string() == "title_changed") {
      add(system, "title");
    }
  }
  return search::IndexTerms(text);
}

namespace {

// Runs `sql` with the parameters MessagesSql's variants take.
Task<Result<pg::PgResult>> RunSearch(pg::Connection& c, const std::string& sql,
                                     const MessageSearch& s, const std::string& terms,
                                     const std::string& cursor, const std::string& words) {
  const int fetch = s.limit + 1;
  const bool narrowed = s.conversation_id.has_value();
  if (!words.empty() && narrowed) {
    co_return co_await c.Query(sql, s.user_id, terms, cursor, fetch, words, *s.conversation_id);
  }
  if (!words.empty()) co_return co_await c.Query(sql, s.user_id, terms, cursor, fetch, words);
  if (narrowed) {
    co_return co_await c.Query(sql, s.user_id, terms, cursor, fetch, *s.conversation_id);
  }
  co_return co_await c.Query(sql, s.user_id, terms, cursor, fetch);
}

void ReadPage(const pg::PgResult& r, int col, int limit, MessageSearchPage& page) {
  int rows = r.Rows();
  if (rows == 1 && r.IsNull(0, col)) rows = 0;  // the index-first query's "none"
  const int n = std::min(rows, limit);
  page.messages.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) page.messages.push_back(ReadMessage(r, i, col));
  page.has_more = rows > limit;
}

}  // namespace

// Two plans, because the cost of a search depends on how common its words are:
// rare words are found fastest through the GIN index (few matches anywhere),
// common ones by reading the caller's own messages (bounded by their
// conversations, however many matches the whole table has). The index is tried
// first, up to kIndexFirstCap matches; past that the search reads the caller's
// conversations. The prefix is expanded first (the statements then see the
// actual terms) and every statement is planned with its values.
Task<Result<MessageSearchPage>> PgSearchStore::Messages(const MessageSearch& s) {
  const bool words = !s.query.words.empty();
  const bool narrowed = s.conversation_id.has_value();
  const std::string index_first = IndexFirstSql(words, narrowed);
  const std::string conversations_first = ConversationsFirstSql(words, narrowed);
  const std::string prefix_sql = PrefixSql();
  const std::string cursor = s.before_id ? *s.before_id : std::string(kNoCursor);
  const std::string word_array = words ? pg::ToArray(s.query.words) : std::string();
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted,
      [&](pg::Connection& c) -> Task<Result<MessageSearchPage>> {
        MessageSearchPage page;
        auto set = co_await c.Query(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('statement_timeout', $1::text, true)",
            std::to_string(kSearchTimeoutMs));
        if (!set) co_return std::move(set).error();
        auto expanded = co_await c.Query(prefix_sql, s.query.prefix);
        if (!expanded) co_return std::move(expanded).error();
        const std::string terms(expanded->GetString(0, 0));
        if (terms == "{}") co_return page;  // no word starts so: nothing can match
        auto r = co_await RunSearch(c, index_first, s, terms, cursor, word_array);
        if (!r) co_return std::move(r).error();
        if (r->GetInt64(0, 0) <= kIndexFirstCap) {
          ReadPage(*r, 1, s.limit, page);
          co_return page;
        }
        r = co_await RunSearch(c, conversations_first, s, terms, cursor, word_array);
        if (!r) co_return std::move(r).error();
        ReadPage(*r, 0, s.limit, page);
        co_return page;
      });
}

Task<Result<std::vector<pgrows::ConversationRow>>> PgSearchStore::TitledGroups(
    std::string_view user_id) {
  auto r =
      co_await pool_.Query("SELECT " TCHAT_CONV_COLUMNS
                           " FROM members me JOIN conversations c ON c.id = me.conversation_id "
                           "WHERE me.user_id = $1 AND c.type = 'group' AND c.title IS NOT NULL "
                           "ORDER BY c.updated_at DESC, c.id",
                           user_id);
  if (!r) co_return std::move(r).error();
  std::vector<pgrows::ConversationRow> rows;
  rows.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) rows.push_back(pgrows::ReadConversationRow(*r, i));
  co_return rows;
}

Task<Result<std::vector<Conversation>>> PgSearchStore::Load(
    std::string_view viewer_id, std::vector<pgrows::ConversationRow> rows) {
  if (rows.empty()) co_return std::vector<Conversation>{};
  auto lease = co_await pool_.Acquire();
  if (!lease) co_return std::move(lease).error();
  co_return co_await pgrows::LoadConversations(**lease, viewer_id, std::move(rows));
}

}  // namespace tchat::messaging
