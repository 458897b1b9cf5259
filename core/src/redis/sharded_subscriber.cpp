#include "sharded_subscriber.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>

namespace tchat::redis::detail {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

RedisOptions TopologyOptions(RedisOptions options) {
  options.pool_size = 1;  // CLUSTER SLOTS only
  options.min_idle = 0;
  return options;
}

}  // namespace

ShardedSubscriber::ShardedSubscriber(asio::any_io_executor executor, RedisOptions options,
                                     RedisSubscriber::MessageHandler on_message,
                                     RedisSubscriber::ReconnectHandler on_reconnect)
    : executor_(executor),
      cluster_(std::make_shared<Cluster>(executor, TopologyOptions(std::move(options)))),
      on_message_(std::move(on_message)),
      on_reconnect_(std::move(on_reconnect)),
      timer_(executor) {}

void ShardedSubscriber::Start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(executor_, Run(shared_from_this()), asio::detached);
}

void ShardedSubscriber::Stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  auto links = std::move(links_);
  links_.clear();
  for (auto& [node, link] : links) link->conn->Close();
  cluster_->Shutdown();
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& [channel, w] : waiters) {
    *w.status = Error::Unavailable("redis subscriber stopped");
    w.waiter->Wake();
  }
}

void ShardedSubscriber::Poke() {
  poked_ = true;
  timer_.cancel();
}

Task<Status> ShardedSubscriber::Subscribe(std::string channel) {
  auto self = shared_from_this();
  if (stopped_) co_return Error::Unavailable("redis subscriber stopped");
  channels_.insert(channel);
  for (const auto& [node, link] : links_) {
    if (link->conn->open() && link->subscribed.contains(channel)) co_return Ok();
  }
  if (!started_) {
    co_return Error::Unavailable("redis subscriber not connected; subscribes on reconnect");
  }
  Waiter waiter;
  Status status = Error::Unavailable("redis subscriber not connected; subscribes on reconnect");
  waiters_.emplace(channel, ChannelWaiter{&waiter, &status});
  Poke();
  co_await Suspend(waiter);
  co_return status;
}

Task<Status> ShardedSubscriber::Unsubscribe(std::string channel) {
  channels_.erase(channel);
  Confirmed(channel, Ok());
  for (auto& [node, link] : links_) {
    if (!link->requested.erase(channel)) continue;
    link->subscribed.erase(channel);
    const std::array<std::string_view, 2> argv{"SUNSUBSCRIBE", channel};
    link->conn->Send(argv);
  }
  co_return Ok();
}

bool ShardedSubscriber::AllSubscribed() const {
  for (const std::string& ch : channels_) {
    bool found = false;
    for (const auto& [node, link] : links_) {
      if (link->conn->open() && link->subscribed.contains(ch)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool ShardedSubscriber::connected() const {
  return started_ && !stopped_ && !links_.empty() && AllSubscribed();
}

void ShardedSubscriber::Confirmed(const std::string& channel, Status status) {
  auto [begin, end] = waiters_.equal_range(channel);
  std::vector<ChannelWaiter> done;
  for (auto it = begin; it != end; ++it) done.push_back(it->second);
  waiters_.erase(begin, end);
  for (ChannelWaiter& w : done) {
    *w.status = status;
    w.waiter->Wake();
  }
}

void ShardedSubscriber::FailWaiters(const std::string& channel, const Error& error) {
  Confirmed(channel, error);
}

Task<void> ShardedSubscriber::Run(std::shared_ptr<ShardedSubscriber> /*keep_alive*/) {
  if (Status st = cluster_->url_status(); !st) {
    log::Error("redis subscriber: bad url", {{"error", st.error().message}});
    co_return;
  }
  auto backoff = kFirstBackoff;
  const auto interval = std::max(cluster_->options().read_timeout, std::chrono::milliseconds(100));
  auto last_ping = Cluster::Clock::now();
  while (!stopped_) {
    poked_ = false;
    const bool ok = co_await Sync();
    if (stopped_) break;
    if (poked_) continue;
    timer_.expires_after(ok ? interval : backoff);
    backoff = ok ? kFirstBackoff : std::min(backoff * 2, kMaxBackoff);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    if (Cluster::Clock::now() - last_ping >= interval) {
      last_ping = Cluster::Clock::now();
      KeepAlive();
    }
  }
}

void ShardedSubscriber::KeepAlive() {
  const std::array<std::string_view, 1> ping{"PING"};
  for (auto& [node, link] : links_) {
    if (!link->conn->open()) continue;
    if (link->ping_outstanding) {
      link->conn->Fail(Error::Unavailable("redis subscriber: no PONG in time"));
      continue;
    }
    link->ping_outstanding = true;
    link->conn->Send(ping);
  }
}

Task<bool> ShardedSubscriber::Sync() {
  for (auto it = links_.begin(); it != links_.end();) {
    if (it->second->conn->open()) {
      ++it;
      continue;
    }
    it = links_.erase(it);
    lost_ = true;
    cluster_->MarkStale();
  }
  if (cluster_->stale()) {
    Status st = co_await cluster_->Refresh();
    if (stopped_) co_return false;
    if (!st) {
      for (const std::string& ch : std::set<std::string, std::less<>>(channels_)) {
        FailWaiters(ch, st.error());
      }
      co_return false;
    }
  }
  // Channels whose slot moved to another node leave their old link.
  for (auto& [node, link] : links_) {
    for (const std::string& ch : std::set<std::string, std::less<>>(link->requested)) {
      if (cluster_->NodeOf(KeySlot(ch)) == node) continue;
      link->requested.erase(ch);
      link->subscribed.erase(ch);
      const std::array<std::string_view, 2> argv{"SUNSUBSCRIBE", ch};
      link->conn->Send(argv);
    }
  }
  bool ok = true;
  std::map<int, std::vector<std::string>> need;
  for (const std::string& ch : channels_) {
    const int node = cluster_->NodeOf(KeySlot(ch));
    if (node < 0) {
      ok = false;
      continue;
    }
    auto it = links_.find(node);
    if (it != links_.end() && it->second->requested.contains(ch)) continue;
    need[node].push_back(ch);
  }
  for (auto& [node, chans] : need) {
    auto link = co_await LinkFor(node);
    if (stopped_) co_return false;
    if (!link) {
      ok = false;
      for (const std::string& ch : chans) FailWaiters(ch, Error::Unavailable("redis node down"));
      continue;
    }
    for (const std::string& ch : chans) {
      if (!channels_.contains(ch) || link->requested.contains(ch)) continue;
      const std::array<std::string_view, 2> argv{"SSUBSCRIBE", ch};
      link->conn->Send(argv);
      link->requested.insert(ch);
    }
  }
  co_return ok;
}

Task<std::shared_ptr<ShardedSubscriber::Link>> ShardedSubscriber::LinkFor(int node) {
  if (auto it = links_.find(node); it != links_.end() && it->second->conn->open()) {
    co_return it->second;
  }
  const RedisOptions& options = cluster_->options();
  auto dialed = co_await Conn::Dial(executor_, options, cluster_->node(node),
                                    ClientName(options.service, ":sub"), cluster_->errors());
  if (!dialed) {
    log::Warn("redis subscriber dial failed", {{"error", dialed.error().message}});
    cluster_->MarkStale();
    co_return nullptr;
  }
  if (stopped_) {
    (*dialed)->Close();
    co_return nullptr;
  }
  if (auto it = links_.find(node); it != links_.end() && it->second->conn->open()) {
    (*dialed)->Close();  // another Sync got there first
    co_return it->second;
  }
  auto link = std::make_shared<Link>();
  link->node = node;
  link->conn = std::move(*dialed);
  std::weak_ptr<Link> weak = link;
  link->conn->SetPushHandler([this, weak](RedisReply& reply) {
    if (auto l = weak.lock()) OnPush(l, reply);
  });
  link->conn->SetCloseHandler([this, weak] {
    auto l = weak.lock();
    if (!l || stopped_) return;
    for (const std::string& ch : l->requested) {
      if (!l->subscribed.contains(ch)) FailWaiters(ch, Error::Unavailable("redis node lost"));
    }
    lost_ = true;
    cluster_->MarkStale();
    Poke();
  });
  links_[node] = link;
  co_return link;
}

void ShardedSubscriber::OnPush(const std::shared_ptr<Link>& link, RedisReply& reply) {
  if (reply.IsArray() && !reply.elements.empty() && reply.elements[0].IsString()) {
    const std::string& kind = reply.elements[0].str;
    auto& e = reply.elements;
    if ((kind == "smessage" || kind == "message") && e.size() == 3) {
      if (on_message_ && !stopped_) on_message_(e[1].str, e[2].str);
    } else if (kind == "pong") {
      link->ping_outstanding = false;
    } else if (kind == "ssubscribe" && e.size() >= 2) {
      link->subscribed.insert(e[1].str);
      Confirmed(e[1].str, Ok());
      if (AllSubscribed()) {
        if (lost_ && ever_ok_) {
          log::Info("redis subscriber reconnected (cluster)");
          lost_ = false;
          if (on_reconnect_) on_reconnect_();
        }
        ever_ok_ = true;
        lost_ = false;
      }
    } else if (kind == "sunsubscribe" && e.size() >= 2) {
      link->requested.erase(e[1].str);
      link->subscribed.erase(e[1].str);
      if (channels_.contains(e[1].str)) {  // the server moved the slot away
        lost_ = true;
        cluster_->MarkStale();
        Poke();
      }
    }
    return;
  }
  if (reply.IsStatus()) {
    link->ping_outstanding = false;
  } else if (reply.IsError()) {
    // A SSUBSCRIBE that reached a node no longer owning the slot (MOVED):
    // send the unconfirmed ones again on a fresh map.
    log::Warn("redis subscriber: error reply", {{"error", reply.str}});
    std::erase_if(link->requested,
                  [&](const std::string& ch) { return !link->subscribed.contains(ch); });
    cluster_->MarkStale();
    Poke();
  }
}

}  // namespace tchat::redis::detail
