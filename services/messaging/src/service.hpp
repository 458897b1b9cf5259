#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tchat/core/pg/read_pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "conversation_store.hpp"
#include "message_store.hpp"
#include "presence.hpp"
#include "user_limits.hpp"
#include "validation.hpp"

namespace tchat::messaging {

class Hub;
class SendBatcher;

struct ServiceOptions {
  std::size_t max_group_members = 1000;
  int sync_message_limit = 200;
  std::chrono::milliseconds member_cache_ttl{1000};  // typing recipients
};

struct SendResult {
  Message message;
  bool duplicate = false;  // an earlier send with the same client_msg_id
};

// The messaging domain for one worker: permission rules, the calls into the stores
// and the real-time events that follow each change. HTTP handlers and the
// WebSocket handler both call it with the authenticated user's id (a canonical
// UUID) and validated input. Conversation ids that are not UUIDs are simply not
// found. Errors follow docs/api/openapi.yaml: not_found for unknown conversations or messages,
// permission_denied for non-members and missing rights.
//
// Bound to one worker; not thread-safe.
class MessagingService {
 public:
  MessagingService(ConversationStore& conversations, MessageStore& messages, SendBatcher& batcher,
                   Hub& hub, Presence& presence, UserLimits& limits, ServiceOptions options);

  Task<Result<std::pair<Conversation, bool>>> CreateDirect(const std::string& user_id,
                                                           const std::string& peer_id);
  Task<Result<Conversation>> CreateGroup(const std::string& user_id, const std::string& title,
                                         const std::vector<std::string>& member_ids);
  Task<Result<ConversationPage>> List(const std::string& user_id, int limit,
                                      std::string_view cursor);
  Task<Result<Conversation>> Get(const std::string& user_id, std::string_view conversation_id);
  Task<Result<Conversation>> UpdateTitle(const std::string& user_id,
                                         std::string_view conversation_id,
                                         const std::string& title);
  Task<Result<Conversation>> AddMembers(const std::string& user_id,
                                        std::string_view conversation_id,
                                        const std::vector<std::string>& user_ids);
  Task<Status> RemoveMember(const std::string& user_id, std::string_view conversation_id,
                            std::string_view member_id);
  Task<Result<Conversation>> SetRole(const std::string& user_id, std::string_view conversation_id,
                                     std::string_view member_id, std::string_view role);

  Task<Result<SendResult>> Send(const std::string& user_id, std::string_view conversation_id,
                                MessageInput input, std::string origin_session = {});
  // The same without waiting: `done` runs on this worker once the message is
  // committed (or failed). For the WebSocket reader, which calls AdmitMessage
  // first (Send does so itself).
  void SubmitSend(const std::string& user_id, std::string_view conversation_id, MessageInput input,
                  std::string origin_session, std::function<void(Result<SendResult>)> done);
  // The user's message rate limit: Ok, or kRateLimited with retry_after.
  Task<Status> AdmitMessage(const std::string& user_id);

  Task<Result<HistoryPage>> History(const std::string& user_id, std::string_view conversation_id,
                                    HistoryQuery query);
  Task<Result<Message>> Edit(const std::string& user_id, std::string_view conversation_id,
                             std::int64_t seq, const std::string& body);
  Task<Result<Message>> Delete(const std::string& user_id, std::string_view conversation_id,
                               std::int64_t seq);
  Task<Result<Message>> React(const std::string& user_id, std::string_view conversation_id,
                              std::int64_t seq, const std::string& emoji, bool add);
  Task<Status> MarkRead(const std::string& user_id, std::string_view conversation_id,
                        std::int64_t seq);
  Task<Status> Typing(const std::string& user_id, std::string_view conversation_id);

  Task<Result<SyncResult>> Sync(const std::string& user_id, std::string_view token);
  // Presence of `user_ids` as `viewer_id` may see it: users who share no
  // conversation with the viewer, or blocked them, come back offline and never
  // seen.
  Task<Result<std::vector<PresenceInfo>>> GetPresence(const std::string& viewer_id,
                                                      const std::vector<std::string>& user_ids);

  Task<Status> Block(const std::string& user_id, const std::string& target_id);
  Task<Status> Unblock(const std::string& user_id, const std::string& target_id);
  Task<Result<std::vector<std::string>>> Blocked(const std::string& user_id);

  ConversationStore& conversations() { return conversations_; }
  // History and the conversation list read through `reads` (possibly from a
  // replica); null: from the stores given to the constructor.
  void UseReads(pg::ReadPool* reads) { reads_ = reads; }

 private:
  // Pins the user's reads to the primary when destroyed, i.e. once the write of
  // the coroutine that holds it is over (read-after-write, pg::ReplicaState::Pin).
  struct PinWrites {
    pg::ReadPool* reads;
    const std::string& user_id;
    ~PinWrites() {
      if (reads) reads->state()->Pin(user_id);
    }
  };
  // The caller's access; kNotFound / kPermissionDenied otherwise.
  Task<Result<Access>> RequireMember(std::string_view conversation_id, const std::string& user_id);
  Task<Result<std::vector<std::string>>> CachedMembers(const std::string& conversation_id);
  void ForgetMembers(const std::string& conversation_id) { member_cache_.erase(conversation_id); }
  // kPermissionDenied when one of `user_ids` blocked `user_id`.
  Task<Status> RefuseBlockers(const std::string& user_id, const std::vector<std::string>& user_ids);
  // Sends conversation.updated to `recipients` (and joined/left to those users).
  Task<void> Announce(const std::string& conversation_id, const std::string& viewer_id,
                      const std::vector<std::string>& recipients,
                      const std::vector<std::string>& joined, const std::vector<std::string>& left);
  void PostSystem(const std::string& conversation_id, const std::string& actor_id,
                  json::object meta);

  ConversationStore& conversations_;
  MessageStore& messages_;
  pg::ReadPool* reads_ = nullptr;
  SendBatcher& batcher_;
  Hub& hub_;
  Presence& presence_;
  UserLimits& limits_;
  ServiceOptions options_;
  struct CachedMemberList {
    std::vector<std::string> members;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, CachedMemberList> member_cache_;
};

// Maps a stored outcome to the answer of a send (errors for the refusals).
Result<SendResult> OutcomeToResult(Result<AppendOutcome> outcome);

}  // namespace tchat::messaging
