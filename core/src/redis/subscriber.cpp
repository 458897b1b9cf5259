#include <algorithm>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/redis/subscriber.hpp>

#include "conn.hpp"
#include "sharded_subscriber.hpp"

namespace tchat::redis {
namespace detail {

namespace asio = boost::asio;

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

// The state behind RedisSubscriber, kept alive by its Run() loop.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(asio::any_io_executor executor, RedisOptions options,
             RedisSubscriber::MessageHandler on_message,
             RedisSubscriber::ReconnectHandler on_reconnect)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        endpoint_(ParseRedisUrl(options_.url)),
        errors_(&ConnectionErrors(options_.service)),
        on_message_(std::move(on_message)),
        on_reconnect_(std::move(on_reconnect)),
        timer_(executor_) {}

  void Start() {
    if (started_) return;
    started_ = true;
    asio::co_spawn(executor_, Run(shared_from_this()), asio::detached);
  }

  void Stop() {
    stopped_ = true;
    timer_.cancel();
    if (conn_) conn_->Close();
  }

  // Adds or removes a channel or pattern; `verb` is the Redis command.
  Task<Status> Change(std::string_view verb, std::string name, bool pattern, bool add) {
    auto self = shared_from_this();
    auto& names = pattern ? patterns_ : channels_;
    if (add) {
      names.insert(name);
    } else {
      names.erase(name);
    }
    if (!conn_ || !conn_->open() || stopped_) {
      if (!add) co_return Ok();
      co_return Error::Unavailable("redis subscriber not connected; subscribes on reconnect");
    }
    const std::array<std::string_view, 2> argv{verb, name};
    conn_->Send(argv);
    co_return co_await AwaitConfirmations(1);
  }

  bool connected() const { return subscribed_ && conn_ && conn_->open(); }

 private:
  // Commands awaiting `remaining` confirmations, in the order they were sent.
  struct Control {
    std::size_t remaining;
    Waiter* waiter;
    Status* status;
  };

  Task<void> Run(std::shared_ptr<Subscriber> /*keep_alive*/) {
    if (!endpoint_) {
      log::Error("redis subscriber: bad url", {{"error", endpoint_.error().message}});
      co_return;
    }
    auto backoff = kFirstBackoff;
    bool was_connected = false;
    while (!stopped_) {
      auto dialed = co_await Conn::Dial(executor_, options_, *endpoint_,
                                        ClientName(options_.service, ":sub"), errors_);
      if (stopped_) {
        if (dialed) (*dialed)->Close();
        break;
      }
      if (dialed) {
        backoff = kFirstBackoff;
        conn_ = std::move(*dialed);
        conn_->SetPushHandler([this](RedisReply& reply) { OnPush(reply); });
        conn_->SetCloseHandler([this] { OnClosed(); });
        Status status = co_await SubscribeAll();
        if (status.ok() && conn_->open() && !stopped_) {
          subscribed_ = true;
          if (was_connected) {
            log::Info("redis subscriber reconnected");
            if (on_reconnect_) on_reconnect_();
          }
          was_connected = true;
        }
        co_await KeepAlive();
        conn_->Close();
        conn_.reset();
        if (stopped_) break;
      } else {
        log::Warn("redis subscriber dial failed", {{"error", dialed.error().message}});
      }
      timer_.expires_after(backoff);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  // PINGs every read_timeout until the connection closes; no answer to the
  // previous PING by then means the connection is dead.
  Task<void> KeepAlive() {
    const auto interval = std::max(options_.read_timeout, std::chrono::milliseconds(100));
    while (conn_->open() && !stopped_) {
      timer_.expires_after(interval);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!conn_->open() || stopped_) break;
      if (ping_outstanding_) {
        conn_->Fail(Error::Unavailable("redis subscriber: no PONG within " +
                                       std::to_string(interval.count()) + "ms"));
        break;
      }
      ping_outstanding_ = true;
      const std::array<std::string_view, 1> ping{"PING"};
      conn_->Send(ping);
    }
    ping_outstanding_ = false;
  }

  Task<Status> SubscribeAll() {
    std::size_t expected = 0;
    const std::pair<std::string_view, const std::set<std::string, std::less<>>*> kinds[] = {
        {"SUBSCRIBE", &channels_}, {"PSUBSCRIBE", &patterns_}};
    for (auto [verb, names] : kinds) {
      if (names->empty()) continue;
      std::vector<std::string_view> args{verb};
      args.insert(args.end(), names->begin(), names->end());
      conn_->Send(args);
      expected += names->size();
    }
    if (expected == 0) co_return Ok();
    co_return co_await AwaitConfirmations(expected);
  }

  Task<Status> AwaitConfirmations(std::size_t n) {
    Waiter waiter;
    Status status;
    control_.push_back({n, &waiter, &status});
    co_await Suspend(waiter);
    co_return status;
  }

  void Complete(Status status) {
    Control c = control_.front();
    control_.pop_front();
    *c.status = std::move(status);
    c.waiter->Wake();
  }

  void OnPush(RedisReply& reply) {
    if (reply.IsArray() && !reply.elements.empty() && reply.elements[0].IsString()) {
      const std::string& kind = reply.elements[0].str;
      auto& e = reply.elements;
      if (kind == "message" && e.size() == 3) {
        if (on_message_ && !stopped_) on_message_(e[1].str, e[2].str);
      } else if (kind == "pmessage" && e.size() == 4) {
        if (on_message_ && !stopped_) on_message_(e[2].str, e[3].str);
      } else if (kind == "pong") {
        ping_outstanding_ = false;
      } else if (kind.ends_with("subscribe")) {  // [p](un)subscribe confirmation
        if (!control_.empty() && --control_.front().remaining == 0) Complete(Ok());
      }
      return;
    }
    if (reply.IsStatus()) {  // +PONG outside subscribed mode
      ping_outstanding_ = false;
    } else if (reply.IsError() && !control_.empty()) {
      Complete(Error::Internal(reply.str));
    }
  }

  void OnClosed() {
    subscribed_ = false;
    timer_.cancel();
    while (!control_.empty()) Complete(Error::Unavailable("redis subscriber connection lost"));
  }

  asio::any_io_executor executor_;
  RedisOptions options_;
  Result<RedisEndpoint> endpoint_;
  metrics::Counter* errors_;
  RedisSubscriber::MessageHandler on_message_;
  RedisSubscriber::ReconnectHandler on_reconnect_;
  asio::steady_timer timer_;
  std::set<std::string, std::less<>> channels_;
  std::set<std::string, std::less<>> patterns_;
  std::shared_ptr<Conn> conn_;
  std::deque<Control> control_;
  bool started_ = false;
  bool stopped_ = false;
  bool subscribed_ = false;
  bool ping_outstanding_ = false;
};

Task<Status> Refuse() {
  co_return Error::InvalidArgument(
      "pattern subscriptions do not exist in sharded pub/sub (Redis Cluster)");
}

}  // namespace detail

using detail::Refuse;

RedisSubscriber::RedisSubscriber(boost::asio::any_io_executor executor, RedisOptions options,
                                 MessageHandler on_message, ReconnectHandler on_reconnect) {
  if (IsClusterUrl(options.url)) {
    sharded_ = std::make_shared<detail::ShardedSubscriber>(
        std::move(executor), std::move(options), std::move(on_message), std::move(on_reconnect));
  } else {
    impl_ = std::make_shared<detail::Subscriber>(std::move(executor), std::move(options),
                                                 std::move(on_message), std::move(on_reconnect));
  }
}

RedisSubscriber::~RedisSubscriber() {
  Stop();
}

void RedisSubscriber::Start() {
  if (sharded_) return sharded_->Start();
  impl_->Start();
}
void RedisSubscriber::Stop() {
  if (sharded_) return sharded_->Stop();
  impl_->Stop();
}

Task<Status> RedisSubscriber::Subscribe(std::string channel) {
  if (sharded_) return sharded_->Subscribe(std::move(channel));
  return impl_->Change("SUBSCRIBE", std::move(channel), false, true);
}
Task<Status> RedisSubscriber::PSubscribe(std::string pattern) {
  if (sharded_) return Refuse();
  return impl_->Change("PSUBSCRIBE", std::move(pattern), true, true);
}
Task<Status> RedisSubscriber::Unsubscribe(std::string channel) {
  if (sharded_) return sharded_->Unsubscribe(std::move(channel));
  return impl_->Change("UNSUBSCRIBE", std::move(channel), false, false);
}
Task<Status> RedisSubscriber::PUnsubscribe(std::string pattern) {
  if (sharded_) return Refuse();
  return impl_->Change("PUNSUBSCRIBE", std::move(pattern), true, false);
}

bool RedisSubscriber::Connected() const {
  return sharded_ ? sharded_->connected() : impl_->connected();
}

}  // namespace tchat::redis
