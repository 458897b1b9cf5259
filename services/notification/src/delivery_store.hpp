#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tchat/core/pg/array.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "processor.hpp"
#include "store.hpp"

// The SQL of delivery (Dispatcher, OutcomeWriter, the consumer's housekeeping):
// claiming due delivery_queue rows, the devices to send to, and what providers
// answered (database tchat_notification). Free functions over the worker's pool;
// same thread rules as pg::Pool.
namespace tchat::notification {

// Leases at most `limit` due rows (oldest due first, skipping rows others hold)
// for `lease_ms`: state 'sending', due again when the lease ends. The rows carry
// no lease_until: the caller sets it from its clock taken before the call.
Task<Result<std::vector<QueuedDelivery>>> ClaimDueDeliveries(pg::Pool& pool, int limit,
                                                             double lease_ms);

// The devices of `users` (without their times).
Task<Result<std::vector<Device>>> DevicesOfUsers(pg::Pool& pool,
                                                 const std::vector<std::string>& users);

// What senders learned from providers, as the rows to write: delivery_queue
// rows to delete (answered for every device) or to reschedule, dead letters,
// and devices whose token the provider calls unregistered. Columns are
// PostgreSQL array literals (see pg::ArrayBuilder) so that batches concatenate.
struct DeliveryOutcomes {
  pg::ArrayBuilder done;  // delivery ids
  // Reschedule: id, device ids (an array literal, NULL for SMS), delay in ms,
  // last error, attempts increment ("0" or "1").
  pg::ArrayBuilder retry_id, retry_devices, retry_ms, retry_error, retry_inc;
  // Dead letters: id, channel, user id, device id, platform, payload JSON,
  // attempts, error, event id.
  pg::ArrayBuilder dead_id, dead_channel, dead_user, dead_device, dead_platform, dead_payload,
      dead_attempts, dead_error, dead_event;
  pg::ArrayBuilder unregistered;  // device ids to delete

  bool empty() const {
    return done.size() == 0 && retry_id.size() == 0 && dead_id.size() == 0 &&
           unregistered.size() == 0;
  }
  void Append(const DeliveryOutcomes& other);
  // The writes, in one pipeline: at most four statements whatever the size.
  std::vector<pg::Statement> Statements() const;
};

// Writes `outcomes` (their Statements, one pipeline). An error means none of the
// rows changed.
Task<Status> WriteDeliveryOutcomes(pg::Pool& pool, const DeliveryOutcomes& outcomes);

// The number of delivery_queue rows per state (waiting, sending, retry).
struct QueueDepth {
  std::int64_t waiting = 0, sending = 0, retry = 0;
};
Task<Result<QueueDepth>> CountQueuedDeliveries(pg::Pool& pool);

}  // namespace tchat::notification
