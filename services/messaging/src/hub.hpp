#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/redis/subscriber.hpp>
#include <tchat/core/task.hpp>

#include "ws_session.hpp"

namespace tchat::messaging {

// Real-time fan-out for one worker: the WebSocket sessions open on this worker and
// the Redis pub/sub traffic that feeds them, so that an event published by any
// worker of any replica reaches every connection of every member exactly once.
//
// Channels (sharded by conversation and by user, so no channel sees everything):
//   <prefix>c:<conversation id>  events of a conversation; a worker subscribes to the
//                                conversations of the users connected to it
//   <prefix>u:<user id>          events for one user (membership changes), subscribed
//                                while the user has a session on this worker
// Every event is published to exactly one channel and names its recipients (the
// members at commit time), so a removed member stops receiving at once even if this
// worker still listens to the conversation, and no connection gets an event twice.
//
// Payload: "<kind>|<conversation>|<excluded session>|<excluded user>|<user,user,...>\n"
// followed by the event JSON, which is forwarded verbatim. Kinds: m (to the listed
// members), a (to every local member of the conversation but the listed users:
// presence, which is not shown to those the user blocked), j / l (the
// listed user joined / left the conversation: subscribe or unsubscribe, then
// deliver).
//
// After Redis comes back the subscriber re-subscribes by itself and the hub sends
// {"type":"sync.required"} to every local session: events published meanwhile are
// lost, and GET /v1/sync fills the gap.
//
// Bound to the worker's executor; not thread-safe.
class Hub {
 public:
  struct Options {
    std::string prefix = "tchat:rt:";
  };

  Hub(boost::asio::any_io_executor ex, redis::RedisClient& redis,
      redis::RedisOptions subscriber_options, Options options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void Start();
  void Stop();

  // Registers a session of a user who is a member of `conversations` and returns
  // once the user's channels are subscribed (or remembered for when Redis is back).
  // True when it is the user's first session on this worker.
  Task<bool> Attach(std::shared_ptr<WsSession> session, std::vector<std::string> conversations);
  // Unregisters; returns the user's conversations when it was their last session
  // on this worker (nullopt otherwise).
  std::optional<std::vector<std::string>> Detach(const std::shared_ptr<WsSession>& session);

  // The sessions open on this worker (all, or one user's), for checks of their
  // credentials. `fn` may close sessions but not attach or detach them.
  void ForEachSession(const std::function<void(const std::shared_ptr<WsSession>&)>& fn) const;
  void ForEachSessionOf(std::string_view user_id,
                        const std::function<void(const std::shared_ptr<WsSession>&)>& fn) const;

  // Publishing. Queued in call order and sent in pipelined batches; a failure
  // (Redis down) loses the events, which sync recovers.
  void ToMembers(std::string_view conversation_id, const std::vector<std::string>& recipients,
                 std::string_view exclude_session, std::string event);
  // To every local member but `exclude_user` and the users in `hidden_from`.
  void ToLocalMembers(std::string_view conversation_id, std::string_view exclude_user,
                      std::string event, const std::vector<std::string>& hidden_from = {});
  void Joined(std::string_view user_id, std::string_view conversation_id, std::string event);
  void Left(std::string_view user_id, std::string_view conversation_id, std::string event);

  bool connected() const;

  // Exposed for tests: splits a payload into its header fields and the event.
  struct Parsed {
    char kind = 0;
    std::string_view conversation, exclude_session, exclude_user, users, event;
  };
  static std::optional<Parsed> Parse(std::string_view payload);
  static std::string Encode(char kind, std::string_view conversation,
                            std::string_view exclude_session, std::string_view exclude_user,
                            const std::vector<std::string>& users, std::string_view event);
  // Several payloads of one channel as one: 'B', then per payload its length in
  // decimal, ':' and the payload. A commit publishes its messages grouped by
  // conversation, so one PUBLISH (and one push to each subscriber) carries a
  // run of them instead of one each.
  static std::string EncodeRun(const std::vector<std::string>& payloads);
  // The payloads of a run in order, or nullopt when `payload` is not a
  // well-formed run.
  static std::optional<std::vector<std::string_view>> SplitRun(std::string_view payload);

 private:
  struct LocalUser {
    std::vector<std::shared_ptr<WsSession>> sessions;
    std::vector<std::string> conversations;
    // Set once the user's channels are subscribed; later sessions wait for it.
    std::shared_ptr<AsyncEvent> subscribed;
  };

  void OnMessage(std::string_view channel, std::string_view payload);
  void OnPayload(std::string_view channel, std::string_view payload);
  void OnReconnect();
  void DeliverToUser(std::string_view user_id, std::string_view exclude_session, Frame& frame,
                     std::string_view event);
  // Local membership bookkeeping; true when the conversation channel must be
  // (un)subscribed.
  bool AddLocalMember(const std::string& conversation_id, const std::string& user_id);
  bool RemoveLocalMember(const std::string& conversation_id, const std::string& user_id);
  Task<void> JoinThenDeliver(std::string user_id, std::string conversation_id, std::string event);
  void Subscribe(std::string channel);
  void Unsubscribe(std::string channel);
  Task<void> SubscribeAndWait(std::vector<std::string> channels);
  void Publish(std::string channel, std::string payload);
  Task<void> Flush();

  std::string ConversationChannel(std::string_view id) const;
  std::string UserChannel(std::string_view id) const;

  boost::asio::any_io_executor ex_;
  redis::RedisClient& redis_;
  Options options_;
  std::unique_ptr<redis::RedisSubscriber> subscriber_;
  // Heterogeneous lookup: fan-out finds users by string_view without allocating.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
  StringMap<LocalUser> users_;
  // conversation -> its members that have a session on this worker
  StringMap<std::vector<std::string>> conversations_;
  std::vector<std::pair<std::string, std::string>> pending_;  // channel, payload
  bool publishing_ = false;
  bool stopped_ = false;
};

}  // namespace tchat::messaging
