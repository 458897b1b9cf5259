#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <tchat/core/async.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"
#include "outcome_writer.hpp"
#include "processor.hpp"
#include "provider.hpp"

namespace tchat::notification {

// Chooses the push provider for a device's platform.
class PushRouter {
 public:
  virtual ~PushRouter() = default;
  virtual PushProvider& For(std::string_view platform) = 0;
};

// The same provider for every platform (webhook, log).
class SinglePushRouter final : public PushRouter {
 public:
  explicit SinglePushRouter(std::unique_ptr<PushProvider> p) : p_(std::move(p)) {}
  PushProvider& For(std::string_view) override { return *p_; }

 private:
  std::unique_ptr<PushProvider> p_;
};

// The delay before retry number `attempt` (1 = first retry): exponential from
// `base`, capped at `max`, with "equal jitter" (half fixed, half random) so that
// many failures do not retry in lock-step; never shorter than Retry-After.
std::chrono::milliseconds RetryDelay(int attempt, std::chrono::milliseconds base,
                                     std::chrono::milliseconds max,
                                     std::optional<std::chrono::seconds> retry_after,
                                     std::minstd_rand& rng);

// Sends queued deliveries through the providers and records the outcome in
// PostgreSQL: delivered rows are deleted; failed devices are retried later with
// backoff (state 'retry', device_ids = those left, due_at = the backoff);
// permanent failures and exhausted retries become dead letters; tokens the
// provider calls unregistered are deleted. Also the poller that claims due rows
// (waiting collapse windows, retries, and rows whose sender's lease ran out).
// One per worker, used only on its executor.
class Dispatcher {
 public:
  Dispatcher(boost::asio::any_io_executor ex, pg::Pool& pool, PushRouter& push, SmsProvider& sms,
             const Config& settings);

  // Sends every delivery and records the outcomes. Never fails: database errors
  // are logged and the rows stay leased, so the poller picks them up again.
  Task<void> Deliver(std::vector<QueuedDelivery> rows);

  // Splits `rows` into small groups and starts one Deliver per group without
  // waiting: each group's outcome is recorded as soon as its own sends finish,
  // which keeps small what a crash can leave sent but unrecorded.
  void Dispatch(std::vector<QueuedDelivery> rows);

  // Claims up to `limit` due rows (state → sending, due_at → now + lease).
  Task<Result<std::vector<QueuedDelivery>>> ClaimDue(int limit);

  // Polls for due rows until `stopping()` is true. Wake() makes it look sooner.
  Task<void> PollLoop(std::function<bool()> stopping);
  void Wake(std::chrono::steady_clock::time_point at) { alarm_.Wake(at); }

  // Messages in flight to providers on this worker.
  int in_flight() const { return in_flight_; }
  // Deliver calls not finished yet. Any thread may read it (graceful shutdown
  // waits for zero so that no accepted push is left unrecorded).
  int active() const { return active_.load(std::memory_order_relaxed); }

 private:
  struct Target;
  struct Group;
  Task<void> SendOne(Target& t, WaitGroup& wg);

  boost::asio::any_io_executor ex_;
  pg::Pool& pool_;
  PushRouter& push_;
  SmsProvider& sms_;
  const Config& settings_;
  AsyncLimiter limiter_;
  Alarm alarm_;
  OutcomeWriter writer_;
  std::minstd_rand rng_;
  int in_flight_ = 0;
  std::atomic<int> active_{0};
};

}  // namespace tchat::notification
