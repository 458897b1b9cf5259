#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/reader_connection.hpp>
#include <tchat/core/task.hpp>

#include "session_guard.hpp"

namespace tchat::messaging {

// Follows auth's event stream (tchat.events.auth) for session revocations and
// hands each one to `sink`, which passes it to every worker's SessionGuard. One
// per replica: every replica reads every entry itself (XREAD, no consumer group),
// so each closes its own sockets, within one round trip of the event reaching
// the stream. At start it reads back `remember` of history, so that a replica
// that was restarted still refuses tokens of sessions revoked meanwhile.
//
// Runs on one worker (a dedicated Redis connection for the blocking reads); not
// thread-safe.
class RevocationWatcher {
 public:
  using Sink = std::function<void(const Revocation&)>;

  RevocationWatcher(redis::RedisClient& redis, std::chrono::seconds remember, Sink sink,
                    std::function<bool()> stopping);

  Task<void> Run();
  // Shutdown: closes the blocking read's connection so that Run wakes and ends.
  // Call on the watcher's worker.
  void Stop();

 private:
  std::chrono::seconds remember_;
  Sink sink_;
  std::function<bool()> stopping_;
  redis::ReaderConnection reader_;
};

}  // namespace tchat::messaging
