#include "search_store.hpp"

#include <algorithm>
#include <cstdlib>

#include <tchat/core/pg/array.hpp>

namespace tchat::messaging {

namespace {

using pgrows::ReadMessage;

// A search that runs longer is cancelled (kDeadlineExceeded, 504).
constexpr int kSearchTimeoutMs = 5000;

// Above every UUID: the first page's cursor.
constexpr std::string_view kNoCursor = "ffffffff-ffff-ffff-ffff-ffffffffffff";

// The keys plan (SearchPlan::kKeys, migration 000010): one scan of the GIN index
// over search_terms for the prefix's terms ($2, one of them), the words ($5 when
// `words`, all of them) and the caller's conversation keys ($1, one of them); the
// index intersects them, so only the caller's matches are read from the heap.
// Then the newest $4 older than the cursor ($3). The matches are collected first
// (MATERIALIZED) so that no plan walks a message index by id looking for them.
// Columns: 0 unused (NULL), then TCHAT_MSG_COLUMNS.
std::string KeysSql(bool words) {
  return std::string(
             "WITH g AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id FROM messages m "
             "WHERE m.search_terms && $2::text[] AND m.search_terms && $1::text[]") +
         (words ? " AND m.search_terms @> $5::text[]" : "") +
         " AND NOT m.deleted AND m.id < $3::uuid) "
         "SELECT NULL::bigint, " TCHAT_MSG_COLUMNS
         " FROM (SELECT g.conversation_id, g.seq, g.id FROM g ORDER BY g.id DESC LIMIT $4) AS p "
         "JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq "
         "ORDER BY p.id DESC";
}

// The words plan (SearchPlan::kWords): the GIN index for the prefix's terms ($2)
// and the words ($6 when `words`) alone, at most $5 rows of the whole table (w);
// of those, the caller's conversations ($1, their ids) and, as in the keys plan,
// only messages whose terms begin with their conversation's key (000010: every
// writer puts it first); then the newest $4 older than the cursor ($3).
// Columns: 0 how many rows w read (= $5: there may be more, the page is not
// complete), then TCHAT_MSG_COLUMNS (NULL when the page is empty).
std::string WordsSql(bool words) {
  return std::string(
             "WITH w AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id, "
             "m.search_terms[1] AS k FROM messages m WHERE m.search_terms && $2::text[]") +
         (words ? " AND m.search_terms @> $6::text[]" : "") +
         " AND NOT m.deleted LIMIT $5), "
         "g AS MATERIALIZED (SELECT w.conversation_id, w.seq, w.id FROM w "
         "WHERE w.conversation_id = ANY ($1::uuid[]) "
         "AND w.k = search_conversation_key(w.conversation_id) AND w.id < $3::uuid) "
         "SELECT n.read, r.* FROM (SELECT count(*) AS read FROM w) AS n LEFT JOIN LATERAL ("
         "SELECT " TCHAT_MSG_COLUMNS
         " FROM (SELECT g.conversation_id, g.seq, g.id FROM g ORDER BY g.id DESC LIMIT $4) AS p "
         "JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq) AS r ON true "
         "ORDER BY r.id DESC";
}

// $1 the user, $2 the prefix (, $3 the one conversation): the search's settings
// for the transaction; the vocabulary's terms that start with the prefix, the
// first kMaxPrefixTerms; the keys of the user's conversations (of the one
// conversation if the user is a member of it), their ids, how many.
std::string PrepareSql(bool narrowed, int timeout_ms) {
  const std::string mine =
      "FROM members me WHERE me.user_id = $1::uuid" +
      (narrowed ? std::string(" AND me.conversation_id = $3::uuid") : std::string());
  return "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
         "set_config('statement_timeout', '" +
         std::to_string(timeout_ms) +
         "', true), set_config('enable_seqscan', 'off', true), "
         "(SELECT coalesce(array_agg(v.term), '{}') FROM (SELECT term FROM search_vocab "
         "WHERE term >= $2::text COLLATE \"C\" AND term < ($2::text || chr(1114111)) "
         "COLLATE \"C\" ORDER BY term LIMIT " +
         std::to_string(kMaxPrefixTerms) +
         ") v), ARRAY(SELECT search_conversation_key(me.conversation_id) " + mine +
         "), ARRAY(SELECT me.conversation_id " + mine + ")";
}

// The element statistics of messages.search_terms: rows, the fraction without
// terms, the most common terms and their frequencies (with, after them, the
// lowest frequency of the list; pg_stats).
constexpr const char* kStatsSql =
    "SELECT c.reltuples::float8, s.null_frac::float8, s.most_common_elems::text, "
    "s.most_common_elem_freqs::text FROM pg_class c LEFT JOIN pg_stats s "
    "ON s.schemaname = current_schema() AND s.tablename = 'messages' "
    "AND s.attname = 'search_terms' WHERE c.oid = 'messages'::regclass";

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

// The values of one search, as PrepareSql found them.
struct Prepared {
  std::string terms;  // text[] literals
  std::string keys;
  std::string conversations;
  std::string words;  // "" without words
  std::string cursor;
  int fetch = 0;
};

Task<Result<pg::PgResult>> RunKeys(pg::Connection& c, const Prepared& p) {
  const std::string sql = KeysSql(!p.words.empty());
  if (!p.words.empty())
    co_return co_await c.Query(sql, p.keys, p.terms, p.cursor, p.fetch, p.words);
  co_return co_await c.Query(sql, p.keys, p.terms, p.cursor, p.fetch);
}

Task<Result<pg::PgResult>> RunWords(pg::Connection& c, const Prepared& p, int max_matches) {
  const std::string sql = WordsSql(!p.words.empty());
  if (!p.words.empty()) {
    co_return co_await c.Query(sql, p.conversations, p.terms, p.cursor, p.fetch, max_matches,
                               p.words);
  }
  co_return co_await c.Query(sql, p.conversations, p.terms, p.cursor, p.fetch, max_matches);
}

// Reads the rows of KeysSql or WordsSql (an empty page is one row of NULLs).
MessageSearchPage ReadPage(const pg::PgResult& r, int limit, SearchPlan plan) {
  MessageSearchPage page;
  page.plan = plan;
  int rows = r.Rows();
  if (rows == 1 && r.IsNull(0, 1)) rows = 0;
  const int n = std::min(rows, limit);
  page.messages.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) page.messages.push_back(ReadMessage(r, i, 1));
  page.has_more = rows > limit;
  return page;
}

}  // namespace

Task<void> PgSearchStore::RefreshStats() {
  const auto now = std::chrono::steady_clock::now();
  if (stats_.tried && now - stats_.loaded < kStatsMaxAge) co_return;
  stats_ = TermStats{};
  stats_.tried = true;
  stats_.loaded = now;
  auto r = co_await pool_.Query(kStatsSql);
  // Without statistics (or when they cannot be read) every search takes the keys.
  if (!r || r->Rows() != 1 || r->IsNull(0, 2) || r->IsNull(0, 3)) co_return;
  auto elems = pg::ParseArray(r->GetString(0, 2));
  auto freqs = pg::ParseArray(r->GetString(0, 3));
  // most_common_elem_freqs: one per element, then the lowest, the highest and the
  // frequency of NULL elements.
  if (!elems || !freqs || freqs->size() != elems->size() + 3) co_return;
  for (std::size_t i = 0; i < elems->size(); ++i) {
    stats_.frequency.emplace((*elems)[i], std::strtod((*freqs)[i].c_str(), nullptr));
  }
  stats_.below = std::strtod((*freqs)[elems->size()].c_str(), nullptr);
  stats_.rows = r->GetDouble(0, 0) * (1.0 - r->GetDouble(0, 1));
}

std::optional<double> PgSearchStore::Estimate(const std::vector<std::string>& words,
                                              const std::vector<std::string>& terms) const {
  if (stats_.rows < 0) return std::nullopt;
  const auto frequency = [this](const std::string& t) {
    auto it = stats_.frequency.find(t);
    return it == stats_.frequency.end() ? stats_.below : it->second;
  };
  double f = 0;  // the prefix: one of its terms
  for (const std::string& t : terms) f += frequency(t);
  for (const std::string& w : words) f = std::min(f, frequency(w));
  return std::min(f, 1.0) * stats_.rows;
}

// One statement for the settings, the prefix's terms and the caller's
// conversations; then the plan (SearchPlan) with those as values.
Task<Result<MessageSearchPage>> PgSearchStore::Messages(const MessageSearch& s) {
  if (s.plan == SearchPlan::kAuto) co_await RefreshStats();
  const std::string prepare_sql = PrepareSql(s.conversation_id.has_value(), kSearchTimeoutMs);
  Prepared p;
  p.cursor = s.before_id ? *s.before_id : std::string(kNoCursor);
  p.words = s.query.words.empty() ? std::string() : pg::ToArray(s.query.words);
  p.fetch = s.limit + 1;
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted,
      [&](pg::Connection& c) -> Task<Result<MessageSearchPage>> {
        auto prep = co_await RunPrepare(c, prepare_sql, s);
        if (!prep) co_return std::move(prep).error();
        p.terms = std::string(prep->GetString(0, 3));
        p.keys = std::string(prep->GetString(0, 4));
        p.conversations = std::string(prep->GetString(0, 5));
        // No word starts so, or no conversation: nothing can match.
        if (p.terms == "{}" || p.keys == "{}") {
          MessageSearchPage none;
          none.plan = s.plan == SearchPlan::kWords ? SearchPlan::kWords : SearchPlan::kKeys;
          co_return none;
        }
        SearchPlan plan = s.plan;
        if (plan == SearchPlan::kAuto) {
          // One conversation: its key is one index entry, the keys plan is cheap.
          plan = SearchPlan::kKeys;
          const auto terms = pg::ParseArray(p.terms);
          const auto estimate =
              terms && !s.conversation_id ? Estimate(s.query.words, *terms) : std::nullopt;
          if (estimate && *estimate <= limits_.words_max_estimate) plan = SearchPlan::kWords;
        }
        if (plan == SearchPlan::kWords) {
          auto r = co_await RunWords(c, p, limits_.words_max_matches);
          if (!r) co_return std::move(r).error();
          // All the matches of the table were read: the page is complete.
          if (r->GetInt64(0, 0) < limits_.words_max_matches) {
            co_return ReadPage(*r, s.limit, SearchPlan::kWords);
          }
        }
        auto r = co_await RunKeys(c, p);
        if (!r) co_return std::move(r).error();
        co_return ReadPage(*r, s.limit, SearchPlan::kKeys);
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
