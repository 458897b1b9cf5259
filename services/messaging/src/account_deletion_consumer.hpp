#pragma once

#include <functional>
#include <string>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/reader_connection.hpp>
#include <tchat/core/task.hpp>

#include "conversation_store.hpp"

namespace tchat::messaging {

// Honours account deletion: reads auth's stream (tchat.events.auth) as consumer
// group "messaging" and, for each auth.user.deleted, runs
// ConversationStore::ForgetUser (messages anonymised, the user out of every
// conversation, blocks, search terms and uploads gone; docs/operations/
// account-deletion.md). Other auth events are acknowledged untouched (sockets of
// ended sessions are the RevocationWatcher's, which every replica runs). An
// entry is acknowledged only after its transaction committed; the event id in
// processed_events makes a redelivery change nothing. Entries another consumer
// left pending for a minute are claimed.
//
// Runs on one worker (its pool and Redis client); not thread-safe.
class AccountDeletionConsumer {
 public:
  AccountDeletionConsumer(redis::RedisClient& redis, ConversationStore& store,
                          std::string consumer_name, std::function<bool()> stopping);

  Task<void> Run();
  // Shutdown: closes the blocking read's connection so that Run wakes and ends.
  // Call on the consumer's worker.
  void Stop();

 private:
  // true: done with the entry (acknowledge it).
  Task<bool> Handle(const std::string* envelope_text);

  redis::RedisClient& redis_;
  ConversationStore& store_;
  std::string consumer_;
  std::function<bool()> stopping_;
  redis::ReaderConnection reader_;
};

}  // namespace tchat::messaging
