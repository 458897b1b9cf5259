#include "hub.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/log.hpp>

#include "metrics.hpp"

namespace tchat::messaging {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxPublishBatch = 512;

// Calls fn(item) for each comma-separated item.
template <typename Fn>
void ForEachCsv(std::string_view csv, Fn&& fn) {
  while (!csv.empty()) {
    const auto comma = csv.find(',');
    fn(csv.substr(0, comma));
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
}

bool CsvContains(std::string_view csv, std::string_view item) {
  bool found = false;
  if (!csv.empty()) ForEachCsv(csv, [&](std::string_view x) { found = found || x == item; });
  return found;
}

}  // namespace

Hub::Hub(asio::any_io_executor ex, redis::RedisClient& redis,
         redis::RedisOptions subscriber_options, Options options)
    : ex_(std::move(ex)), redis_(redis), options_(std::move(options)) {
  subscriber_ = std::make_unique<redis::RedisSubscriber>(
      ex_, std::move(subscriber_options),
      [this](std::string_view channel, std::string_view payload) { OnMessage(channel, payload); },
      [this] { OnReconnect(); });
}

Hub::~Hub() {
  Stop();
}

void Hub::Start() {
  subscriber_->Start();
}

void Hub::Stop() {
  if (stopped_) return;
  stopped_ = true;
  subscriber_->Stop();
}

bool Hub::connected() const {
  return subscriber_->Connected();
}

std::string Hub::ConversationChannel(std::string_view id) const {
  std::string s;
  s.reserve(options_.prefix.size() + 2 + id.size());
  s += options_.prefix;
  s += "c:";
  s += id;
  return s;
}

std::string Hub::UserChannel(std::string_view id) const {
  std::string s;
  s.reserve(options_.prefix.size() + 2 + id.size());
  s += options_.prefix;
  s += "u:";
  s += id;
  return s;
}

std::string Hub::Encode(char kind, std::string_view conversation, std::string_view exclude_session,
                        std::string_view exclude_user, const std::vector<std::string>& users,
                        std::string_view event) {
  std::string p;
  p.reserve(8 + conversation.size() + exclude_session.size() + exclude_user.size() +
            users.size() * 37 + event.size());
  p += kind;
  p += '|';
  p += conversation;
  p += '|';
  p += exclude_session;
  p += '|';
  p += exclude_user;
  p += '|';
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i > 0) p += ',';
    p += users[i];
  }
  p += '\n';
  p += event;
  return p;
}

std::optional<Hub::Parsed> Hub::Parse(std::string_view payload) {
  const auto nl = payload.find('\n');
  if (nl == std::string_view::npos || nl < 2 || payload[1] != '|') return std::nullopt;
  Parsed p;
  p.kind = payload[0];
  p.event = payload.substr(nl + 1);
  std::string_view h = payload.substr(2, nl - 2);
  std::string_view* fields[] = {&p.conversation, &p.exclude_session, &p.exclude_user};
  for (std::string_view* f : fields) {
    const auto bar = h.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    *f = h.substr(0, bar);
    h.remove_prefix(bar + 1);
  }
  p.users = h;
  return p;
}

std::string Hub::EncodeRun(const std::vector<std::string>& payloads) {
  std::size_t size = 1;
  for (const std::string& p : payloads) size += p.size() + 12;
  std::string run;
  run.reserve(size);
  run += 'B';
  for (const std::string& p : payloads) {
    run += std::to_string(p.size());
    run += ':';
    run += p;
  }
  return run;
}

std::optional<std::vector<std::string_view>> Hub::SplitRun(std::string_view payload) {
  if (payload.empty() || payload[0] != 'B') return std::nullopt;
  payload.remove_prefix(1);
  std::vector<std::string_view> out;
  while (!payload.empty()) {
    std::size_t len = 0;
    std::size_t i = 0;
    for (; i < payload.size() && i < 10 && payload[i] >= '0' && payload[i] <= '9'; ++i) {
      len = len * 10 + static_cast<std::size_t>(payload[i] - '0');
    }
    if (i == 0 || i >= payload.size() || payload[i] != ':') return std::nullopt;
    payload.remove_prefix(i + 1);
    if (len > payload.size()) return std::nullopt;
    out.push_back(payload.substr(0, len));
    payload.remove_prefix(len);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// ---- local sessions ----

bool Hub::AddLocalMember(const std::string& conversation_id, const std::string& user_id) {
  auto& members = conversations_[conversation_id];
  const bool first = members.empty();
  if (std::find(members.begin(), members.end(), user_id) == members.end()) {
    members.push_back(user_id);
  }
  return first;
}

bool Hub::RemoveLocalMember(const std::string& conversation_id, const std::string& user_id) {
  auto it = conversations_.find(conversation_id);
  if (it == conversations_.end()) return false;
  std::erase(it->second, user_id);
  if (!it->second.empty()) return false;
  conversations_.erase(it);
  return true;
}

Task<bool> Hub::Attach(std::shared_ptr<WsSession> session, std::vector<std::string> conversations) {
  const std::string user_id = session->user_id();
  Metrics::Get().ws_connections->Inc();
  auto [it, inserted] = users_.try_emplace(user_id);
  it->second.sessions.push_back(std::move(session));
  if (!inserted) {
    std::shared_ptr<AsyncEvent> ready = it->second.subscribed;
    if (ready) co_await ready->Wait();
    co_return false;
  }
  auto ready = std::make_shared<AsyncEvent>(ex_);
  it->second.subscribed = ready;
  it->second.conversations = std::move(conversations);
  std::vector<std::string> channels;
  channels.push_back(UserChannel(user_id));
  for (const std::string& c : it->second.conversations) {
    if (AddLocalMember(c, user_id)) channels.push_back(ConversationChannel(c));
  }
  co_await SubscribeAndWait(std::move(channels));
  ready->Set();
  co_return true;
}

std::optional<std::vector<std::string>> Hub::Detach(const std::shared_ptr<WsSession>& session) {
  auto it = users_.find(session->user_id());
  if (it == users_.end()) return std::nullopt;
  auto& list = it->second.sessions;
  const auto before = list.size();
  std::erase(list, session);
  if (list.size() != before) Metrics::Get().ws_connections->Dec();
  if (!list.empty()) return std::nullopt;
  std::vector<std::string> convs = std::move(it->second.conversations);
  const std::string user_id = it->first;
  users_.erase(it);
  Unsubscribe(UserChannel(user_id));
  for (const std::string& c : convs) {
    if (RemoveLocalMember(c, user_id)) Unsubscribe(ConversationChannel(c));
  }
  return convs;
}

void Hub::Subscribe(std::string channel) {
  if (stopped_) return;
  // co_spawn runs the coroutine at once up to its first suspension, so the
  // SUBSCRIBE is sent now, in call order with every other (un)subscribe.
  asio::co_spawn(
      ex_,
      [this, ch = std::move(channel)]() mutable -> Task<void> {
        (void)co_await subscriber_->Subscribe(std::move(ch));
      },
      asio::detached);
}

void Hub::Unsubscribe(std::string channel) {
  if (stopped_) return;
  asio::co_spawn(
      ex_,
      [this, ch = std::move(channel)]() mutable -> Task<void> {
        (void)co_await subscriber_->Unsubscribe(std::move(ch));
      },
      asio::detached);
}

Task<void> Hub::SubscribeAndWait(std::vector<std::string> channels) {
  if (channels.empty() || stopped_) co_return;
  // Replies come back in order: once the last SUBSCRIBE is confirmed, so are the
  // ones before it.
  std::string last = std::move(channels.back());
  channels.pop_back();
  for (std::string& ch : channels) Subscribe(std::move(ch));
  (void)co_await subscriber_->Subscribe(std::move(last));
}

// ---- receiving ----

void Hub::DeliverToUser(std::string_view user_id, std::string_view exclude_session, Frame& frame,
                        std::string_view event) {
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  for (const auto& s : it->second.sessions) {
    if (!exclude_session.empty() && s->id() == exclude_session) continue;
    if (!frame) frame = std::make_shared<const std::string>(event);
    s->Deliver(frame);
    Metrics::Get().fanout_deliveries->Inc();
  }
}

void Hub::OnMessage(std::string_view channel, std::string_view payload) {
  if (!payload.empty() && payload[0] == 'B') {
    auto run = SplitRun(payload);
    if (!run) {
      log::Warn("fan-out: malformed run", {{"channel", channel}});
      return;
    }
    for (std::string_view one : *run) OnPayload(channel, one);
    return;
  }
  OnPayload(channel, payload);
}

void Hub::OnPayload(std::string_view channel, std::string_view payload) {
  auto p = Parse(payload);
  if (!p) {
    log::Warn("fan-out: malformed payload", {{"channel", channel}});
    return;
  }
  Frame frame;
  switch (p->kind) {
    case 'm':
      ForEachCsv(p->users, [&](std::string_view uid) {
        DeliverToUser(uid, p->exclude_session, frame, p->event);
      });
      break;
    case 'a': {
      auto it = conversations_.find(p->conversation);
      if (it == conversations_.end()) break;
      const std::vector<std::string> members =
          it->second;  // delivery may not change it, but be safe
      for (const std::string& uid : members) {
        if (uid == p->exclude_user || CsvContains(p->users, uid)) continue;
        DeliverToUser(uid, p->exclude_session, frame, p->event);
      }
      break;
    }
    case 'j': {
      std::string uid(p->users);
      auto it = users_.find(uid);
      if (it == users_.end()) break;
      asio::co_spawn(
          ex_, JoinThenDeliver(std::move(uid), std::string(p->conversation), std::string(p->event)),
          asio::detached);
      break;
    }
    case 'l': {
      std::string uid(p->users);
      std::string conv(p->conversation);
      auto it = users_.find(uid);
      if (it == users_.end()) break;
      auto& convs = it->second.conversations;
      const auto before = convs.size();
      std::erase(convs, conv);
      if (convs.size() != before && RemoveLocalMember(conv, uid)) {
        Unsubscribe(ConversationChannel(conv));
      }
      DeliverToUser(uid, {}, frame, p->event);
      break;
    }
    default:
      log::Warn("fan-out: unknown kind", {{"channel", channel}});
  }
}

Task<void> Hub::JoinThenDeliver(std::string user_id, std::string conversation_id,
                                std::string event) {
  auto it = users_.find(user_id);
  if (it == users_.end()) co_return;
  auto& convs = it->second.conversations;
  if (std::find(convs.begin(), convs.end(), conversation_id) == convs.end()) {
    convs.push_back(conversation_id);
    if (AddLocalMember(conversation_id, user_id)) {
      std::vector<std::string> ch{ConversationChannel(conversation_id)};
      co_await SubscribeAndWait(std::move(ch));
    }
  }
  Frame frame;
  DeliverToUser(user_id, {}, frame, event);
}

// Closing a session is asynchronous (its handler detaches it later), so the
// maps do not change under these loops.
void Hub::ForEachSession(const std::function<void(const std::shared_ptr<WsSession>&)>& fn) const {
  for (const auto& [uid, u] : users_) {
    for (const auto& s : u.sessions) fn(s);
  }
}

void Hub::ForEachSessionOf(std::string_view user_id,
                           const std::function<void(const std::shared_ptr<WsSession>&)>& fn) const {
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  for (const auto& s : it->second.sessions) fn(s);
}

void Hub::OnReconnect() {
  auto frame = std::make_shared<const std::string>(R"({"type":"sync.required"})");
  for (auto& [uid, u] : users_) {
    for (auto& s : u.sessions) s->Deliver(frame);
  }
}

// ---- publishing ----

void Hub::ToMembers(std::string_view conversation_id, const std::vector<std::string>& recipients,
                    std::string_view exclude_session, std::string event) {
  if (recipients.empty()) return;
  Publish(ConversationChannel(conversation_id),
          Encode('m', conversation_id, exclude_session, {}, recipients, event));
}

void Hub::ToLocalMembers(std::string_view conversation_id, std::string_view exclude_user,
                         std::string event, const std::vector<std::string>& hidden_from) {
  Publish(ConversationChannel(conversation_id),
          Encode('a', conversation_id, {}, exclude_user, hidden_from, event));
}

void Hub::Joined(std::string_view user_id, std::string_view conversation_id, std::string event) {
  Publish(UserChannel(user_id),
          Encode('j', conversation_id, {}, {}, {std::string(user_id)}, event));
}

void Hub::Left(std::string_view user_id, std::string_view conversation_id, std::string event) {
  Publish(UserChannel(user_id),
          Encode('l', conversation_id, {}, {}, {std::string(user_id)}, event));
}

void Hub::Publish(std::string channel, std::string payload) {
  if (stopped_) return;
  pending_.emplace_back(std::move(channel), std::move(payload));
  if (!publishing_) {
    publishing_ = true;
    asio::co_spawn(ex_, Flush(), asio::detached);
  }
}

Task<void> Hub::Flush() {
  redis::RedisBatch batch;
  std::vector<std::pair<std::string, std::string>> sending;
  while (!pending_.empty() && !stopped_) {
    if (pending_.size() <= kMaxPublishBatch) {
      sending.swap(pending_);
    } else {
      sending.assign(std::make_move_iterator(pending_.begin()),
                     std::make_move_iterator(pending_.begin() + kMaxPublishBatch));
      pending_.erase(pending_.begin(), pending_.begin() + kMaxPublishBatch);
    }
    batch.Clear();
    // Consecutive payloads of one channel go out as one run, in order.
    std::vector<std::string> run;
    for (std::size_t i = 0; i < sending.size();) {
      std::size_t end = i + 1;
      while (end < sending.size() && sending[end].first == sending[i].first) ++end;
      if (end - i == 1) {
        batch.Add("PUBLISH", sending[i].first, sending[i].second);
      } else {
        run.clear();
        for (std::size_t k = i; k < end; ++k) run.push_back(std::move(sending[k].second));
        batch.Add("PUBLISH", sending[i].first, EncodeRun(run));
      }
      i = end;
    }
    auto r = co_await redis_.Pipeline(batch);
    if (!r) {
      Metrics::Get().fanout_publish_errors->Inc(static_cast<double>(sending.size()));
      log::Warn("fan-out publish failed",
                {{"error", r.error().message}, {"events", sending.size()}});
    } else {
      Metrics::Get().fanout_published->Inc(static_cast<double>(sending.size()));
    }
    sending.clear();
  }
  publishing_ = false;
}

}  // namespace tchat::messaging
