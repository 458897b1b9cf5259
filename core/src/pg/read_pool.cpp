#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/read_pool.hpp>

namespace tchat::pg {
namespace {
namespace asio = boost::asio;
using Clock = ReplicaState::Clock;

std::int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::uint64_t ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// WAL positions as byte offsets (pg_lsn - '0/0' is numeric), and the cluster's
// identity: a replica of another cluster (the primary was re-created, e.g. by a
// restore) is never used, whatever its positions say.
constexpr std::string_view kPrimarySql =
    "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text, "
    "(SELECT system_identifier FROM pg_control_system())::text";
constexpr std::string_view kReplicaSql =
    "SELECT pg_is_in_recovery(), "
    "coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text, '0'), "
    "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, "
    "(SELECT system_identifier FROM pg_control_system())::text";

}  // namespace

ReplicaState::ReplicaState(ReplicaOptions options) : options_(std::move(options)) {
  auto& reg = metrics::Registry::Default();
  const std::string& svc = options_.service;
  const std::string& db = options_.database;
  available_ = &reg.AddGauge("db_replica_available",
                             "1 while reads may go to the PostgreSQL replica (reachable and "
                             "within DATABASE_REPLICA_MAX_LAG_MS), else 0.",
                             {"service", "database"})
                    .With({svc, db});
  lag_ = &reg.AddGauge("db_replica_lag_seconds",
                       "Upper bound of the PostgreSQL replica's staleness at the last check.",
                       {"service", "database"})
              .With({svc, db});
  auto& reads = reg.AddCounter("db_reads_total",
                               "Reads that may use the replica, by the server that answered.",
                               {"service", "database", "target"});
  reads_replica_ = &reads.With({svc, db, "replica"});
  reads_primary_ = &reads.With({svc, db, "primary"});
}

bool ReplicaState::Usable() const {
  if (!up_.load(std::memory_order_acquire)) return false;
  const auto age = std::chrono::nanoseconds(Nanos(Clock::now()) - checked_at_ns_.load());
  return age <= 3 * options_.check_interval;
}

void ReplicaState::Record(const ReplicaCheck& check) {
  const bool was = up_.load();
  checked_at_ns_.store(Nanos(Clock::now()));
  up_.store(check.usable, std::memory_order_release);
  available_->Set(check.usable ? 1 : 0);
  lag_->Set(check.lag_seconds);
  if (was != check.usable) {
    if (check.usable) {
      log::Info("reads use the PostgreSQL replica again",
                {{"database", options_.database}, {"lag_seconds", check.lag_seconds}});
    } else {
      log::Warn("reads fall back to the PostgreSQL primary",
                {{"database", options_.database}, {"reason", check.reason}});
    }
  }
}

void ReplicaState::MarkDown(std::string_view why) {
  if (up_.exchange(false)) {
    available_->Set(0);
    log::Warn("reads fall back to the PostgreSQL primary",
              {{"database", options_.database}, {"reason", std::string(why)}});
  }
}

std::chrono::milliseconds ReplicaState::PinWindow() const {
  // A check at most one interval old (plus its own duration, within another
  // interval) found the replica at most max_lag behind.
  return options_.max_lag + 2 * options_.check_interval;
}

void ReplicaState::Pin(std::string_view key) {
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  if (pins_.size() > 4096) std::erase_if(pins_, [&](const auto& kv) { return kv.second <= now; });
  pins_.insert_or_assign(std::string(key), now + PinWindow());
}

bool ReplicaState::Pinned(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = pins_.find(std::string(key));
  return it != pins_.end() && it->second > Clock::now();
}

ReadPool::ReadPool(Pool& primary, std::unique_ptr<Pool> replica,
                   std::shared_ptr<ReplicaState> state)
    : primary_(primary), replica_(std::move(replica)), state_(std::move(state)) {}

bool ReadPool::ReplicaBroken(const Error& e) {
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kDeadlineExceeded) return true;
  if (e.sqlstate.starts_with("08") || e.sqlstate.starts_with("57")) return true;
  return e.code == ErrorCode::kInternal && e.sqlstate.empty();  // e.g. "database send failed"
}

bool ReadPool::UseReplica(std::string_view pin_key) const {
  if (!replica_ || !state_->Usable()) return false;
  return pin_key.empty() || !state_->Pinned(pin_key);
}

// The primary's position first, then the replica's: a replica that has replayed
// up to a position the primary had at time t holds every commit made before t.
// The lag bound is the smaller of (now - the latest such t among the recent
// samples) and (now - the replica's last replayed commit time); 0 when it has
// replayed all the primary had at this check.
Task<Result<ReplicaCheck>> ReadPool::Measure() {
  const auto timeout = std::max(state_->options().check_interval, std::chrono::milliseconds(500));
  auto p = co_await primary_.Query(kPrimarySql);
  if (!p) co_return std::move(p).error();
  const auto sampled = Clock::now();
  auto lease = co_await replica_->Acquire(Clock::now() + timeout);
  if (!lease) co_return std::move(lease).error();
  auto r = co_await (*lease)->Query(kReplicaSql);
  if (!r) co_return std::move(r).error();
  const std::uint64_t primary_lsn = ParseU64(p->GetString(0, 0));
  const std::uint64_t replay_lsn = ParseU64(r->GetString(0, 1));
  auto& samples = state_->samples();
  samples.emplace_back(sampled, primary_lsn);
  while (samples.size() > 64) samples.pop_front();

  ReplicaCheck c;
  if (!r->GetBool(0, 0)) {
    c.reason = "the replica is not in recovery (promoted?)";
  } else if (r->GetString(0, 3) != p->GetString(0, 1)) {
    c.reason = "the replica belongs to another cluster than the primary";
  } else {
    double lag = std::numeric_limits<double>::infinity();
    const auto now = Clock::now();
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
      if (it->second <= replay_lsn) {
        lag = it == samples.rbegin() ? 0.0 : std::chrono::duration<double>(now - it->first).count();
        break;
      }
    }
    if (!r->IsNull(0, 2)) lag = std::min(lag, std::max(0.0, r->GetDouble(0, 2)));
    c.lag_seconds = std::isinf(lag) ? -1 : lag;
    const double max = std::chrono::duration<double>(state_->options().max_lag).count();
    c.usable = !std::isinf(lag) && lag <= max;
    if (!c.usable) c.reason = "the replica lags more than DATABASE_REPLICA_MAX_LAG_MS";
  }
  co_return c;
}

Task<ReplicaCheck> ReadPool::CheckReplica() {
  ReplicaCheck c;
  if (!replica_) {
    c.reason = "no replica configured";
    co_return c;
  }
  auto m = co_await Measure();
  if (m) {
    c = std::move(*m);
  } else {
    c.reason = "replica check failed: " + m.error().message;
  }
  state_->Record(c);
  co_return c;
}

Task<void> ReadPool::RunChecks(std::function<bool()> stopping) {
  if (!replica_) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping()) {
    (void)co_await CheckReplica();
    timer.expires_after(state_->options().check_interval);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tchat::pg
