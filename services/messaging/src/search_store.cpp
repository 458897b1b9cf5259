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

// The search (migration 000010): one scan of the GIN index over search_terms
// for the prefix's terms ($2, one of them), the words ($5 when `words`, all of
// them) and the caller's conversation keys ($1, one of them); the index
// intersects them, so only the caller's matches are read from the heap. Then the
// newest $4 older than the cursor ($3). The matches are collected first
// (MATERIALIZED) so that no plan walks a message index by id looking for them.
std::string SearchSql(bool words) {
  return std::string(
             "WITH g AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id FROM messages m "
             "WHERE m.search_terms && $2::text[] AND m.search_terms && $1::text[]") +
         (words ? " AND m.search_terms @> $5::text[]" : "") +
         " AND NOT m.deleted AND m.id < $3::uuid) "
         "SELECT " TCHAT_MSG_COLUMNS
         " FROM (SELECT g.conversation_id, g.seq, g.id FROM g ORDER BY g.id DESC LIMIT $4) AS p "
         "JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq "
         "ORDER BY p.id DESC";
}

// $1 the user, $2 the prefix (, $3 the one conversation): the vocabulary's terms
// that start with the prefix, the first kMaxPrefixTerms; the keys of the user's
// conversations (of the one conversation if the user is a member of it).
std::string PrepareSql(bool narrowed) {
  return "SELECT (SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab "
         "WHERE term >= $2::text COLLATE \"C\" AND term < ($2::text || chr(1114111)) "
         "COLLATE \"C\" ORDER BY term LIMIT " +
         std::to_string(kMaxPrefixTerms) +
         ") v), ARRAY(SELECT search_conversation_key(me.conversation_id) FROM members me "
         "WHERE me.user_id = $1::uuid" +
         (narrowed ? std::string(" AND me.conversation_id = $3::uuid") : std::string()) + ")";
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

Task<Result<pg::PgResult>> RunPrepare(pg::Connection& c, const std::string& sql,
                                      const MessageSearch& s) {
  if (s.conversation_id) {
    co_return co_await c.Query(sql, s.user_id, s.query.prefix, *s.conversation_id);
  }
  co_return co_await c.Query(sql, s.user_id, s.query.prefix);
}

Task<Result<pg::PgResult>> RunSearch(pg::Connection& c, const std::string& sql,
                                     const std::string& keys, const std::string& terms,
                                     const std::string& cursor, int fetch,
                                     const std::string& words) {
  if (!words.empty()) co_return co_await c.Query(sql, keys, terms, cursor, fetch, words);
  co_return co_await c.Query(sql, keys, terms, cursor, fetch);
}

}  // namespace

// One statement for the prefix's terms and the caller's conversation keys, then
// the search with both as values (planned with them: the GIN index is scanned
// for the terms and the keys together, see SearchSql).
Task<Result<MessageSearchPage>> PgSearchStore::Messages(const MessageSearch& s) {
  const bool words = !s.query.words.empty();
  const std::string prepare_sql = PrepareSql(s.conversation_id.has_value());
  const std::string search_sql = SearchSql(words);
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
        auto prep = co_await RunPrepare(c, prepare_sql, s);
        if (!prep) co_return std::move(prep).error();
        const std::string terms(prep->GetString(0, 0));
        const std::string keys(prep->GetString(0, 1));
        // No word starts so, or no conversation: nothing can match.
        if (terms == "{}" || keys == "{}") co_return page;
        auto r = co_await RunSearch(c, search_sql, keys, terms, cursor, fetch, word_array);
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
