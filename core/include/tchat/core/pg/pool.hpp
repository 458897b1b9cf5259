#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/metrics.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/pg/params.hpp>
#include <tchat/core/pg/result.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::pg {

struct PoolOptions {
  std::string conninfo;  // libpq URI (DATABASE_URL)
  int max_open = 50;     // db_max_open_conns
  int max_idle = 10;     // db_max_idle_conns
  // Connections returned beyond max_idle stay idle for this long before they are
  // closed (at the pool's next Acquire or return): a load that keeps more than
  // max_idle busy reuses them instead of dialling (and planning) afresh per request.
  std::chrono::milliseconds surplus_idle = std::chrono::seconds(10);
  std::chrono::milliseconds max_lifetime = std::chrono::minutes(5);  // 0: unlimited
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds acquire_timeout = std::chrono::seconds(5);
  int transaction_retries = 5;  // extra attempts on 40001 / 40P01
  std::string service;          // metric labels
  std::string database;
};

struct PoolStats {
  int open = 0;  // idle + in use + being dialled
  int idle = 0;
  int in_use = 0;
  int waiting = 0;  // Acquire calls queued for a connection
};

// Exclusive use of one pooled connection; returns it to the pool when destroyed
// (or on Release()). Move-only, same thread as its pool. A lease may outlive its
// pool (e.g. a coroutine frame torn down at shutdown): the connection is closed.
class Lease {
 public:
  Lease() = default;
  explicit Lease(std::unique_ptr<Connection> c) : conn_(std::move(c)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& o) noexcept {
    Release();
    conn_ = std::move(o.conn_);
    return *this;
  }
  ~Lease() { Release(); }

  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }
  explicit operator bool() const { return conn_ != nullptr; }
  void Release();

 private:
  std::unique_ptr<Connection> conn_;
};

// A pool of PostgreSQL connections for one worker thread, bound to its executor.
// Not thread-safe: every call, and the destruction of leases, happens on that
// executor. Acquire hands out an idle connection (dropping any the server closed or
// older than max_lifetime), dials while fewer than max_open exist, and otherwise
// queues until a lease is returned or acquire_timeout passes (kUnavailable
// "database pool exhausted"). On return, connections past max_lifetime, broken, or
// left inside a transaction are closed; the idle ones beyond max_idle are closed
// once they have sat unused for surplus_idle (checked whenever the pool is used).
//
// Metrics (shared by the pools of all workers, which add their deltas):
// db_connection_errors_total{service,database},
// db_pool_connections{service,database,state="idle|in_use"},
// db_pool_waiting{service,database}.
//
// Destroy the pool only when no coroutine is running inside one of its calls;
// suspended coroutine frames may still be destroyed afterwards.
class Pool {
 public:
  using Clock = Connection::Clock;

  Pool(boost::asio::any_io_executor ex, PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits until `deadline` (default: now + acquire_timeout).
  Task<Result<Lease>> Acquire(std::optional<Clock::time_point> deadline = std::nullopt);

  // Acquire + Connection::Execute + release. `sql` must outlive the call.
  template <typename... Args>
  Task<Result<PgResult>> Query(std::string_view sql, const Args&... args) {
    return Execute(sql, Params::Of(args...));
  }
  Task<Result<PgResult>> Execute(std::string_view sql, Params params);
  Task<Result<std::vector<PgResult>>> Pipeline(std::vector<Statement> statements);

  // Runs `fn(Connection&) -> Task<Result<T>>` inside BEGIN ... COMMIT on one leased
  // connection. An error from fn rolls back and is returned. On serialization
  // failure or deadlock (from fn or COMMIT) the whole of fn runs again, up to
  // transaction_retries more times with a short jittered backoff. fn must therefore
  // be safe to repeat and keep its effects inside the transaction.
  template <typename Fn>
  std::invoke_result_t<Fn&, Connection&> Transaction(IsolationLevel level, Fn fn);

  // Acquire + SELECT 1, all within `timeout`; for readiness checks.
  Task<Status> Ping(std::chrono::milliseconds timeout);

  PoolStats Stats() const;
  const PoolOptions& options() const { return options_; }

 private:
  friend class Lease;
  struct Waiter;

  void Release(std::unique_ptr<Connection> c);
  Lease Lend(std::unique_ptr<Connection> c);
  void Untrack(Connection& c);
  void Close(std::unique_ptr<Connection> c);
  void TrimIdle(Clock::time_point now);
  bool Reusable(const Connection& c) const;
  void Publish();
  Task<void> Backoff(int attempt);
  static bool Retryable(const Error& e) { return e.IsSerializationFailure() || e.IsDeadlock(); }

  boost::asio::any_io_executor ex_;
  PoolOptions options_;
  struct Idle {
    std::unique_ptr<Connection> conn;
    Clock::time_point since;  // returned to the pool
  };
  std::vector<Idle> idle_;  // in the order returned: most recently used last
  std::vector<Connection*> in_use_;
  std::deque<Waiter*> waiters_;
  int open_ = 0;
  std::minstd_rand rng_;
  metrics::Counter* errors_;
  metrics::Gauge* idle_gauge_;
  metrics::Gauge* in_use_gauge_;
  metrics::Gauge* waiting_gauge_;
  PoolStats published_;
  Clock::time_point last_connect_log_;
};

template <typename Fn>
std::invoke_result_t<Fn&, Connection&> Pool::Transaction(IsolationLevel level, Fn fn) {
  using R = typename std::invoke_result_t<Fn&, Connection&>::value_type;  // Result<T>
  for (int attempt = 0;; ++attempt) {
    Result<Lease> lease = co_await Acquire();
    if (!lease) co_return std::move(lease).error();
    Connection& conn = **lease;
    Error err;
    if (Status begun = co_await conn.Begin(level); !begun) {
      err = std::move(begun).error();
    } else {
      R r = co_await fn(conn);
      if (r.ok()) {
        Status committed = co_await conn.Commit();
        if (committed.ok()) co_return std::move(r);
        err = std::move(committed).error();
      } else {
        err = std::move(r).error();
        if (!conn.broken()) (void)co_await conn.Rollback();
      }
    }
    if (!Retryable(err) || attempt >= options_.transaction_retries) co_return err;
    lease->Release();
    co_await Backoff(attempt);
  }
}

}  // namespace tchat::pg
