#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>

namespace tchat::pg {
namespace {
namespace asio = boost::asio;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}  // namespace

// An Acquire call queued for a connection; lives in that coroutine's frame. Release
// either hands it a connection or tells it a slot is free (conn stays empty), and
// cancels its timer to wake it; a timer that runs out means the pool is exhausted.
struct Pool::Waiter {
  Waiter(Pool* p, asio::any_io_executor ex) : pool(p), timer(std::move(ex)) {}
  ~Waiter() {
    if (pool && queued) {
      std::erase(pool->waiters_, this);
      pool->Publish();
    }
    if (conn) Lease(std::move(conn));  // frame torn down before it resumed
  }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  Pool* pool;
  asio::steady_timer timer;
  std::unique_ptr<Connection> conn;
  bool queued = false;
};

void Lease::Release() {
  if (!conn_) return;
  if (Pool* p = conn_->pool_) {
    p->Release(std::move(conn_));
  } else {
    conn_.reset();
  }
}

Pool::Pool(asio::any_io_executor ex, PoolOptions options)
    : ex_(std::move(ex)), options_(std::move(options)), rng_(std::random_device{}()) {
  auto& reg = metrics::Registry::Default();
  const std::string& svc = options_.service;
  const std::string& db = options_.database;
  errors_ = &reg.AddCounter("db_connection_errors_total",
                            "PostgreSQL connections that failed to open or were lost.",
                            {"service", "database"})
                 .With({svc, db});
  auto& conns = reg.AddGauge("db_pool_connections", "PostgreSQL pool connections by state.",
                             {"service", "database", "state"});
  idle_gauge_ = &conns.With({svc, db, "idle"});
  in_use_gauge_ = &conns.With({svc, db, "in_use"});
  waiting_gauge_ = &reg.AddGauge("db_pool_waiting", "Requests waiting for a pooled connection.",
                                 {"service", "database"})
                        .With({svc, db});
  idle_.reserve(static_cast<std::size_t>(std::max(options_.max_open, 0)));
  in_use_.reserve(static_cast<std::size_t>(std::max(options_.max_open, 0)));
}

Pool::~Pool() {
  for (Connection* c : in_use_) c->pool_ = nullptr;  // outstanding leases close theirs
  for (Waiter* w : waiters_) w->pool = nullptr;
  in_use_.clear();
  waiters_.clear();
  idle_.clear();
  open_ = 0;
  Publish();  // take this pool's share out of the shared gauges
}

PoolStats Pool::Stats() const {
  return PoolStats{open_, static_cast<int>(idle_.size()), static_cast<int>(in_use_.size()),
                   static_cast<int>(waiters_.size())};
}

void Pool::Publish() {
  PoolStats now = Stats();
  if (now.idle != published_.idle) idle_gauge_->Inc(now.idle - published_.idle);
  if (now.in_use != published_.in_use) in_use_gauge_->Inc(now.in_use - published_.in_use);
  if (now.waiting != published_.waiting) waiting_gauge_->Inc(now.waiting - published_.waiting);
  published_ = now;
}

bool Pool::Reusable(const Connection& c) const {
  if (c.broken() || c.InTransaction()) return false;
  return options_.max_lifetime.count() <= 0 ||
         Clock::now() - c.created_at() < options_.max_lifetime;
}

Lease Pool::Lend(std::unique_ptr<Connection> c) {
  c->pool_ = this;
  c->pool_index_ = in_use_.size();
  in_use_.push_back(c.get());
  Publish();
  return Lease(std::move(c));
}

void Pool::Untrack(Connection& c) {
  Connection* last = in_use_.back();
  in_use_[c.pool_index_] = last;
  last->pool_index_ = c.pool_index_;
  in_use_.pop_back();
  c.pool_ = nullptr;
}

void Pool::Close(std::unique_ptr<Connection> c) {
  --open_;
  c.reset();
  if (!waiters_.empty()) {  // a slot is free: let the first waiter dial
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->queued = false;
    w->timer.cancel();
  }
  Publish();
}

void Pool::Release(std::unique_ptr<Connection> c) {
  const bool reusable = Reusable(*c);
  if (reusable && !waiters_.empty()) {  // hand over; it stays in use
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->queued = false;
    w->conn = std::move(c);
    w->timer.cancel();
    Publish();
    return;
  }
  Untrack(*c);
  if (!reusable) {
    Close(std::move(c));
    return;
  }
  const Clock::time_point now = Clock::now();
  idle_.push_back(Idle{std::move(c), now});
  TrimIdle(now);
  Publish();
}

// Closes the idle connections beyond max_idle that have been unused for
// surplus_idle: the oldest returned first (Acquire takes the newest).
void Pool::TrimIdle(Clock::time_point now) {
  const auto keep = static_cast<std::size_t>(std::max(options_.max_idle, 0));
  std::size_t stale = 0;
  while (idle_.size() - stale > keep && now - idle_[stale].since >= options_.surplus_idle) {
    ++stale;
  }
  if (stale == 0) return;
  std::vector<std::unique_ptr<Connection>> closing;
  for (std::size_t i = 0; i < stale; ++i) closing.push_back(std::move(idle_[i].conn));
  idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(stale));
  for (auto& c : closing) Close(std::move(c));
}

Task<Result<Lease>> Pool::Acquire(std::optional<Clock::time_point> deadline) {
  const Clock::time_point until = deadline ? *deadline : Clock::now() + options_.acquire_timeout;
  TrimIdle(Clock::now());
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back().conn);
      idle_.pop_back();
      // CheckAlive notices a server that hung up while the connection sat idle.
      if (Reusable(*c) && c->CheckAlive()) co_return Lend(std::move(c));
      Close(std::move(c));
    }
    if (open_ < options_.max_open) {
      ++open_;
      std::chrono::milliseconds timeout = options_.connect_timeout;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        timeout = std::clamp(left, std::chrono::milliseconds(1), timeout);
      }
      Result<std::unique_ptr<Connection>> c =
          co_await Connection::Connect(ex_, options_.conninfo, timeout, errors_);
      if (!c) {
        if (Clock::now() - last_connect_log_ >= std::chrono::seconds(1)) {  // outage: no flood
          last_connect_log_ = Clock::now();
          log::Warn("database connect failed",
                    {{"database", options_.database}, {"error", c.error().message}});
        }
        Close(nullptr);
        co_return std::move(c).error();
      }
      co_return Lend(std::move(*c));
    }
    Waiter w(this, ex_);
    w.timer.expires_at(until);
    w.queued = true;
    waiters_.push_back(&w);
    Publish();
    (void)co_await w.timer.async_wait(kAwait);
    if (w.conn) co_return Lease(std::move(w.conn));
    if (w.queued) co_return Error::Unavailable("database pool exhausted");
    // Woken because a connection was closed: a slot is free, go round again.
  }
}

Task<Result<PgResult>> Pool::Execute(std::string_view sql, Params params) {
  Result<Lease> lease = co_await Acquire();
  if (!lease) co_return std::move(lease).error();
  co_return co_await (*lease)->Execute(sql, std::move(params));
}

Task<Result<std::vector<PgResult>>> Pool::Pipeline(std::vector<Statement> statements) {
  Result<Lease> lease = co_await Acquire();
  if (!lease) co_return std::move(lease).error();
  co_return co_await (*lease)->Pipeline(std::move(statements));
}

Task<Status> Pool::Ping(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Result<Lease> lease = co_await Acquire(deadline);
  if (!lease) co_return std::move(lease).error();
  co_return co_await (*lease)->Ping(deadline);
}

Task<void> Pool::Backoff(int attempt) {
  const int cap_ms = 5 << std::min(attempt, 4);  // 5, 10, 20, 40, 80 ms
  std::uniform_int_distribution<int> jitter(1, cap_ms);
  asio::steady_timer t(ex_, std::chrono::milliseconds(jitter(rng_)));
  (void)co_await t.async_wait(kAwait);
}

}  // namespace tchat::pg
