#include "outcome_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/async.hpp>

namespace tchat::notification {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kDeleteDone = "DELETE FROM delivery_queue WHERE id = ANY($1::uuid[])";

constexpr std::string_view kReschedule = R"(
UPDATE delivery_queue q SET state = 'retry', attempts = q.attempts + v.inc::int,
  device_ids = v.d::uuid[], due_at = now() + v.ms::float8 * interval '1 millisecond',
  last_error = v.err
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, d, ms, err, inc)
WHERE q.id = v.id)";

constexpr std::string_view kDeadLetter = R"(
INSERT INTO dead_letters (id, channel, user_id, device_id, platform, payload, attempts, last_error,
                          event_id)
SELECT i::uuid, c, NULLIF(u, '')::uuid, NULLIF(d, '')::uuid, NULLIF(p, ''), pl::jsonb, a::int, e,
       NULLIF(ev, '')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[]) AS x(i, c, u, d, p, pl, a, e, ev))";

constexpr std::string_view kDeleteDevices = "DELETE FROM devices WHERE id = ANY($1::uuid[])";

}  // namespace

void DeliveryOutcomes::Append(const DeliveryOutcomes& o) {
  done.Append(o.done);
  retry_id.Append(o.retry_id);
  retry_devices.Append(o.retry_devices);
  retry_ms.Append(o.retry_ms);
  retry_error.Append(o.retry_error);
  retry_inc.Append(o.retry_inc);
  dead_id.Append(o.dead_id);
  dead_channel.Append(o.dead_channel);
  dead_user.Append(o.dead_user);
  dead_device.Append(o.dead_device);
  dead_platform.Append(o.dead_platform);
  dead_payload.Append(o.dead_payload);
  dead_attempts.Append(o.dead_attempts);
  dead_error.Append(o.dead_error);
  dead_event.Append(o.dead_event);
  unregistered.Append(o.unregistered);
}

std::vector<pg::Statement> DeliveryOutcomes::Statements() const {
  std::vector<pg::Statement> st;
  if (done.size() > 0) st.push_back(pg::Statement::Of(kDeleteDone, done.str()));
  if (retry_id.size() > 0) {
    st.push_back(pg::Statement::Of(kReschedule, retry_id.str(), retry_devices.str(), retry_ms.str(),
                                   retry_error.str(), retry_inc.str()));
  }
  if (dead_id.size() > 0) {
    st.push_back(pg::Statement::Of(kDeadLetter, dead_id.str(), dead_channel.str(), dead_user.str(),
                                   dead_device.str(), dead_platform.str(), dead_payload.str(),
                                   dead_attempts.str(), dead_error.str(), dead_event.str()));
  }
  if (unregistered.size() > 0) {
    st.push_back(pg::Statement::Of(kDeleteDevices, unregistered.str()));
  }
  return st;
}

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
      auto r = co_await pool_.Pipeline(b->outcomes.Statements());
      b->status = r ? Ok() : Status(std::move(r).error());
    } catch (const std::exception& e) {
      // Whatever happens, the waiters are woken and later batches written.
      b->status = Error::Internal(std::string("recording outcomes: ") + e.what());
    }
    b->written.Set();
  }
  writing_ = false;
}

}  // namespace tchat::notification
