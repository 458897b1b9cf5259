#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <tchat/core/metrics.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::pg {

struct ReplicaOptions {
  // DATABASE_REPLICA_MAX_LAG_MS: a replica further behind than this is skipped.
  std::chrono::milliseconds max_lag{1000};
  // DATABASE_REPLICA_CHECK_INTERVAL_MS: how often the lag is measured.
  std::chrono::milliseconds check_interval{250};
  std::string service;   // metric labels
  std::string database;  // the primary's database name
};

// What one check measured (ReadPool::CheckReplica).
struct ReplicaCheck {
  bool usable = false;
  double lag_seconds = -1;  // upper bound of the replica's staleness; -1: unknown
  std::string reason;       // why not usable
};

// Whether the replica may serve reads, shared by the ReadPools of every worker of
// a process (thread-safe). One worker measures (ReadPool::RunChecks); every
// worker reads the verdict. Also holds the read-after-write pins.
//
// Metrics: db_replica_available{service,database} (1/0),
// db_replica_lag_seconds{service,database}, db_reads_total{service,database,target}.
class ReplicaState {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ReplicaState(ReplicaOptions options);

  const ReplicaOptions& options() const { return options_; }
  // True while the last check (no older than 3 check intervals) found the replica
  // within max_lag and no read has failed on it since.
  bool Usable() const;
  void Record(const ReplicaCheck& check);
  void MarkDown(std::string_view why);  // a read failed on the replica

  // Read-after-write: reads under `key` (e.g. a user id) go to the primary for
  // PinWindow() after Pin(key). Once that passes, the replica had the write: it is
  // used only while a check at most one interval old found it no more than
  // max_lag behind.
  void Pin(std::string_view key);
  bool Pinned(std::string_view key) const;
  std::chrono::milliseconds PinWindow() const;

  void CountRead(bool replica) { (replica ? reads_replica_ : reads_primary_)->Inc(); }

  // The primary's WAL positions with the time each was read, newest last
  // (for the lag bound; used by the checking worker only).
  std::deque<std::pair<Clock::time_point, std::uint64_t>>& samples() { return samples_; }

 private:
  ReplicaOptions options_;
  std::atomic<bool> up_{false};
  std::atomic<std::int64_t> checked_at_ns_{0};
  metrics::Gauge* available_;
  metrics::Gauge* lag_;
  metrics::Counter* reads_replica_;
  metrics::Counter* reads_primary_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Clock::time_point> pins_;
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;
};

// Reads that may be served by a streaming replica, for one worker (same threading
// as Pool). Without a replica every read runs on the primary. With one, a read
// runs on the replica while ReplicaState::Usable() and its key is not pinned; if it
// fails there (replica down, or a row the replica does not have yet turned into an
// error), it runs again on the primary, so a replica outage costs no request. A
// connection failure on the replica also marks it down until the next good check.
// Writes never go through here: use primary().
class ReadPool {
 public:
  // `replica` may be null (no DATABASE_REPLICA_URL); `state` is shared by workers.
  ReadPool(Pool& primary, std::unique_ptr<Pool> replica, std::shared_ptr<ReplicaState> state);

  Pool& primary() { return primary_; }
  Pool* replica() { return replica_.get(); }
  bool has_replica() const { return replica_ != nullptr; }
  const std::shared_ptr<ReplicaState>& state() const { return state_; }

  // Runs `fn(Pool&) -> Task<Result<T>>` on the replica or the primary (above).
  // `pin_key` empty: not subject to pinning. fn must only read.
  template <typename Fn>
  std::invoke_result_t<Fn&, Pool&> Read(Fn fn, std::string_view pin_key = {});

  template <typename... Args>
  Task<Result<PgResult>> Query(std::string_view sql, const Args&... args) {
    Params p = Params::Of(args...);
    return Read([sql, p = std::move(p)](Pool& pool) { return pool.Execute(sql, p); });
  }

  // Measures the replica once and records the verdict in the shared state.
  Task<ReplicaCheck> CheckReplica();
  // Checks every check_interval until `stopping()`; run on one worker only.
  Task<void> RunChecks(std::function<bool()> stopping);

 private:
  bool UseReplica(std::string_view pin_key) const;
  // The replica (not the query) failed: connection lost or refused, timeout,
  // server shutting down (SQLSTATE 57P0x) or connection class 08.
  static bool ReplicaBroken(const Error& e);
  Task<Result<ReplicaCheck>> Measure();

  Pool& primary_;
  std::unique_ptr<Pool> replica_;
  std::shared_ptr<ReplicaState> state_;
};

template <typename Fn>
std::invoke_result_t<Fn&, Pool&> ReadPool::Read(Fn fn, std::string_view pin_key) {
  if (UseReplica(pin_key)) {
    auto r = co_await fn(*replica_);
    if (r.ok()) {
      state_->CountRead(true);
      co_return r;
    }
    if (ReplicaBroken(r.error())) state_->MarkDown(r.error().message);
  }
  state_->CountRead(false);
  co_return co_await fn(primary_);
}

}  // namespace tchat::pg
