#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"
#include "rules.hpp"
#include "store.hpp"

namespace tchat::notification {

// A delivery_queue row held by a sender (claimed, or just inserted in state
// 'sending').
struct QueuedDelivery {
  std::string id;
  std::string channel;  // push | sms
  std::string user_id;  // push only
  json::object payload;
  int msg_count = 1;
  std::optional<std::vector<std::string>> device_ids;  // nullopt: every device of the user
  int attempts = 0;
  std::string event_id;
  std::optional<std::vector<Device>> devices;  // targets when already loaded
  // Before this instant (taken just before the row was inserted or claimed, so
  // never later than the database's due_at) nobody else will claim the row.
  std::chrono::steady_clock::time_point lease_until{};
};

struct BatchResult {
  std::vector<std::string> ack_ids;  // every entry of the batch, once committed
  std::vector<QueuedDelivery> send_now;
  bool has_waiting = false;  // rows were added to the collapse window
};

// Turns a batch of stream entries into inbox entries and queued deliveries in ONE
// PostgreSQL transaction that also records the event ids (processed_events), so
// a redelivered entry changes nothing. Poison entries (unparseable, unknown type,
// bad data) are recorded in poison_events in the same transaction. Only after it
// commits may the caller acknowledge the entries and send `send_now`.
// One per worker; uses that worker's pool and Redis client.
class EventProcessor {
 public:
  EventProcessor(pg::Pool& pool, redis::RedisClient& redis, const Config& settings)
      : pool_(pool), redis_(redis), settings_(settings) {}

  // A database error fails the whole batch (nothing is committed): the caller
  // leaves the entries pending and tries again. kInvalidArgument means the
  // database refused some event's data: retry entry by entry (ProcessOne) so the
  // culprit alone becomes poison.
  Task<Result<BatchResult>> Process(std::string_view stream,
                                    const std::vector<redis::StreamEntry>& entries);

  // Records one entry as poison (after ProcessOne failed on its data).
  Task<Status> RecordPoison(std::string_view stream, const redis::StreamEntry& entry,
                            std::string_view reason);

 private:
  pg::Pool& pool_;
  redis::RedisClient& redis_;
  const Config& settings_;
};

}  // namespace tchat::notification
