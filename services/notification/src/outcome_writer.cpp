#include "outcome_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/async.hpp>

namespace tchat::notification {

namespace asio = boost::asio;

// The outcomes of one write and the callers waiting for it.
struct OutcomeWriter::Batch {
  explicit Batch(const asio::any_io_executor& ex) : written(ex) {}
  DeliveryOutcomes outcomes;
  AsyncEvent written;  // set once `status` is final
  Status status = Ok();
};

OutcomeWriter::OutcomeWriter(asio::any_io_executor ex, pg::Pool& pool)
    : ex_(std::move(ex)), pool_(pool) {}

Task<Status> OutcomeWriter::Write(DeliveryOutcomes outcomes) {
  if (outcomes.empty()) co_return Ok();
  if (!next_) next_ = std::make_shared<Batch>(ex_);
  std::shared_ptr<Batch> mine = next_;
  mine->outcomes.Append(outcomes);
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(ex_, Drain(), asio::detached);
  }
  co_await mine->written.Wait();
  co_return mine->status;
}

Task<void> OutcomeWriter::Drain() {
  while (next_) {
    std::shared_ptr<Batch> b = std::move(next_);
    next_.reset();
    try {
      b->status = co_await WriteDeliveryOutcomes(pool_, b->outcomes);
    } catch (const std::exception& e) {
      // Whatever happens, the waiters are woken and later batches written.
      b->status = Error::Internal(std::string("recording outcomes: ") + e.what());
    }
    b->written.Set();
  }
  writing_ = false;
}

}  // namespace tchat::notification
