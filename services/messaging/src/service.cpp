#include "service.hpp"

#include <algorithm>

#include <tchat/core/log.hpp>
#include <tchat/core/uuid.hpp>

#include "hub.hpp"
#include "media_service.hpp"
#include "model_json.hpp"
#include "pg_message_store.hpp"
#include "send_batcher.hpp"

namespace tchat::messaging {

namespace {

constexpr std::size_t kMemberCacheMax = 10000;

std::optional<std::string> ConversationId(std::string_view id) {
  return CanonicalUuid(id);
}

Error NotFoundConversation() {
  return Error::NotFound("conversation not found");
}

Error NotMember() {
  return Error::PermissionDenied("not a member of this conversation");
}

AppendRequest MakeRequest(const std::string& user_id, const std::string& conversation_id,
                          MessageInput in) {
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = conversation_id;
  r.sender_id = user_id;
  r.type = std::move(in.type);
  r.body = std::move(in.body);
  r.client_msg_id = std::move(in.client_msg_id);
  r.reply_to_seq = in.reply_to_seq;
  r.attachment = std::move(in.attachment);
  return r;
}

json::array Ids(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}

}  // namespace

Result<SendResult> OutcomeToResult(Result<AppendOutcome> outcome) {
  if (!outcome) {
    // The attachment trigger's refusal (migration 000011): the media went, or
    // the sender stopped seeing it (left the conversation it was forwarded
    // from, its message deleted) after ResolveAttachment's check.
    const Error& e = outcome.error();
    if ((e.sqlstate == "42501" || e.sqlstate == "23503") &&
        e.message.find("media ") != std::string::npos) {
      return AttachmentNotFound();
    }
    return std::move(outcome).error();
  }
  AppendOutcome& o = *outcome;
  switch (o.status) {
    case AppendStatus::kOk:
      return SendResult{std::move(o.message), false};
    case AppendStatus::kDuplicate:
      return SendResult{std::move(o.message), true};
    case AppendStatus::kNotFound:
      return NotFoundConversation();
    case AppendStatus::kNotMember:
      return NotMember();
    case AppendStatus::kBlocked:
      return Error::PermissionDenied("you cannot message this user");
    case AppendStatus::kBadReply:
      return Error::InvalidArgument("reply_to_seq does not name a message of this conversation");
  }
  return Error::Internal("unknown append status");
}

MessagingService::MessagingService(ConversationStore& conversations, MessageStore& messages,
                                   SendBatcher& batcher, Hub& hub, Presence& presence,
                                   UserLimits& limits, ServiceOptions options)
    : conversations_(conversations),
      messages_(messages),
      batcher_(batcher),
      hub_(hub),
      presence_(presence),
      limits_(limits),
      options_(options) {}

Task<Status> MessagingService::RefuseBlockers(const std::string& user_id,
                                              const std::vector<std::string>& user_ids) {
  auto blockers = co_await conversations_.BlockedBy(user_id, user_ids);
  if (!blockers) co_return std::move(blockers).error();
  if (!blockers->empty()) {
    co_return Error::PermissionDenied("a user you named does not accept you in their groups");
  }
  co_return Ok();
}

Task<Result<Access>> MessagingService::RequireMember(std::string_view conversation_id,
                                                     const std::string& user_id) {
  auto access = co_await conversations_.GetAccess(conversation_id, user_id);
  if (!access) co_return std::move(access).error();
  if (!access->is_member()) co_return NotMember();
  co_return std::move(*access);
}

Task<Result<std::vector<std::string>>> MessagingService::CachedMembers(
    const std::string& conversation_id) {
  const auto now = std::chrono::steady_clock::now();
  if (auto it = member_cache_.find(conversation_id);
      it != member_cache_.end() && it->second.expires > now) {
    co_return it->second.members;
  }
  auto members = co_await conversations_.MemberIds(conversation_id);
  if (!members) co_return std::move(members).error();
  if (member_cache_.size() >= kMemberCacheMax) member_cache_.clear();
  member_cache_[conversation_id] = CachedMemberList{*members, now + options_.member_cache_ttl};
  co_return std::move(*members);
}

Task<void> MessagingService::Announce(const std::string& conversation_id,
                                      const std::string& viewer_id,
                                      const std::vector<std::string>& recipients,
                                      const std::vector<std::string>& joined,
                                      const std::vector<std::string>& left) {
  ForgetMembers(conversation_id);
  for (const std::string& u : left) {
    hub_.Left(u, conversation_id, ConversationRemovedEvent(conversation_id));
  }
  if (recipients.empty() && joined.empty()) co_return;
  auto conv = co_await conversations_.Load(conversation_id, viewer_id);
  if (!conv) {
    log::Warn("conversation event not sent",
              {{"conversation_id", conversation_id}, {"error", conv.error().message}});
    co_return;
  }
  conv->unread_count = 0;  // relative to a viewer; events are shared by every member
  std::string event = ConversationEvent(*conv);
  std::vector<std::string> others;
  for (const std::string& r : recipients) {
    if (std::find(joined.begin(), joined.end(), r) == joined.end()) others.push_back(r);
  }
  hub_.ToMembers(conversation_id, others, {}, event);
  for (const std::string& u : joined) hub_.Joined(u, conversation_id, event);
}

void MessagingService::PostSystem(const std::string& conversation_id, const std::string& actor_id,
                                  json::object meta) {
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = conversation_id;
  r.sender_id = actor_id;
  r.type = "system";
  r.system = std::move(meta);
  r.server_posted = true;
  batcher_.Submit(std::move(r), {}, [conversation_id](Result<AppendOutcome> o) {
    if (!o) {
      log::Warn("system message not posted",
                {{"conversation_id", conversation_id}, {"error", o.error().message}});
    }
  });
}

Task<Result<std::pair<Conversation, bool>>> MessagingService::CreateDirect(
    const std::string& user_id, const std::string& peer_id) {
  PinWrites pin{reads_, user_id};
  if (peer_id == user_id) {
    co_return Error::InvalidArgument("a direct conversation needs another user");
  }
  const std::string new_id = NewUuidV7();
  auto made = co_await conversations_.FindOrCreateDirect(new_id, user_id, peer_id, NewUuidV7());
  if (!made) co_return std::move(made).error();
  auto conv = co_await conversations_.Load(made->first, user_id);
  if (!conv) co_return std::move(conv).error();
  if (made->second) {
    std::vector<std::string> joined{user_id, peer_id};
    co_await Announce(conv->id, user_id, {}, joined, {});
  }
  co_return std::make_pair(std::move(*conv), made->second);
}

Task<Result<Conversation>> MessagingService::CreateGroup(
    const std::string& user_id, const std::string& title,
    const std::vector<std::string>& member_ids) {
  PinWrites pin{reads_, user_id};
  std::vector<std::string> members;
  for (const auto& m : member_ids) {
    if (m != user_id) members.push_back(m);
  }
  if (members.size() + 1 > options_.max_group_members) {
    co_return Error::Unprocessable(
        "too_many_members",
        "a group has at most " + std::to_string(options_.max_group_members) + " members");
  }
  if (Status st = co_await limits_.Admit(UserLimits::Kind::kGroup, user_id); !st) {
    co_return std::move(st).error();
  }
  if (Status st = co_await RefuseBlockers(user_id, members); !st) co_return std::move(st).error();
  const std::string id = NewUuidV7();
  auto st = co_await conversations_.CreateGroup(id, user_id, title, members, NewUuidV7());
  if (!st) co_return std::move(st).error();
  auto conv = co_await conversations_.Load(id, user_id);
  if (!conv) co_return std::move(conv).error();
  std::vector<std::string> joined{user_id};
  joined.insert(joined.end(), members.begin(), members.end());
  co_await Announce(id, user_id, {}, joined, {});
  co_return std::move(*conv);
}

Task<Result<ConversationPage>> MessagingService::List(const std::string& user_id, int limit,
                                                      std::string_view cursor) {
  // The first page is what a client shows after a live event: from the primary.
  // Later pages (a cursor) may come from the replica (docs/operations/read-replica.md).
  if (!reads_ || cursor.empty()) co_return co_await conversations_.List(user_id, limit, cursor);
  co_return co_await reads_->Read(
      [&](pg::Pool& pool) -> Task<Result<ConversationPage>> {
        ConversationStore store(pool);
        co_return co_await store.List(user_id, limit, cursor);
      },
      user_id);
}

Task<Result<Conversation>> MessagingService::Get(const std::string& user_id,
                                                 std::string_view conversation_id) {
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  co_return co_await conversations_.Load(*id, user_id);
}

Task<Result<Conversation>> MessagingService::UpdateTitle(const std::string& user_id,
                                                         std::string_view conversation_id,
                                                         const std::string& title) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  if (access->type != "group") {
    co_return Error::Unprocessable("not_a_group", "direct conversations have no title");
  }
  if (!access->is_admin()) {
    co_return Error::PermissionDenied("only group admins can change the title");
  }
  auto st = co_await conversations_.UpdateTitle(*id, title);
  if (!st) co_return std::move(st).error();
  auto members = co_await conversations_.MemberIds(*id);
  if (members) co_await Announce(*id, user_id, *members, {}, {});
  PostSystem(*id, user_id, json::object{{"action", "title_changed"}, {"title", title}});
  co_return co_await conversations_.Load(*id, user_id);
}

Task<Result<Conversation>> MessagingService::AddMembers(const std::string& user_id,
                                                        std::string_view conversation_id,
                                                        const std::vector<std::string>& user_ids) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  if (access->type != "group") {
    co_return Error::Unprocessable("not_a_group",
                                   "members cannot be added to a direct conversation");
  }
  if (!access->is_admin()) co_return Error::PermissionDenied("only group admins can add members");
  if (Status st = co_await RefuseBlockers(user_id, user_ids); !st) co_return std::move(st).error();
  auto added = co_await conversations_.AddMembers(*id, user_id, user_ids,
                                                  options_.max_group_members, NewUuidV7());
  if (!added) co_return std::move(added).error();
  if (!added->empty()) {
    auto members = co_await conversations_.MemberIds(*id);
    if (members) co_await Announce(*id, user_id, *members, *added, {});
    PostSystem(*id, user_id, json::object{{"action", "members_added"}, {"user_ids", Ids(*added)}});
  }
  co_return co_await conversations_.Load(*id, user_id);
}

Task<Status> MessagingService::RemoveMember(const std::string& user_id,
                                            std::string_view conversation_id,
                                            std::string_view member_id) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto target = CanonicalUuid(member_id);
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  if (!target) co_return Error::NotFound("not a member of this conversation");
  if (access->type != "group") {
    co_return Error::Unprocessable("not_a_group", "nobody can leave a direct conversation");
  }
  const bool self = *target == user_id;
  if (!self) {
    if (!access->is_admin()) {
      co_return Error::PermissionDenied("only group admins can remove members");
    }
    auto target_access = co_await conversations_.GetAccess(*id, *target);
    if (!target_access) co_return std::move(target_access).error();
    if (!target_access->is_member()) co_return Error::NotFound("not a member of this conversation");
    if (target_access->role == "owner" ||
        (target_access->role == "admin" && access->role != "owner")) {
      co_return Error::PermissionDenied("only the owner can remove admins");
    }
  }
  auto removed = co_await conversations_.RemoveMember(*id, *target, user_id, NewUuidV7());
  if (!removed) co_return std::move(removed).error();
  const std::vector<std::string> left{*target};
  if (!removed->remaining.empty()) {
    const std::string viewer = self ? removed->remaining.front() : user_id;
    co_await Announce(*id, viewer, removed->remaining, {}, left);
    PostSystem(
        *id, user_id,
        json::object{{"action", self ? "member_left" : "member_removed"}, {"user_id", *target}});
  } else {
    co_await Announce(*id, user_id, {}, {}, left);
  }
  co_return Ok();
}

Task<Result<Conversation>> MessagingService::SetRole(const std::string& user_id,
                                                     std::string_view conversation_id,
                                                     std::string_view member_id,
                                                     std::string_view role) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  if (access->type != "group") {
    co_return Error::Unprocessable("not_a_group", "direct conversations have no roles");
  }
  if (access->role != "owner") co_return Error::PermissionDenied("only the owner can change roles");
  if (role != "admin" && role != "member") {
    co_return Error::InvalidArgument("role must be admin or member");
  }
  auto target = CanonicalUuid(member_id);
  if (!target) co_return Error::NotFound("not a member of this conversation");
  if (*target == user_id) co_return Error::InvalidArgument("the owner's role cannot change");
  auto st = co_await conversations_.SetRole(*id, *target, role);
  if (!st) co_return std::move(st).error();
  auto members = co_await conversations_.MemberIds(*id);
  if (members) co_await Announce(*id, user_id, *members, {}, {});
  co_return co_await conversations_.Load(*id, user_id);
}

Task<Result<SendResult>> MessagingService::Send(const std::string& user_id,
                                                std::string_view conversation_id,
                                                MessageInput input, std::string origin_session) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  if (Status st = co_await AdmitMessage(user_id); !st) co_return std::move(st).error();
  co_return OutcomeToResult(co_await batcher_.Send(MakeRequest(user_id, *id, std::move(input)),
                                                   std::move(origin_session)));
}

void MessagingService::SubmitSend(const std::string& user_id, std::string_view conversation_id,
                                  MessageInput input, std::string origin_session,
                                  std::function<void(Result<SendResult>)> done) {
  auto id = ConversationId(conversation_id);
  if (!id) {
    done(NotFoundConversation());
    return;
  }
  std::shared_ptr<pg::ReplicaState> pins = reads_ ? reads_->state() : nullptr;
  batcher_.Submit(MakeRequest(user_id, *id, std::move(input)), std::move(origin_session),
                  [done = std::move(done), pins, user = user_id](Result<AppendOutcome> o) {
                    if (pins) pins->Pin(user);  // once committed (or failed)
                    done(OutcomeToResult(std::move(o)));
                  });
}

Task<Status> MessagingService::AdmitMessage(const std::string& user_id) {
  co_return co_await limits_.Admit(UserLimits::Kind::kMessage, user_id);
}

Task<Result<HistoryPage>> MessagingService::History(const std::string& user_id,
                                                    std::string_view conversation_id,
                                                    HistoryQuery query) {
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  // Membership is checked on the primary. The newest page (no before_seq) and
  // catch-up reads (after_seq) answer live events: from the primary. Older pages may
  // come from the replica (docs/operations/read-replica.md): seqs of a conversation
  // have no gaps, so a page that does not end at before_seq - 1 may be missing what
  // the replica has not replayed yet, and is read again on the primary.
  if (!reads_ || !query.before_seq || query.after_seq) {
    co_return co_await messages_.History(*id, query);
  }
  auto page = co_await reads_->Read(
      [&](pg::Pool& pool) -> Task<Result<HistoryPage>> {
        PgMessageStore store(pool);
        co_return co_await store.History(*id, query);
      },
      user_id);
  if (page && !page->messages.empty() && page->messages.back().seq == *query.before_seq - 1) {
    co_return page;
  }
  co_return co_await messages_.History(*id, query);
}

Task<Result<Message>> MessagingService::Edit(const std::string& user_id,
                                             std::string_view conversation_id, std::int64_t seq,
                                             const std::string& body) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  auto change = co_await messages_.Edit(*id, seq, user_id, body, NewUuidV7());
  if (!change) co_return std::move(change).error();
  hub_.ToMembers(*id, change->recipients, {}, MessageEvent("message.updated", change->message));
  co_return std::move(change->message);
}

Task<Result<Message>> MessagingService::Delete(const std::string& user_id,
                                               std::string_view conversation_id, std::int64_t seq) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  const bool admin = access->type == "group" && access->is_admin();
  auto change = co_await messages_.Delete(*id, seq, user_id, admin, NewUuidV7());
  if (!change) co_return std::move(change).error();
  if (change->changed) {
    hub_.ToMembers(*id, change->recipients, {}, MessageEvent("message.deleted", change->message));
  }
  co_return std::move(change->message);
}

Task<Result<Message>> MessagingService::React(const std::string& user_id,
                                              std::string_view conversation_id, std::int64_t seq,
                                              const std::string& emoji, bool add) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  auto change = co_await messages_.React(*id, seq, user_id, emoji, add);
  if (!change) co_return std::move(change).error();
  if (change->changed) {
    hub_.ToMembers(*id, change->recipients, {},
                   ReactionEvent(change->message, user_id, emoji, add));
  }
  co_return std::move(change->message);
}

Task<Status> MessagingService::MarkRead(const std::string& user_id,
                                        std::string_view conversation_id, std::int64_t seq) {
  PinWrites pin{reads_, user_id};
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  auto access = co_await RequireMember(*id, user_id);
  if (!access) co_return std::move(access).error();
  auto read = co_await conversations_.MarkRead(*id, user_id, seq);
  if (!read) co_return std::move(read).error();
  if (read->changed) {
    auto members = co_await CachedMembers(*id);
    if (members) hub_.ToMembers(*id, *members, {}, ReadEvent(*id, user_id, read->last_read_seq));
  }
  co_return Ok();
}

Task<Status> MessagingService::Typing(const std::string& user_id,
                                      std::string_view conversation_id) {
  auto id = ConversationId(conversation_id);
  if (!id) co_return NotFoundConversation();
  if (Status st = co_await limits_.Admit(UserLimits::Kind::kTyping, user_id); !st) co_return st;
  auto members = co_await CachedMembers(*id);
  if (!members) co_return std::move(members).error();
  if (std::find(members->begin(), members->end(), user_id) == members->end()) {
    // Not (or no longer) a member, or no such conversation: ask the database.
    ForgetMembers(*id);
    auto access = co_await RequireMember(*id, user_id);
    if (!access) co_return std::move(access).error();
    members = co_await CachedMembers(*id);
    if (!members) co_return std::move(members).error();
  }
  std::vector<std::string> others;
  others.reserve(members->size());
  for (const auto& m : *members) {
    if (m != user_id) others.push_back(m);
  }
  hub_.ToMembers(*id, others, {}, TypingEvent(*id, user_id));
  co_return Ok();
}

Task<Result<SyncResult>> MessagingService::Sync(const std::string& user_id,
                                                std::string_view token) {
  co_return co_await messages_.Sync(user_id, token, options_.sync_message_limit);
}

Task<Result<std::vector<PresenceInfo>>> MessagingService::GetPresence(
    const std::string& viewer_id, const std::vector<std::string>& user_ids) {
  auto visible = co_await conversations_.PresenceVisible(viewer_id, user_ids);
  if (!visible) co_return std::move(visible).error();
  auto known = co_await presence_.Query(*visible);
  if (!known) co_return std::move(known).error();
  // In the order asked; the hidden ones as never seen.
  std::vector<PresenceInfo> out;
  out.reserve(user_ids.size());
  for (const std::string& u : user_ids) {
    auto it = std::find_if(known->begin(), known->end(),
                           [&](const PresenceInfo& p) { return p.user_id == u; });
    if (it != known->end()) {
      out.push_back(std::move(*it));
    } else {
      out.push_back(PresenceInfo{u, false, 0});
    }
  }
  co_return out;
}

Task<Status> MessagingService::Block(const std::string& user_id, const std::string& target_id) {
  if (user_id == target_id) co_return Error::InvalidArgument("you cannot block yourself");
  co_return co_await conversations_.Block(user_id, target_id);
}

Task<Status> MessagingService::Unblock(const std::string& user_id, const std::string& target_id) {
  co_return co_await conversations_.Unblock(user_id, target_id);
}

Task<Result<std::vector<std::string>>> MessagingService::Blocked(const std::string& user_id) {
  co_return co_await conversations_.Blocked(user_id);
}

}  // namespace tchat::messaging
