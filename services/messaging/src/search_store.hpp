#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"
#include "pg_rows.hpp"
#include "search_text.hpp"

// The SQL of message search (migrations/postgres/tchat_messaging/000006_search,
// 000010_search_conversation_key): messages.search_terms (GIN), which also hold
// the message's conversation key, and the search_vocab table of every indexed term.
namespace tchat::messaging {

// Adds the terms of $1 (a text[] literal) to the vocabulary, in sorted order.
inline constexpr const char* kAddVocabularySql =
    "INSERT INTO search_vocab (term) SELECT DISTINCT t FROM unnest($1::text[]) AS t "
    "ORDER BY t ON CONFLICT DO NOTHING";

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

struct MessageSearch {
  std::string user_id;
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
};

// Bound to one worker's pg::Pool; not thread-safe.
class PgSearchStore {
 public:
  explicit PgSearchStore(pg::Pool& pool) : pool_(pool) {}

  // Messages of the conversations `s.user_id` is a member of now whose terms hold
  // every query word and one term starting with the prefix; deleted messages
  // never match. One scan of the GIN index for the terms and the caller's
  // conversation keys; the heap is read for the caller's matches only.
  Task<Result<MessageSearchPage>> Messages(const MessageSearch& s);

  // The user's group conversations with a title (rows for pgrows::LoadConversations).
  Task<Result<std::vector<pgrows::ConversationRow>>> TitledGroups(std::string_view user_id);

  // Fills members, last message and unread count of `rows` for `viewer_id`.
  Task<Result<std::vector<Conversation>>> Load(std::string_view viewer_id,
                                               std::vector<pgrows::ConversationRow> rows);

 private:
  pg::Pool& pool_;
};

}  // namespace tchat::messaging
