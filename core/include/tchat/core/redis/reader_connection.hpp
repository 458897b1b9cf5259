#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

// The dedicated connection of a loop that blocks on stream reads (XREAD or
// XREADGROUP with BLOCK): dialled when the loop needs it and again after a
// failure, with a pause of `retry` between attempts (cut short when the loop is
// stopping). `what` names the loop in the log. Bound to the client's executor;
// not thread-safe.
//
//   ReaderConnection reader(redis, "payment consumer", stopping);
//   while (!stopping()) {
//     RedisConnection* conn = co_await reader.Get();
//     if (conn == nullptr) continue;  // no connection: waited; check stopping
//     auto read = co_await XRead(*conn, ...);
//     if (!read) { co_await reader.Failed(read.error()); continue; }
//     ...
//   }
class ReaderConnection {
 public:
  ReaderConnection(RedisClient& redis, std::string what, std::function<bool()> stopping,
                   std::chrono::milliseconds retry = std::chrono::seconds(1));

  // The open connection, dialled if needed; nullptr when dialling failed (logged,
  // then waited `retry`) or the loop is stopping.
  Task<RedisConnection*> Get();
  // After a failed command on the connection: drops it, logs the error (unless
  // stopping) and waits `retry`, so that the next Get() dials again.
  Task<void> Failed(const Error& error);
  // Waits `retry` in short steps, returning early when the loop is stopping.
  Task<void> Pause();
  // Shutdown: closes the connection so that a blocking read wakes at once.
  void Close();

 private:
  RedisClient& redis_;
  std::string what_;
  std::function<bool()> stopping_;
  std::chrono::milliseconds retry_;
  std::optional<RedisConnection> conn_;
};

}  // namespace tchat::redis
