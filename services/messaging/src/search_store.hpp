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

// The SQL of message search: messages.search_terms (migration 000006) and the
// search_words table made from them (000008), read per conversation.
namespace tchat::messaging {

// tchat-search-reindex --words, one batch: the search_words rows of the next $3
// messages after ($1 conversation, $2 seq) by primary key, from their
// search_terms (rows already there are kept). Answers how many messages it read,
// the last one's key and how many rows it added. The messages are locked FOR
// SHARE: an edit or deletion waits for the batch and then replaces its rows
// (000008's trigger), or committed before and its terms are the ones read.
inline constexpr const char* kBackfillWordsSql =
    "WITH b AS MATERIALIZED (SELECT m.conversation_id, m.seq, m.id, m.search_terms, m.deleted "
    "FROM messages m WHERE (m.conversation_id, m.seq) > ($1::uuid, $2::bigint) "
    "ORDER BY m.conversation_id, m.seq LIMIT $3 FOR SHARE), "
    "ins AS (INSERT INTO search_words (conversation_id, term, id, seq) "
    "SELECT DISTINCT b.conversation_id, t, b.id, b.seq FROM b CROSS JOIN LATERAL "
    "unnest(b.search_terms) AS t WHERE NOT b.deleted ON CONFLICT DO NOTHING RETURNING 1), "
    "last AS (SELECT b.conversation_id, b.seq FROM b ORDER BY b.conversation_id DESC, "
    "b.seq DESC LIMIT 1) "
    "SELECT (SELECT count(*) FROM b), (SELECT conversation_id FROM last), "
    "(SELECT seq FROM last), (SELECT count(*) FROM ins)";

// A message's index terms: the words of its body (text, a caption, a payment's
// note), for a payment its currency code, for a renamed group the new title.
std::vector<std::string> MessageSearchTerms(std::string_view body,
                                            const std::optional<json::object>& payment,
                                            const std::optional<json::object>& system);

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
  // never match. Costs a descent of search_words' index per conversation and at
  // most a page of entries from each (for a prefix alone: its entries there).
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
