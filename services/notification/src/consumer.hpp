#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"
#include "dispatcher.hpp"
#include "processor.hpp"

namespace tchat::notification {

// The streams this service consumes (docs/ARCHITECTURE.md, events).
inline const std::vector<std::string>& ConsumedStreams() {
  static const std::vector<std::string> kStreams = {std::string(events::kAuthStream),
                                                    std::string(events::kMessagingStream),
                                                    std::string(events::kPaymentStream)};
  return kStreams;
}

// Reads the streams with the consumer group `settings.group`, one consumer per
// worker ("<settings.consumer>-w<index>"), so that several workers and several
// processes share the load. Per batch: EventProcessor commits, then the entries
// are acknowledged (XACK), then the deliveries are handed to the Dispatcher. A
// failed batch stays pending and is read again (own pending entries first); a
// dead consumer's pending entries are taken over by XAUTOCLAIM once idle for
// claim_min_idle. One per worker; runs on its executor.
class StreamConsumers {
 public:
  StreamConsumers(redis::RedisClient& redis, EventProcessor& processor, Dispatcher& dispatcher,
                  const Config& settings, int worker_index);

  // One read loop per stream; returns when `stopping()` turns true.
  Task<void> Run(const std::string& stream, std::function<bool()> stopping);
  // XAUTOCLAIM every claim_interval over every stream.
  Task<void> ClaimLoop(std::function<bool()> stopping);
  // Gauges (stream lag, pending, queue depth), consumer clean-up and pruning of
  // processed_events. Run on one worker only.
  Task<void> MaintenanceLoop(pg::Pool& pool, std::function<bool()> stopping);

  const std::string& consumer() const { return consumer_; }

 private:
  // Processes and acknowledges one batch; false when it must be retried later.
  Task<bool> Handle(const std::string& stream, std::vector<redis::StreamEntry> entries);
  Task<void> Ack(const std::string& stream, const std::vector<std::string>& ids);

  redis::RedisClient& redis_;
  EventProcessor& processor_;
  Dispatcher& dispatcher_;
  const Config& settings_;
  std::string consumer_;
};

}  // namespace tchat::notification
