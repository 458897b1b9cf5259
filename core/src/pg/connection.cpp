#include <cerrno>
#include <charconv>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>
#include <libpq-fe.h>
#include <sys/socket.h>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/connection.hpp>

// GCC 12 at -O2 misreports the delete of Asio's coroutine frames in large
// coroutines as mismatched (GCC bug 109224, a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace tchat::pg {
namespace {

namespace asio = boost::asio;
using asio::posix::descriptor_base;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Dynamic SQL beyond this many distinct statements runs unprepared instead of
// growing the server-side cache without bound.
constexpr std::size_t kMaxCachedStatements = 512;

// "tchat_<n>": the server-side name of cached statement n.
struct StatementName {
  explicit StatementName(std::uint32_t id) {
    std::memcpy(buf, "tchat_", 6);
    *std::to_chars(buf + 6, buf + sizeof buf - 1, id).ptr = '\0';
  }
  char buf[20];
};

bool Ok(ExecStatusType s) {
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

Error ResultError(const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  // The primary message only: DETAIL may quote row values (personal data).
  return DbError(state ? state : "", primary ? primary : PQresultErrorMessage(r));
}

// A lost connection reported after the server already said why (e.g. 57P01).
Error WithState(Error e, const std::optional<Error>& seen) {
  if (e.sqlstate.empty() && seen) e.sqlstate = seen->sqlstate;
  return e;
}

// libpq's message on one line ("...failed: Connection refused\n\tIs the server...").
std::string LibpqMessage(const PGconn* c) {
  std::string m;
  for (const char* p = c ? PQerrorMessage(c) : "out of memory"; *p; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (!space) {
      m.push_back(*p);
    } else if (!m.empty() && m.back() != ' ') {
      m.push_back(' ');
    }
  }
  if (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

// Server notices go to the structured log instead of libpq's default, stderr.
void OnNotice(void*, const PGresult* r) {
  const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string_view sev = severity ? severity : "";
  std::initializer_list<log::Field> fields = {{"severity", sev}, {"message", msg ? msg : ""}};
  if (sev == "WARNING" || sev == "FATAL" || sev == "PANIC") {
    log::Warn("database notice", fields);
  } else {
    log::Debug("database notice", fields);
  }
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, metrics::Counter* errors)
    : socket_(ex), timer_(ex), errors_(errors) {}

Connection::~Connection() {
  if (socket_.is_open()) socket_.release();  // libpq owns the fd
  if (conn_) PQfinish(conn_);
}

Task<Result<std::unique_ptr<Connection>>> Connection::Connect(asio::any_io_executor ex,
                                                              const std::string& conninfo,
                                                              std::chrono::milliseconds timeout,
                                                              metrics::Counter* errors) {
  std::unique_ptr<Connection> c(new Connection(ex, errors));
  const char* const keys[] = {"dbname", nullptr};
  const char* const values[] = {conninfo.c_str(), nullptr};
  c->conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (!c->conn_ || PQstatus(c->conn_) == CONNECTION_BAD) {
    co_return c->Fail(Error::Unavailable("database connect failed: " + LibpqMessage(c->conn_)));
  }
  PQsetNoticeReceiver(c->conn_, OnNotice, nullptr);
  c->deadline_ = Clock::now() + timeout;
  // libpq may switch sockets while connecting (several addresses, SSL retry), and
  // a new socket can reuse the old number: register the fd afresh for each wait.
  for (PostgresPollingStatusType st = PGRES_POLLING_WRITING;;) {
    if (st == PGRES_POLLING_OK) break;
    if (st == PGRES_POLLING_FAILED) {
      co_return c->Fail(Error::Unavailable("database connect failed: " + LibpqMessage(c->conn_)));
    }
    boost::system::error_code ec;
    c->socket_.assign(PQsocket(c->conn_), ec);
    if (ec) co_return c->Fail(Error::Unavailable("database connect failed: " + ec.message()));
    Status ready = co_await c->Wait(st == PGRES_POLLING_READING ? descriptor_base::wait_read
                                                                : descriptor_base::wait_write);
    c->socket_.release();
    if (!ready) {
      co_return Error::Unavailable("database connect failed: " + ready.error().message);
    }
    st = PQconnectPoll(c->conn_);
  }
  c->deadline_.reset();
  boost::system::error_code ec;
  if (PQsetnonblocking(c->conn_, 1) != 0) {
    co_return c->Fail(Error::Unavailable("database connect failed: " + LibpqMessage(c->conn_)));
  }
  c->socket_.assign(PQsocket(c->conn_), ec);
  if (ec) co_return c->Fail(Error::Unavailable("database connect failed: " + ec.message()));
  c->backend_pid_ = PQbackendPID(c->conn_);
  c->created_at_ = Clock::now();
  co_return std::move(c);
}

Error Connection::Fail(Error e, bool count) {
  if (!broken_ && count && errors_) errors_->Inc();
  broken_ = true;
  return e;
}

Error Connection::Lost() {
  // Keep the server's SQLSTATE when it said why (57P01 admin shutdown, ...). Once
  // the connection is bad libpq has dropped the socket, so PQgetResult cannot block.
  std::string state;
  for (int i = 0; i < 8 && conn_ && PQstatus(conn_) == CONNECTION_BAD; ++i) {
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (s && state.empty()) state = s;
    PQclear(r);
  }
  Error e = Error::Unavailable("database connection lost: " + LibpqMessage(conn_));
  e.sqlstate = std::move(state);
  return Fail(std::move(e));
}

Error Connection::SocketError(boost::system::error_code ec) {
  // Cancelled by the caller (e.g. its own timeout): the command is still in flight,
  // so the connection goes, but the server did nothing wrong: not counted.
  return Fail(Error::Unavailable("database socket: " + ec.message()),
              ec != asio::error::operation_aborted);
}

Error Connection::SendFailed() {
  if (PQstatus(conn_) == CONNECTION_BAD) return Lost();
  return Error::Internal("database send failed: " + LibpqMessage(conn_));
}

bool Connection::CheckAlive() {
  if (broken_) return false;
  // Usually nothing is pending (EAGAIN): one syscall. A server that closed the
  // connection has usually sent a FATAL message first; libpq reads that as a
  // notice and would only see the EOF on the next read, so look twice.
  for (int i = 0; i < 2; ++i) {
    char byte;
    const ssize_t n = ::recv(PQsocket(conn_), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0 || !PQconsumeInput(conn_) || PQstatus(conn_) == CONNECTION_BAD) {
      (void)Lost();
      return false;
    }
  }
  return true;
}

bool Connection::InTransaction() const {
  return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

Task<Status> Connection::Wait(descriptor_base::wait_type w) {
  if (!deadline_) {
    auto [ec] = co_await socket_.async_wait(w, kAwait);
    if (ec) co_return SocketError(ec);
    co_return Status();
  }
  if (Clock::now() >= *deadline_)
    co_return Fail(Error::DeadlineExceeded("database deadline exceeded"));
  timer_.expires_at(*deadline_);
  auto [order, sock_ec, timer_ec] =
      co_await asio::experimental::make_parallel_group(socket_.async_wait(w, asio::deferred),
                                                       timer_.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) co_return Fail(Error::DeadlineExceeded("database deadline exceeded"));
  if (sock_ec) co_return SocketError(sock_ec);
  co_return Status();
}

// While libpq still has output queued the server may be blocked writing results
// to us (long pipelines), so wait for either direction and keep reading.
Task<Result<Connection::Ready>> Connection::WaitReadOrWrite() {
  if (deadline_ && Clock::now() >= *deadline_) {
    co_return Fail(Error::DeadlineExceeded("database deadline exceeded"));
  }
  timer_.expires_at(deadline_ ? *deadline_ : Clock::time_point::max());
  auto [order, read_ec, write_ec, timer_ec] =
      co_await asio::experimental::make_parallel_group(
          socket_.async_wait(descriptor_base::wait_read, asio::deferred),
          socket_.async_wait(descriptor_base::wait_write, asio::deferred),
          timer_.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 2) co_return Fail(Error::DeadlineExceeded("database deadline exceeded"));
  boost::system::error_code ec = order[0] == 0 ? read_ec : write_ec;
  if (ec) co_return SocketError(ec);
  co_return order[0] == 0 ? Ready::kRead : Ready::kWrite;
}

Task<Status> Connection::Flush() {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0) co_return Status();
    if (r < 0) co_return Lost();
    Result<Ready> ready = co_await WaitReadOrWrite();
    if (!ready) co_return std::move(ready).error();
    if (*ready == Ready::kRead && !PQconsumeInput(conn_)) co_return Lost();
  }
}

Task<Result<PGresult*>> Connection::Next() {
  while (PQisBusy(conn_)) {
    if (Status s = co_await Wait(descriptor_base::wait_read); !s) co_return std::move(s).error();
    if (!PQconsumeInput(conn_)) co_return Lost();
  }
  co_return PQgetResult(conn_);
}

Task<Result<PgResult>> Connection::Collect() {
  if (Status s = co_await Flush(); !s) co_return std::move(s).error();
  PgResult last;
  std::optional<Error> err;
  for (;;) {
    Result<PGresult*> next = co_await Next();
    if (!next) co_return WithState(std::move(next).error(), err);
    if (!*next) break;
    PgResult r(*next);
    if (Ok(PQresultStatus(*next))) {
      last = std::move(r);
    } else if (!err) {
      err = ResultError(*next);
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) co_return Lost();
  if (err) co_return std::move(*err);
  co_return std::move(last);
}

Task<Result<PgResult>> Connection::Execute(std::string_view sql, Params params) {
  if (broken_) co_return Error::Unavailable("database connection is broken");
  const int n = params.size();
  boost::container::small_vector<const char*, 8> values(static_cast<std::size_t>(n));
  params.Fill(values.data());

  auto it = statements_.find(sql);
  const bool fresh = it == statements_.end();
  if (fresh) {
    if (statements_.size() >= kMaxCachedStatements) {
      std::string text(sql);
      if (!PQsendQueryParams(conn_, text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)) {
        co_return SendFailed();
      }
      co_return co_await Collect();
    }
    it = statements_.emplace(std::string(sql), next_statement_++).first;
    if (!PQsendPrepare(conn_, StatementName(it->second).buf, it->first.c_str(), n, nullptr)) {
      statements_.erase(it);
      co_return SendFailed();
    }
    if (Result<PgResult> prepared = co_await Collect(); !prepared) {
      statements_.erase(it);
      co_return std::move(prepared).error();
    }
  }
  if (!PQsendQueryPrepared(conn_, StatementName(it->second).buf, n, values.data(), nullptr, nullptr,
                           0)) {
    co_return SendFailed();
  }
  Result<PgResult> r = co_await Collect();
  if (!r && !fresh && r.error().sqlstate == "0A000") {
    // "cached plan must not change result type": the schema changed under the
    // statement (a migration). Forget it and prepare afresh under a new name.
    statements_.erase(it);
    if (!InTransaction()) co_return co_await Execute(sql, std::move(params));
  }
  co_return r;
}

Task<Result<std::vector<PgResult>>> Connection::Pipeline(std::vector<Statement> statements) {
  if (broken_) co_return Error::Unavailable("database connection is broken");
  if (statements.empty()) co_return std::vector<PgResult>();
  if (!PQenterPipelineMode(conn_)) co_return SendFailed();
  // A half-sent pipeline cannot be resumed: any send failure retires the connection.
  auto abort = [this] {
    Error e = SendFailed();
    return broken_ ? e : Fail(std::move(e));
  };
  // What to expect back, in order: a Parse we sent (id of the statement) or an
  // execution (-1).
  std::vector<std::int64_t> expect;
  expect.reserve(statements.size() + 4);
  boost::container::small_vector<const char*, 8> values;
  std::size_t queued = 0;
  for (const Statement& st : statements) {
    const int n = st.params.size();
    values.resize(static_cast<std::size_t>(n));
    st.params.Fill(values.data());
    auto it = statements_.find(st.sql);
    int sent = 0;
    if (it == statements_.end() && statements_.size() >= kMaxCachedStatements) {
      std::string text(st.sql);
      sent = PQsendQueryParams(conn_, text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
    } else {
      if (it == statements_.end()) {
        it = statements_.emplace(std::string(st.sql), next_statement_++).first;
        expect.push_back(it->second);
        if (!PQsendPrepare(conn_, StatementName(it->second).buf, it->first.c_str(), n, nullptr)) {
          statements_.erase(it);
          co_return abort();
        }
      }
      sent = PQsendQueryPrepared(conn_, StatementName(it->second).buf, n, values.data(), nullptr,
                                 nullptr, 0);
    }
    if (!sent) co_return abort();
    expect.push_back(-1);
    // Once the socket is full libpq would retry send() on every later message; wait
    // for room instead.
    if (++queued % 64 == 0 && PQflush(conn_) != 0) {
      if (Status s = co_await Flush(); !s) co_return std::move(s).error();
    }
  }
  if (!PQpipelineSync(conn_)) co_return abort();
  if (Status s = co_await Flush(); !s) co_return std::move(s).error();

  std::vector<PgResult> out;
  out.reserve(statements.size());
  std::optional<Error> err;
  for (std::int64_t id : expect) {
    bool ok = false;
    for (;;) {
      Result<PGresult*> next = co_await Next();
      if (!next) co_return WithState(std::move(next).error(), err);
      if (!*next) break;
      PgResult r(*next);
      ExecStatusType status = PQresultStatus(*next);
      ok = Ok(status);
      if (id < 0 && ok) out.push_back(std::move(r));
      if (!ok && status != PGRES_PIPELINE_ABORTED && !err) err = ResultError(*next);
    }
    if (id >= 0 && !ok) {  // Parse failed or was skipped: not cached after all
      std::erase_if(statements_, [id](const auto& kv) { return kv.second == id; });
    }
  }
  Result<PGresult*> sync = co_await Next();
  if (!sync) co_return std::move(sync).error();
  bool synced = *sync && PQresultStatus(*sync) == PGRES_PIPELINE_SYNC;
  PQclear(*sync);
  if (!synced || !PQexitPipelineMode(conn_)) {
    if (PQstatus(conn_) == CONNECTION_BAD) co_return Lost();
    co_return Fail(Error::Internal("database pipeline out of step: " + LibpqMessage(conn_)));
  }
  if (err) co_return std::move(*err);
  co_return std::move(out);
}

Task<Status> Connection::Begin(IsolationLevel level) {
  std::string_view sql =
      level == IsolationLevel::kSerializable     ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
      : level == IsolationLevel::kRepeatableRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                                 : "BEGIN ISOLATION LEVEL READ COMMITTED";
  Result<PgResult> r = co_await Execute(sql, {});
  if (!r) co_return std::move(r).error();
  co_return Status();
}

Task<Status> Connection::Commit() {
  Result<PgResult> r = co_await Execute("COMMIT", {});
  if (!r) co_return std::move(r).error();
  if (r->CommandTag() == "ROLLBACK") {
    co_return Error::Internal("transaction rolled back: a statement in it failed");
  }
  co_return Status();
}

Task<Status> Connection::Rollback() {
  Result<PgResult> r = co_await Execute("ROLLBACK", {});
  if (!r) co_return std::move(r).error();
  co_return Status();
}

Task<Status> Connection::Ping(Clock::time_point deadline) {
  deadline_ = deadline;
  Result<PgResult> r = co_await Execute("SELECT 1", {});
  deadline_.reset();
  if (!r) co_return std::move(r).error();
  co_return Status();
}

}  // namespace tchat::pg
