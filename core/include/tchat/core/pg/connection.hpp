#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/metrics.hpp>
#include <tchat/core/pg/params.hpp>
#include <tchat/core/pg/result.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

struct pg_conn;  // libpq's PGconn

namespace tchat::pg {

class Pool;

enum class IsolationLevel { kReadCommitted, kRepeatableRead, kSerializable };

// One non-blocking libpq connection driven by the event loop of its executor: the
// socket is watched with an Asio stream_descriptor (libpq owns the fd; it is
// released, never closed, by Asio). Statements are prepared on first use and
// cached per connection by SQL text, so repeated queries send only Bind/Execute.
//
// Threading: bound to one executor, not thread-safe. One command at a time: a
// caller must finish awaiting one call before starting the next (a Pool lease
// guarantees a single user). When the connection is lost, the command in flight
// fails with kUnavailable, db_connection_errors_total is incremented once, and
// broken() turns true for good; the pool then drops the connection and dials anew.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  // Dials `conninfo` (a libpq URI or key=value string; must outlive the call) and
  // completes within `timeout`. `errors` (may be null) counts connection failures.
  static Task<Result<std::unique_ptr<Connection>>> Connect(boost::asio::any_io_executor ex,
                                                           const std::string& conninfo,
                                                           std::chrono::milliseconds timeout,
                                                           metrics::Counter* errors);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with text parameters; `sql` must outlive the call.
  template <typename... Args>
  Task<Result<PgResult>> Query(std::string_view sql, const Args&... args) {
    return Execute(sql, Params::Of(args...));
  }
  Task<Result<PgResult>> Execute(std::string_view sql, Params params);

  // Sends every statement in one round trip (libpq pipeline mode) and returns one
  // result per statement, in order. Outside an explicit transaction the batch is
  // atomic: the first error is returned and nothing of the batch is kept.
  Task<Result<std::vector<PgResult>>> Pipeline(std::vector<Statement> statements);

  Task<Status> Begin(IsolationLevel level);
  // Fails (kInternal) if the server rolled back instead, i.e. a statement of the
  // transaction failed and the caller ignored it.
  Task<Status> Commit();
  Task<Status> Rollback();

  // SELECT 1 that fails with kDeadlineExceeded at `deadline` (the connection is then
  // unusable and counted as a connection error).
  Task<Status> Ping(Clock::time_point deadline);

  // Reads whatever the server sent while idle; false (and broken) if it hung up.
  bool CheckAlive();

  bool broken() const { return broken_; }
  bool InTransaction() const;
  int backend_pid() const { return backend_pid_; }
  Clock::time_point created_at() const { return created_at_; }
  std::size_t cached_statements() const { return statements_.size(); }

 private:
  friend class Pool;
  friend class Lease;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  enum class Ready { kRead, kWrite };

  Connection(boost::asio::any_io_executor ex, metrics::Counter* errors);
  Error Fail(Error e, bool count = true);  // marks broken, counts once, returns e
  Error Lost();  // Fail(kUnavailable) with libpq's message and any SQLSTATE
  Error SendFailed();
  Error SocketError(boost::system::error_code ec);
  Task<Status> Wait(boost::asio::posix::descriptor_base::wait_type w);
  Task<Result<Ready>> WaitReadOrWrite();
  Task<Status> Flush();
  Task<Result<pg_result*>> Next();  // next result, nullptr at the end of a command
  Task<Result<PgResult>> Collect();

  pg_conn* conn_ = nullptr;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer timer_;
  std::optional<Clock::time_point> deadline_;
  metrics::Counter* errors_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> statements_;
  std::uint32_t next_statement_ = 0;
  int backend_pid_ = 0;
  bool broken_ = false;
  Clock::time_point created_at_;
  Pool* pool_ = nullptr;        // set while leased from a pool
  std::size_t pool_index_ = 0;  // position in the pool's in-use list
};

}  // namespace tchat::pg
