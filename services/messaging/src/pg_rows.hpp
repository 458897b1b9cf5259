#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/pg/connection.hpp>
#include <tchat/core/pg/result.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"

// Shared by the PostgreSQL stores: column lists, row decoding and the loading of
// conversation objects (members, last message, unread count) for a set of ids.
namespace tchat::messaging::pgrows {

// The columns ReadMessage expects, for a query over `messages m`.
#define TCHAT_MSG_COLUMNS                                                                  \
  "m.conversation_id, m.seq, m.id, m.sender_id, m.type, m.body, m.client_msg_id, "         \
  "m.reply_to_seq, m.attachment, m.payment, m.meta, m.reactions, tchat_ms(m.created_at), " \
  "tchat_ms(m.edited_at), m.deleted"
inline constexpr int kMessageColumnCount = 15;

// Decodes TCHAT_MSG_COLUMNS starting at column `col`.
Message ReadMessage(const pg::PgResult& r, int row, int col = 0);

// A jsonb column as an object (empty object when NULL or not an object).
json::object ReadJsonObject(const pg::PgResult& r, int row, int col);

// The columns ReadConversationRow expects, over `conversations c JOIN members me`
// (me: the viewer's membership).
#define TCHAT_CONV_COLUMNS                                                              \
  "c.id, c.type, c.title, c.last_seq, tchat_ms(c.created_at), tchat_ms(c.updated_at), " \
  "me.last_read_seq"
inline constexpr int kConversationColumnCount = 7;
// The same columns from msg_user_conversations(user) AS c (migration 000008).
#define TCHAT_USER_CONV_COLUMNS                                                         \
  "c.id, c.type, c.title, c.last_seq, tchat_ms(c.created_at), tchat_ms(c.updated_at), " \
  "c.last_read_seq"

struct ConversationRow {
  Conversation conversation;
  std::int64_t viewer_last_read_seq = 0;
};
ConversationRow ReadConversationRow(const pg::PgResult& r, int row, int col = 0);

// Which members a conversation object carries (docs/api/openapi.yaml, Conversation):
// all of them, or on a list page both of a direct conversation's and only the
// viewer's own membership of a group, so that a page's cost does not grow with
// the size of its groups. member_count counts them all either way.
enum class MemberDetail { kAll, kListPage };

// Fills members, member_count, last_message and unread_count (messages after the
// viewer's last_read_seq that others sent, counted up to kUnreadCap) for every
// row, in one round trip. Works inside or outside a transaction.
inline constexpr std::int64_t kUnreadCap = 1000;
Task<Result<std::vector<Conversation>>> LoadConversations(pg::Connection& conn,
                                                          std::string_view viewer_id,
                                                          std::vector<ConversationRow> rows,
                                                          MemberDetail detail = MemberDetail::kAll);

}  // namespace tchat::messaging::pgrows
