#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/pg/array.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::notification {

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

// Writes DeliveryOutcomes for one worker with at most one write in flight:
// what callers hand in while a write runs is merged and written next, in one
// pipeline. Under load a handful of round trips and one pooled connection
// record thousands of provider answers, where one write per group of sends
// would keep many connections busy (and, past the pool's idle limit, open and
// close a PostgreSQL backend for each). One per worker, used only on its
// executor; it must outlive every Write call.
class OutcomeWriter {
 public:
  OutcomeWriter(boost::asio::any_io_executor ex, pg::Pool& pool);

  // Queues `outcomes` and waits until they are written (together with others
  // queued meanwhile). An error means none of that write's rows changed: the
  // deliveries stay leased and are sent again after the lease (at least once).
  Task<Status> Write(DeliveryOutcomes outcomes);

 private:
  struct Batch;
  Task<void> Drain();

  boost::asio::any_io_executor ex_;
  pg::Pool& pool_;
  std::shared_ptr<Batch> next_;  // collecting while a write runs
  bool writing_ = false;
};

}  // namespace tchat::notification
