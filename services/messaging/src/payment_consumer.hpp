#pragma once

#include <functional>
#include <optional>
#include <string>

#include <tchat/core/json.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/reader_connection.hpp>
#include <tchat/core/task.hpp>

#include "message_store.hpp"

namespace tchat::messaging {

class SendBatcher;

// Turns payment events (tchat.events.payment, consumer group "messaging") into
// payment messages in the conversation they name (docs/api/openapi.yaml, messaging;
// docs/ARCHITECTURE.md, events):
//   payment.transfer.completed   from the sender   {"kind":"transfer",...}
//   payment.request.created      from the requester {"kind":"request","status":"pending",...}
//   payment.request.paid|declined from the payer; .cancelled from the requester
// Transfers that pay a request are left to the request's own message. Each event
// posts at most one message: its client_msg_id is derived from the transfer or
// request and the status, so a redelivered event finds the original. An entry is
// acknowledged only after the message is committed (or the event is found to need
// none). Entries another consumer left pending for a minute are claimed.
//
// Runs on one worker (its batcher and Redis client); not thread-safe.
class PaymentConsumer {
 public:
  PaymentConsumer(redis::RedisClient& redis, SendBatcher& batcher, std::string consumer_name,
                  std::function<bool()> stopping);

  Task<void> Run();

  // Shutdown: closes the blocking read's connection, so that Run, parked in it,
  // wakes, sees stopping and ends. Call on the consumer's worker.
  void Stop();

  // The message an event asks for (nullopt: nothing to post). Exposed for tests.
  static std::optional<AppendRequest> MessageFor(std::string_view type, const json::object& data);

 private:
  // true: done with the entry (acknowledge it).
  Task<bool> Handle(const std::string* envelope_text);

  redis::RedisClient& redis_;
  SendBatcher& batcher_;
  std::string consumer_;
  std::function<bool()> stopping_;
  redis::ReaderConnection reader_;  // the blocking reads' own connection
};

}  // namespace tchat::messaging
