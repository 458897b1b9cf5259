#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "model.hpp"

namespace tchat::messaging {

struct ConversationPage {
  std::vector<Conversation> conversations;
  std::optional<std::string> next_cursor;
};

struct RemoveOutcome {
  std::string removed_role;
  std::optional<std::string> new_owner;  // when the owner left
  std::vector<std::string> remaining;    // members after the change
};

// What forgetting a deleted user changed (msg_forget_user, migration 000009).
struct ForgetOutcome {
  bool already_done = false;  // the event was processed before: nothing changed
  int conversations = 0;      // conversations the user was taken out of
  std::int64_t messages = 0;  // their messages tombstoned or stripped of text
  int media = 0;              // their uploads deleted
};

struct ReadOutcome {
  std::int64_t last_read_seq = 0;
  bool changed = false;
};

// Conversations, members, read state and blocks in PostgreSQL (they would stay
// there if messages moved to a ScyllaDB store). Every change stamps conversations.change_xid so
// that sync sees it, and writes its event to the outbox in the same transaction.
// Permission rules are the caller's (MessagingService); this class only stores.
// Bound to one worker's pg::Pool; not thread-safe.
class ConversationStore {
 public:
  explicit ConversationStore(pg::Pool& pool) : pool_(pool) {}

  // The conversation's type and the user's role in it (empty role: not a member).
  // kNotFound when the conversation does not exist.
  Task<Result<Access>> GetAccess(std::string_view conversation_id, std::string_view user_id);

  // The direct conversation of the pair, created with `new_id` when there is none.
  // Returns (id, created).
  Task<Result<std::pair<std::string, bool>>> FindOrCreateDirect(std::string_view new_id,
                                                                std::string_view user_id,
                                                                std::string_view peer_id,
                                                                std::string_view event_id);

  // A group owned by `creator_id` with the other `member_ids` as members.
  Task<Status> CreateGroup(std::string_view id, std::string_view creator_id, std::string_view title,
                           const std::vector<std::string>& member_ids, std::string_view event_id);

  // The conversation as `viewer_id` sees it; kNotFound when it does not exist or the
  // viewer is not a member.
  Task<Result<Conversation>> Load(std::string_view conversation_id, std::string_view viewer_id);

  // The viewer's conversations, most recent activity first. `cursor` is an earlier
  // answer's next_cursor; kInvalidArgument when malformed.
  Task<Result<ConversationPage>> List(std::string_view viewer_id, int limit,
                                      std::string_view cursor);

  Task<Status> UpdateTitle(std::string_view conversation_id, std::string_view title);

  // Adds the users that are not members yet (role member); kUnprocessable
  // "too_many_members" beyond `max_members`. Returns the ids actually added.
  Task<Result<std::vector<std::string>>> AddMembers(std::string_view conversation_id,
                                                    std::string_view actor_id,
                                                    const std::vector<std::string>& user_ids,
                                                    std::size_t max_members,
                                                    std::string_view event_id);

  // Removes a member (kNotFound when not a member). When the owner goes, the
  // longest-standing admin (else member) becomes owner.
  Task<Result<RemoveOutcome>> RemoveMember(std::string_view conversation_id,
                                           std::string_view user_id, std::string_view actor_id,
                                           std::string_view event_id);

  // kNotFound when `user_id` is not a member.
  Task<Status> SetRole(std::string_view conversation_id, std::string_view user_id,
                       std::string_view role);

  // Moves the member's read marker forward to min(seq, last_seq); never backwards.
  Task<Result<ReadOutcome>> MarkRead(std::string_view conversation_id, std::string_view user_id,
                                     std::int64_t seq);

  Task<Status> Block(std::string_view blocker_id, std::string_view blocked_id);
  Task<Status> Unblock(std::string_view blocker_id, std::string_view blocked_id);
  Task<Result<std::vector<std::string>>> Blocked(std::string_view blocker_id);
  // The users among `user_ids` who blocked `user_id`.
  Task<Result<std::vector<std::string>>> BlockedBy(std::string_view user_id,
                                                   const std::vector<std::string>& user_ids);
  // The users among `user_ids` whose presence `viewer_id` may see: the viewer, and
  // those who share a conversation with the viewer and did not block them.
  Task<Result<std::vector<std::string>>> PresenceVisible(std::string_view viewer_id,
                                                         const std::vector<std::string>& user_ids);

  // Ids of the user's conversations (at most `limit`), for real-time subscriptions.
  Task<Result<std::vector<std::string>>> ConversationIds(std::string_view user_id,
                                                         int limit = 10000);
  Task<Result<std::vector<std::string>>> MemberIds(std::string_view conversation_id);

  // Account deletion (auth.user.deleted `event_id`): anonymises the user's
  // messages, takes them out of every conversation, drops their blocks, search
  // terms and uploads no message carries, in one transaction recorded under the
  // event id (a second call with it changes nothing). The rule is the
  // migration's (000009_forget_user.up.sql); then the user's avatar row
  // (000012_avatars) goes, on every call.
  Task<Result<ForgetOutcome>> ForgetUser(std::string_view user_id, std::string_view event_id);

 private:
  pg::Pool& pool_;
};

// "<smaller id>:<larger id>": the unique key of a direct conversation.
std::string DirectKey(std::string_view a, std::string_view b);

}  // namespace tchat::messaging
