#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "delivery_store.hpp"

namespace tchat::notification {

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
