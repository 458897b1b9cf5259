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

// $1 user, $2 the prefix's terms, $3 cursor (exclusive), $4 limit + 1, then $5
// the words (when there are some) and the conversation (when narrowed).
std::string MessagesSql(bool words, bool conversation) {
  std::string sql = "SELECT " TCHAT_MSG_COLUMNS
                    " FROM messages m "
                    "WHERE m.conversation_id IN (SELECT me.conversation_id FROM members me "
                    "WHERE me.user_id = $1) AND m.search_terms && $2::text[] AND NOT m.deleted "
                    "AND m.id < $3::uuid";
  int next = 5;
  if (words) sql += " AND m.search_terms @> $" + std::to_string(next++) + "::text[]";
  if (conversation) sql += " AND m.conversation_id = $" + std::to_string(next++) + "::uuid";
  sql += " ORDER BY m.id DESC LIMIT $4";
  return sql;
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

// The prefix is expanded first, so that the planner sees the actual terms (and
// their frequencies, from the statistics of search_terms) and picks per query
// between the GIN index (rare words) and the caller's conversations by key
// (common ones): custom plans, never the statement cache's generic one.
Task<Result<MessageSearchPage>> PgSearchStore::Messages(const MessageSearch& s) {
  const bool words = !s.query.words.empty();
  const bool narrowed = s.conversation_id.has_value();
  const std::string sql = MessagesSql(words, narrowed);
  const std::string prefix_sql = PrefixSql();
  const std::string cursor = s.before_id ? *s.before_id : std::string(kNoCursor);
  const std::string word_array = words ? pg::ToArray(s.query.words) : std::string();
  const int fetch = s.limit + 1;
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
        Result<pg::PgResult> r = Error::Internal("not run");
        if (words && narrowed) {
          r = co_await c.Query(sql, s.user_id, terms, cursor, fetch, word_array,
                               *s.conversation_id);
        } else if (words) {
          r = co_await c.Query(sql, s.user_id, terms, cursor, fetch, word_array);
        } else if (narrowed) {
          r = co_await c.Query(sql, s.user_id, terms, cursor, fetch, *s.conversation_id);
        } else {
          r = co_await c.Query(sql, s.user_id, terms, cursor, fetch);
        }
        if (!r) co_return std::move(r).error();
        const int n = std::min(r->Rows(), s.limit);
        page.messages.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) page.messages.push_back(ReadMessage(*r, i));
        page.has_more = r->Rows() > s.limit;
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
