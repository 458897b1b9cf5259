#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/redis/options.hpp>
#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

namespace detail {
class Cluster;
class ClusterConnection;
class Conn;
class Pool;
}  // namespace detail

// One pipelined connection of its own, for blocking commands (XREADGROUP
// BLOCK) or anything else that must not share the pool. Obtained from
// RedisClient::Dedicated(). Closing (or destroying) it fails whatever is still in
// flight with kUnavailable. A lost connection stays lost: check IsOpen() and ask
// for a new one. Bound to the client's executor; not thread-safe.
class RedisConnection final : public RedisCommander {
 public:
  explicit RedisConnection(std::shared_ptr<detail::Conn> conn);
  explicit RedisConnection(std::shared_ptr<detail::ClusterConnection> conn);
  RedisConnection(RedisConnection&&) noexcept;
  RedisConnection& operator=(RedisConnection&&) noexcept;
  ~RedisConnection() override;

  using RedisCommander::Command;
  Task<Result<RedisReply>> Command(RedisArgs args) override;
  Task<Result<RedisReply>> BlockingCommand(RedisArgs args,
                                           std::chrono::milliseconds block) override;
  // Sends the batch in one write; replies come back in order. Error replies
  // stay in the vector as RedisReply::Type::kError; only a connection failure
  // fails the whole call.
  Task<Result<std::vector<RedisReply>>> Pipeline(const RedisBatch& batch);

  bool IsOpen() const;
  void Close();

 private:
  std::shared_ptr<detail::Conn> conn_;
  std::shared_ptr<detail::ClusterConnection> cluster_;  // on a redis-cluster:// URL
};

// Options of RedisClient::Set.
struct RedisSetOptions {
  std::optional<std::chrono::seconds> ttl;  // EX
  bool only_if_absent = false;              // NX
};

// The per-worker Redis client: a pool of up to pool_size pipelined connections
// bound to one executor. Each command goes to the least loaded connection (many
// commands in flight per connection, replies matched in order); the pool grows
// when connections get busy and keeps min_idle connections once used. A dead
// connection fails its in-flight commands with kUnavailable, is dropped and is
// redialled on demand, so the client recovers by itself after Redis restarts.
//
// On a redis-cluster:// URL (see cluster.hpp) the client is slot-aware: it
// keeps the cluster's slot map, one such pool per node, sends each command to
// the master of its key's slot and follows MOVED/ASK, failovers and resharding
// by itself; a batch is split by node. PUBLISH goes out as SPUBLISH (sharded
// pub/sub), matching RedisSubscriber's SSUBSCRIBE on a cluster.
//
// Thread rules: create one per worker io_context and use it only from coroutines
// running on that executor. Destroying it closes every connection and fails what
// is in flight.
class RedisClient final : public RedisCommander {
 public:
  RedisClient(boost::asio::any_io_executor executor, RedisOptions options);
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient() override;

  // Checks the URL (kInvalidArgument names the problem) and opens min_idle
  // connections; the first dial failure is returned. Optional: commands dial
  // lazily without it.
  Task<Status> Warmup();

  using RedisCommander::Command;
  Task<Result<RedisReply>> Command(RedisArgs args) override;
  // Always kInvalidArgument: blocking commands need Dedicated().
  Task<Result<RedisReply>> BlockingCommand(RedisArgs args,
                                           std::chrono::milliseconds block) override;
  // The whole batch goes to one connection in one write; see
  // RedisConnection::Pipeline.
  Task<Result<std::vector<RedisReply>>> Pipeline(const RedisBatch& batch);

  // A new connection outside the pool (not counted in pool_size).
  Task<Result<RedisConnection>> Dedicated();

  // PING answered within `deadline` (readiness checks): Ok, kUnavailable, or
  // kDeadlineExceeded. Never waits longer than the deadline, even while dialling.
  Task<Status> Ping(std::chrono::milliseconds deadline);

  // Small helpers for the common commands.
  Task<Result<std::optional<std::string>>> Get(std::string_view key);
  // False when NX prevented the write.
  Task<Result<bool>> Set(std::string_view key, std::string_view value,
                         RedisSetOptions options = {});
  Task<Result<std::int64_t>> Incr(std::string_view key);
  // False when the key does not exist.
  Task<Result<bool>> Expire(std::string_view key, std::chrono::seconds ttl);
  Task<Result<std::int64_t>> Del(std::string_view key);
  // Number of subscribers that received the message.
  Task<Result<std::int64_t>> Publish(std::string_view channel, std::string_view message);

  // Closes every connection (in-flight commands fail with kUnavailable) and
  // refuses further commands, so that the executor's run() can return.
  void Close();

  // Open connections in the pool and commands in flight on them (tests, gauges).
  std::size_t OpenConnections() const;
  std::size_t InFlight() const;

 private:
  Task<Result<RedisReply>> Exec(RedisArgs args);

  std::shared_ptr<detail::Pool> pool_;        // one Redis
  std::shared_ptr<detail::Cluster> cluster_;  // or a Redis Cluster
};

}  // namespace tchat::redis
