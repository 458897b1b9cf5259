#pragma once

// Publishing events the way the services do, for tests of their consumers: a
// blocking Redis connection (hiredis) and the event envelope.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>

struct redisContext;

namespace tchat::e2e {

// Blocking Redis commands. Not thread-safe. On a redis-cluster://host:port,...
// URL it connects to the first seed that answers and follows MOVED/ASK to the
// node owning each command's key (reconnecting there); a DEL of keys in several
// slots is split into one DEL per key.
class Redis {
 public:
  // redis://host:port[/db] or redis-cluster://host:port[,host:port...]; throws
  // when unreachable.
  explicit Redis(const std::string& url);
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;
  // Runs a command; returns the reply as a string (integers in decimal, arrays
  // empty). Throws on connection errors and error replies.
  std::string Command(const std::vector<std::string>& args);
  // XADD stream * event <envelope>; returns the entry id.
  std::string Publish(std::string_view stream, const json::object& envelope);
  std::string PublishRaw(std::string_view stream, const std::vector<std::string>& fields);

  // Empties the database: FLUSHDB here, or on a cluster on every master (their
  // replicas follow), so that no node keeps keys of an earlier run.
  void FlushDb();
  bool IsCluster() const { return cluster_; }
  // Cluster only: "host:port" of the master serving `key`'s slot now.
  std::string NodeOf(const std::string& key);
  // The process id of the server this connection is on (INFO server).
  long ServerPid();

 private:
  void Connect(const std::string& host, int port);
  void ConnectAnySeed();
  std::string Run(const std::vector<std::string>& args);

  redisContext* ctx_ = nullptr;
  bool cluster_ = false;
  std::string addr_;  // host:port connected to
  std::vector<std::string> seeds_;
};

// {"id": <new uuid>, "type", "occurred_at": now (RFC 3339 ms), "data"}.
json::object Envelope(const std::string& type, json::object data,
                      std::optional<std::string> id = std::nullopt);

}  // namespace tchat::e2e
