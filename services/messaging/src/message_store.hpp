#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"

namespace tchat::messaging {

// One message to append. `id` and `event_id` are made by the caller (UUIDv7) so
// that a retried batch keeps its ids.
struct AppendRequest {
  std::string id;
  std::string event_id;  // of the message.created event written with it
  std::string conversation_id;
  std::string sender_id;
  std::string type;
  std::string body;
  std::optional<std::string> client_msg_id;
  std::optional<std::int64_t> reply_to_seq;
  std::optional<json::object> attachment;
  std::optional<json::object> payment;
  std::optional<json::object> system;
  bool server_posted = false;  // payment/system: no membership or block check
};

enum class AppendStatus { kOk, kDuplicate, kNotFound, kNotMember, kBlocked, kBadReply };

// The answer for one AppendRequest. For kOk and kDuplicate, `message` is the stored
// message and `recipients` every member of the conversation at commit time.
struct AppendOutcome {
  AppendStatus status = AppendStatus::kNotFound;
  Message message;
  std::vector<std::string> recipients;
};

struct HistoryQuery {
  std::optional<std::int64_t> before_seq;  // exclusive
  std::optional<std::int64_t> after_seq;   // exclusive
  int limit = 50;
};

// Ascending by seq. has_more: older messages exist before the page (when paging
// backwards, the default) or newer ones after it (with after_seq).
struct HistoryPage {
  std::vector<Message> messages;
  bool has_more = false;
};

// A message after a change, with the members to tell.
struct MessageChange {
  Message message;
  std::vector<std::string> recipients;
  bool changed = true;  // false when the request changed nothing (idempotent repeats)
};

// One changed conversation in a sync answer: the conversation as the user sees it
// now and its messages created or changed since the token (ascending by seq, at
// most the limit; has_more asks the client to page the rest with history
// after_seq from the last one returned).
struct SyncConversation {
  Conversation conversation;
  std::vector<Message> messages;
  bool has_more = false;
};

struct SyncResult {
  std::vector<SyncConversation> conversations;
  std::vector<std::string> removed_conversation_ids;  // left or removed since the token
  std::string token;                                  // for the next sync
  bool full = false;  // no (valid) token was given: a complete list, without messages
};

// The message store: where messages live and how their per-conversation seq is
// assigned. PostgreSQL's is the only implementation; a ScyllaDB one (schema in
// migrations/scylla) would implement the same contract. Until it exists, every
// service refuses to start when SCYLLA_HOSTS is set. Implementations are bound to
// one worker thread (they use that worker's clients) and are not thread-safe.
//
// Contract of every implementation:
//  - Append appends a whole batch durably before it answers (one commit for the
//    batch is allowed and expected), assigns seq = previous last + 1 per
//    conversation in batch order, and answers kDuplicate with the original for a
//    (conversation, sender, client_msg_id) it has seen. Nothing of a failed call
//    may be visible, so that the caller can retry the whole batch.
//  - Errors are values: kNotFound for an unknown message, kPermissionDenied when
//    the actor may not make the change, kUnprocessable with a domain code
//    ("message_deleted", "not_editable") when the message's state forbids it,
//    kUnavailable when the database is unreachable.
class MessageStore {
 public:
  virtual ~MessageStore() = default;

  virtual Task<Result<std::vector<AppendOutcome>>> Append(std::vector<AppendRequest> batch) = 0;

  virtual Task<Result<HistoryPage>> History(std::string_view conversation_id,
                                            HistoryQuery query) = 0;

  // New body (text, or the caption of an image/file) by the sender.
  virtual Task<Result<MessageChange>> Edit(std::string_view conversation_id, std::int64_t seq,
                                           std::string_view editor_id, std::string_view body,
                                           std::string_view event_id) = 0;

  // Leaves a tombstone. `actor_is_admin` lets group admins delete others' messages.
  // Deleting a deleted message is not an error (changed = false).
  virtual Task<Result<MessageChange>> Delete(std::string_view conversation_id, std::int64_t seq,
                                             std::string_view actor_id, bool actor_is_admin,
                                             std::string_view event_id) = 0;

  // Adds or removes `user_id`'s `emoji` reaction; repeating is not an error.
  virtual Task<Result<MessageChange>> React(std::string_view conversation_id, std::int64_t seq,
                                            std::string_view user_id, std::string_view emoji,
                                            bool add) = 0;

  // What changed for `user_id` since `token` (empty: everything, full = true).
  // kInvalidArgument for a token this store did not issue.
  virtual Task<Result<SyncResult>> Sync(std::string_view user_id, std::string_view token,
                                        int message_limit) = 0;
};

}  // namespace tchat::messaging
