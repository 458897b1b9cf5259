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

// How a search reads search_words (migration 000008): per conversation of the
// caller, newest first, through one term (the driver), at most a page; then the
// newest page of all of them. `check`: the driver is one of several words, and
// each candidate message is tested for the others and the prefix.
struct Plan {
  std::string driver;
  bool check = false;
  std::vector<std::string> others;  // the other words (check)
};

// The longest word drives (a longer word tends to be rarer: fewer candidates);
// with none, the prefix does, as a range of terms.
Plan MakePlan(const search::Query& q) {
  Plan p;
  if (q.words.empty()) {
    p.driver = q.prefix;
    return p;
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < q.words.size(); ++i) {
    if (q.words[i].size() > q.words[best].size()) best = i;
  }
  p.driver = q.words[best];
  p.check = true;
  for (std::size_t i = 0; i < q.words.size(); ++i) {
    if (i != best) p.others.push_back(q.words[i]);
  }
  return p;
}

// $1 user, $2 driver, $3 cursor (message id), $4 page + 1; with `check` $5 the
// other words and $6 the prefix; with `narrowed` the conversation ($7, else $5).
// The inner query takes at most a page per conversation from the index, newest
// first (for the prefix: the range of its terms, a message once); the outer one
// keeps the newest page of those and reads their messages.
std::string SearchSql(bool check, bool narrowed) {
  std::string inner;
  if (!check) {
    inner =
        "SELECT DISTINCT w.conversation_id, w.seq, w.id FROM search_words w "
        "WHERE w.conversation_id = me.conversation_id AND w.term >= $2::text "
        "AND w.term < ($2::text || chr(1114111)) AND w.id < $3::uuid "
        "ORDER BY w.id DESC LIMIT $4";
  } else {
    inner =
        "SELECT w.conversation_id, w.seq, w.id FROM search_words w "
        "JOIN messages c ON c.conversation_id = w.conversation_id AND c.seq = w.seq "
        "WHERE w.conversation_id = me.conversation_id AND w.term = $2::text "
        "AND w.id < $3::uuid AND c.search_terms @> $5::text[] "
        "AND EXISTS (SELECT 1 FROM unnest(c.search_terms) AS t WHERE starts_with(t, $6::text)) "
        "ORDER BY w.id DESC LIMIT $4";
  }
  const std::string conversation =
      narrowed ? std::string(" AND me.conversation_id = $") + (check ? "7" : "5") + "::uuid"
               : std::string();
  return "SELECT " TCHAT_MSG_COLUMNS
         " FROM (SELECT x.conversation_id, x.seq, x.id FROM members me CROSS JOIN LATERAL (" +
         inner + ") AS x WHERE me.user_id = $1::uuid" + conversation +
         " ORDER BY x.id DESC LIMIT $4) AS p "
         "JOIN messages m ON m.conversation_id = p.conversation_id AND m.seq = p.seq "
         "WHERE NOT m.deleted ORDER BY p.id DESC";
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

// Runs SearchSql(plan.check, narrowed) with its parameters.
Task<Result<pg::PgResult>> RunSearch(pg::Connection& c, const std::string& sql,
                                     const MessageSearch& s, const Plan& plan,
                                     const std::string& cursor) {
  const int fetch = s.limit + 1;
  if (plan.check) {
    const std::string others = pg::ToArray(plan.others);
    if (s.conversation_id) {
      co_return co_await c.Query(sql, s.user_id, plan.driver, cursor, fetch, others, s.query.prefix,
                                 *s.conversation_id);
    }
    co_return co_await c.Query(sql, s.user_id, plan.driver, cursor, fetch, others, s.query.prefix);
  }
  if (s.conversation_id) {
    co_return co_await c.Query(sql, s.user_id, plan.driver, cursor, fetch, *s.conversation_id);
  }
  co_return co_await c.Query(sql, s.user_id, plan.driver, cursor, fetch);
}

}  // namespace

// One statement whose cost follows the page, not the number of matches: per
// conversation of the caller one descent of search_words' index and at most a
// page of its entries (see SearchSql). Planned with its values (the prefix's
// range), within a statement timeout.
Task<Result<MessageSearchPage>> PgSearchStore::Messages(const MessageSearch& s) {
  const Plan plan = MakePlan(s.query);
  const std::string sql = SearchSql(plan.check, s.conversation_id.has_value());
  const std::string cursor = s.before_id ? *s.before_id : std::string(kNoCursor);
  co_return co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted,
      [&](pg::Connection& c) -> Task<Result<MessageSearchPage>> {
        MessageSearchPage page;
        auto set = co_await c.Query(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('statement_timeout', $1::text, true)",
            std::to_string(kSearchTimeoutMs));
        if (!set) co_return std::move(set).error();
        auto r = co_await RunSearch(c, sql, s, plan, cursor);
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
