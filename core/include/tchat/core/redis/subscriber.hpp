#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/redis/options.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

namespace detail {
class ShardedSubscriber;
class Subscriber;
}  // namespace detail

// Pub/sub on a dedicated connection. Remembers every channel and pattern it was
// asked for; after the connection is lost it reconnects with backoff (100 ms
// doubling to 5 s), subscribes to all of them again and then calls the reconnect
// callback, so that the owner knows it may have missed messages. A PING every
// few seconds detects half-open connections.
//
// On a redis-cluster:// URL it uses sharded pub/sub instead (SSUBSCRIBE on the
// master owning each channel's slot, which RedisClient's PUBLISH reaches as
// SPUBLISH); PSubscribe is then refused (kInvalidArgument), and Subscribe waits
// for its own channel's confirmation.
//
// Callbacks run on the executor. Bound to one executor; not thread-safe.
// Destroying it stops the loop and closes the connection.
class RedisSubscriber {
 public:
  // (channel, payload); for pattern subscriptions the channel is the concrete
  // channel the message was published to.
  using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;
  using ReconnectHandler = std::function<void()>;

  RedisSubscriber(boost::asio::any_io_executor executor, RedisOptions options,
                  MessageHandler on_message, ReconnectHandler on_reconnect = {});
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;
  ~RedisSubscriber();

  // Starts connecting in the background. Call once.
  void Start();
  // Stops the loop and closes the connection; no callback runs afterwards.
  void Stop();

  // Adds a channel (pattern) and waits until the server confirms it. When not
  // connected the subscription is still remembered and made on (re)connect,
  // and the call answers kUnavailable.
  Task<Status> Subscribe(std::string channel);
  Task<Status> PSubscribe(std::string pattern);
  // Forgets a channel (pattern) and waits for the server's confirmation when
  // connected.
  Task<Status> Unsubscribe(std::string channel);
  Task<Status> PUnsubscribe(std::string pattern);

  // True while connected and subscribed to everything remembered.
  bool Connected() const;

 private:
  std::shared_ptr<detail::Subscriber> impl_;
  std::shared_ptr<detail::ShardedSubscriber> sharded_;  // on a Redis Cluster
};

}  // namespace tchat::redis
