#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/redis/subscriber.hpp>

#include "cluster_client.hpp"
#include "conn.hpp"

namespace tchat::redis::detail {

// RedisSubscriber on a redis-cluster:// URL: sharded pub/sub. Each channel is
// subscribed with SSUBSCRIBE on a connection to the master owning its slot
// (one connection per such node), so a SPUBLISH touches that shard only. When a
// node's connection is lost, or the server moves a channel's slot away
// (it then sends sunsubscribe), the loop reloads the slot map, subscribes again
// on the new owner and, once every channel is confirmed again, calls the
// reconnect callback (messages may have been missed in between). A PING every
// read_timeout on each connection detects half-open ones. Pattern
// subscriptions do not exist in sharded pub/sub: PSubscribe is refused.
class ShardedSubscriber : public std::enable_shared_from_this<ShardedSubscriber> {
 public:
  ShardedSubscriber(boost::asio::any_io_executor executor, RedisOptions options,
                    RedisSubscriber::MessageHandler on_message,
                    RedisSubscriber::ReconnectHandler on_reconnect);

  void Start();
  void Stop();
  Task<Status> Subscribe(std::string channel);
  Task<Status> Unsubscribe(std::string channel);
  bool connected() const;

 private:
  // One connection to one master and the channels subscribed on it.
  struct Link {
    int node = -1;
    std::shared_ptr<Conn> conn;
    std::set<std::string, std::less<>> requested;   // SSUBSCRIBE sent
    std::set<std::string, std::less<>> subscribed;  // confirmed
    bool ping_outstanding = false;
  };
  struct ChannelWaiter {
    Waiter* waiter;
    Status* status;
  };

  Task<void> Run(std::shared_ptr<ShardedSubscriber> keep_alive);
  // Subscribes every channel on its owner's link; false when one could not be.
  Task<bool> Sync();
  Task<std::shared_ptr<Link>> LinkFor(int node);
  void KeepAlive();
  void OnPush(const std::shared_ptr<Link>& link, RedisReply& reply);
  void Confirmed(const std::string& channel, Status status);
  void FailWaiters(const std::string& channel, const Error& error);
  bool AllSubscribed() const;
  void Poke();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<Cluster> cluster_;
  RedisSubscriber::MessageHandler on_message_;
  RedisSubscriber::ReconnectHandler on_reconnect_;
  boost::asio::steady_timer timer_;
  std::set<std::string, std::less<>> channels_;
  std::map<int, std::shared_ptr<Link>> links_;
  std::multimap<std::string, ChannelWaiter> waiters_;
  bool started_ = false;
  bool stopped_ = false;
  bool lost_ = false;     // a link was lost since everything was last confirmed
  bool ever_ok_ = false;  // everything was confirmed at least once
  bool poked_ = false;
};

}  // namespace tchat::redis::detail
