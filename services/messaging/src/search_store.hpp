#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"
#include "pg_rows.hpp"
#include "search_text.hpp"

// The SQL of message search (migrations/postgres/tchat_messaging/000006_search,
// 000010_search_conversation_key, 000013_search_plan_and_vocab): messages.search_terms (GIN), which
// also hold the message's conversation key, and the search_vocab table of every indexed term.
namespace tchat::messaging {

// Adds the terms of $1 (a text[] literal) that it lacks to the vocabulary, in
// sorted order (as msg_send_batch does, migration 000013).
inline constexpr const char* kAddVocabularySql =
    "INSERT INTO search_vocab (term) SELECT t.term FROM (SELECT DISTINCT term "
    "FROM unnest($1::text[]) AS term) AS t WHERE NOT EXISTS (SELECT 1 FROM search_vocab sv "
    "WHERE sv.term = t.term) ORDER BY t.term ON CONFLICT DO NOTHING";

// tchat-search-reindex --keys, one batch: adds the conversation key (migration
// 000010) to the terms of the next $3 messages after ($1 conversation, $2 seq) by
// primary key that have terms without it. Answers how many messages it read,
// the last one's key and how many it changed. An edit or deletion committed
// meanwhile is seen by the UPDATE (it re-tests the row's newest version): its
// terms already hold the key, or are NULL.
inline constexpr const char* kBackfillKeysSql =
    "WITH b AS MATERIALIZED (SELECT m.conversation_id, m.seq FROM messages m "
    "WHERE (m.conversation_id, m.seq) > ($1::uuid, $2::bigint) "
    "ORDER BY m.conversation_id, m.seq LIMIT $3), "
    "u AS (UPDATE messages m SET search_terms = array_prepend("
    "search_conversation_key(m.conversation_id), m.search_terms) FROM b "
    "WHERE m.conversation_id = b.conversation_id AND m.seq = b.seq "
    "AND m.search_terms IS NOT NULL "
    "AND NOT m.search_terms @> ARRAY[search_conversation_key(m.conversation_id)] RETURNING 1), "
    "last AS (SELECT b.conversation_id, b.seq FROM b ORDER BY b.conversation_id DESC, "
    "b.seq DESC LIMIT 1) "
    "SELECT (SELECT count(*) FROM b), (SELECT conversation_id FROM last), "
    "(SELECT seq FROM last), (SELECT count(*) FROM u)";

// A message's index terms: the words of its body (text, a caption, a payment's
// note), for a payment its currency code, for a renamed group the new title.
std::vector<std::string> MessageSearchTerms(std::string_view body,
                                            const std::optional<json::object>& payment,
                                            const std::optional<json::object>& system);

// How many vocabulary terms the query's last word (a prefix) expands to, at most:
// the first ones in code point order. A longer prefix narrows them.
inline constexpr int kMaxPrefixTerms = 128;

// How a search finds its rows (PgSearchStore::Messages):
//  - kKeys: one scan of the GIN index for the query's terms AND one of the
//    caller's conversation keys (migration 000010). Its cost grows with the
//    number of the caller's conversations (one index entry each) and with the
//    caller's matches; right for common words.
//  - kWords: the GIN index for the query's terms alone, then the caller's
//    conversations kept among those rows. Its cost grows with the matches in the
//    whole table; right for rare words, where it skips the keys' entries.
//  - kAuto: kWords when the statistics of messages.search_terms (ANALYZE) say the
//    query's rarest term is in at most SearchPlanLimits::words_max_estimate
//    messages, kKeys otherwise. kWords reads at most words_max_matches rows of the
//    whole table; when there are more it gives up and runs kKeys, so a wrong
//    estimate costs time, never results.
// Both find the same rows; kWords and kKeys are named for tests and the benchmark.
enum class SearchPlan { kAuto, kWords, kKeys };

struct SearchPlanLimits {
  double words_max_estimate = 500;
  int words_max_matches = 2000;
};

struct MessageSearch {
  std::string user_id;
  SearchPlan plan = SearchPlan::kAuto;
  std::optional<std::string> conversation_id;  // canonical UUID
  search::Query query;                         // at least a prefix
  std::optional<std::string> before_id;        // the cursor: results older than this message
  int limit = 20;
};

// Newest first (by message id, a UUIDv7: the time of the send); `has_more` when
// older results exist.
struct MessageSearchPage {
  std::vector<Message> messages;
  bool has_more = false;
  SearchPlan plan = SearchPlan::kKeys;  // the plan that found them
};

// Bound to one worker's pg::Pool; not thread-safe.
class PgSearchStore {
 public:
  explicit PgSearchStore(pg::Pool& pool, SearchPlanLimits limits = {})
      : pool_(pool), limits_(limits) {}

  // Messages of the conversations `s.user_id` is a member of now whose terms hold
  // every query word and one term starting with the prefix; deleted messages
  // never match. Found by s.plan (see SearchPlan).
  Task<Result<MessageSearchPage>> Messages(const MessageSearch& s);

  // The user's group conversations with a title (rows for pgrows::LoadConversations).
  Task<Result<std::vector<pgrows::ConversationRow>>> TitledGroups(std::string_view user_id);

  // Fills members, last message and unread count of `rows` for `viewer_id`.
  Task<Result<std::vector<Conversation>>> Load(std::string_view viewer_id,
                                               std::vector<pgrows::ConversationRow> rows);

 private:
  // The element statistics of messages.search_terms (pg_stats), reloaded every
  // kStatsMaxAge: how many messages hold a term, estimated.
  struct TermStats {
    std::unordered_map<std::string, double> frequency;  // of the rows with terms
    double below = 0;  // the frequency of a term not in `frequency` is at most this
    double rows = -1;  // rows with terms; < 0 when there are no statistics
    std::chrono::steady_clock::time_point loaded;
    bool tried = false;
  };
  static constexpr std::chrono::minutes kStatsMaxAge{5};

  Task<void> RefreshStats();
  // The estimated number of messages holding every word and one of the terms;
  // nullopt without statistics.
  std::optional<double> Estimate(const std::vector<std::string>& words,
                                 const std::vector<std::string>& terms) const;

  pg::Pool& pool_;
  SearchPlanLimits limits_;
  TermStats stats_;
};

}  // namespace tchat::messaging
