#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/redis/cluster.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "conn.hpp"

namespace tchat::redis::detail {

class Pool;

// A MOVED or ASK error reply: where the slot lives (now, or for this command).
struct Redirect {
  bool ask = false;
  int slot = 0;
  std::string host;  // empty: the host of the node that answered
  std::uint16_t port = 0;
};
std::optional<Redirect> ParseRedirect(std::string_view error);

// A failure before the command reached any server (the dial failed): safe to
// send again elsewhere.
bool NotSent(const Error& error);

// The state behind a RedisClient on a redis-cluster:// URL: the slot map
// (CLUSTER SLOTS), one connection pool per node, and the routing of every
// command to the master of its key's slot. MOVED updates the slot and refreshes
// the map, ASK sends ASKING then the command to the named node, TRYAGAIN,
// CLUSTERDOWN and failed dials wait (25 ms doubling to 500 ms) and retry on a
// refreshed map: up to 16 attempts, about 6 s, which covers a failover with a
// short cluster-node-timeout. A command that was sent and whose connection
// broke is not retried (it may have run): it fails with kUnavailable and the map
// is refreshed for the next one. PUBLISH is sent as SPUBLISH (sharded pub/sub:
// the message goes to the shard owning the channel's slot only).
class Cluster : public std::enable_shared_from_this<Cluster> {
 public:
  using Clock = std::chrono::steady_clock;

  Cluster(boost::asio::any_io_executor executor, RedisOptions options);
  ~Cluster();

  Task<Result<RedisReply>> Exec(RedisArgs args);
  Task<Result<std::vector<RedisReply>>> ExecPipeline(const RedisBatch& batch);
  Task<Status> Warmup();
  Task<Status> Ping(std::chrono::milliseconds deadline);
  void Shutdown();
  std::size_t OpenCount() const;
  std::size_t InFlight() const;

  // Reloads the slot map (one load at a time; callers during a load wait for
  // it; at most one load per 100 ms). Fails when no known node answers.
  Task<Status> Refresh();
  void MarkStale() { stale_ = true; }
  bool stale() const { return stale_ || !have_topology_; }
  // The node serving `slot` (-1: any node), or -1 when unknown.
  int NodeOf(int slot) const;
  // The node with this address (added when new); an empty host means the
  // host of `near`.
  int NodeIndex(const std::string& host, std::uint16_t port, int near);
  void NoteMoved(const Redirect& redirect, int near);
  const RedisEndpoint& node(int index) const { return nodes_[static_cast<std::size_t>(index)]; }
  const RedisOptions& options() const { return options_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }
  Status url_status() const;
  metrics::Counter* errors() const { return errors_; }

 private:
  // A command of a batch being routed.
  struct Item {
    std::size_t index;
    int node = -1;  // set by ASK
    bool asking = false;
  };
  // What one routing round leaves for the next.
  struct Round {
    std::vector<Item> again;
    bool must_wait = false;
    std::string last_error;
  };
  void Sort(int node, std::vector<RedisReply>& got, const std::vector<Item>& items,
            std::vector<RedisReply>& replies, Round& round);
  Task<std::vector<Result<std::vector<RedisReply>>>> SendGroups(
      const RedisBatch& batch, const std::map<int, std::vector<Item>>& groups);
  std::shared_ptr<Pool> PoolFor(int node);
  Task<Status> Load();
  Status Apply(const RedisReply& slots, int asked);

  boost::asio::any_io_executor executor_;
  RedisOptions options_;
  Result<std::vector<RedisEndpoint>> seeds_;
  metrics::Counter* errors_;
  std::vector<RedisEndpoint> nodes_;
  std::vector<std::shared_ptr<Pool>> pools_;  // by node index, made on first use
  std::vector<int> slot_node_;
  bool have_topology_ = false;
  bool stale_ = true;
  bool refreshing_ = false;
  bool shut_ = false;
  Status last_refresh_;
  Clock::time_point last_refresh_at_{};
  std::vector<Waiter*> refresh_waiters_;
};

// RedisClient::Dedicated() on a cluster: its own connection to each node it
// needs (dialled on first use), commands routed like the pool's. Once one of
// them is lost the whole thing reports closed, like a single dedicated
// connection, and the owner asks for a new one (which follows the new map).
class ClusterConnection {
 public:
  explicit ClusterConnection(std::shared_ptr<Cluster> cluster) : cluster_(std::move(cluster)) {}
  ~ClusterConnection() { Close(); }

  Task<Result<RedisReply>> Exec(RedisArgs args, std::chrono::milliseconds extra = {});
  Task<Result<std::vector<RedisReply>>> ExecPipeline(const RedisBatch& batch);
  bool open() const { return !closed_; }
  void Close();

 private:
  Task<Result<std::shared_ptr<Conn>>> ConnFor(int node);

  std::shared_ptr<Cluster> cluster_;
  std::map<int, std::shared_ptr<Conn>> conns_;
  bool closed_ = false;
};

}  // namespace tchat::redis::detail
