#include "conn.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <tchat/core/log.hpp>

namespace tchat::redis::detail {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

std::string ClientName(std::string_view service, std::string_view suffix) {
  std::string name = "tchat:";
  name.append(service).append(suffix);
  for (char& c : name) {
    if (c <= ' ' || c > '~') c = '_';
  }
  return name;
}

metrics::Counter& ConnectionErrors(const std::string& service) {
  static auto& family = metrics::Registry::Default().AddCounter(
      "redis_connection_errors_total", "Redis connections lost or failed to open.", {"service"});
  return family.With({service});
}

Conn::Conn(asio::any_io_executor executor, const RedisOptions& options, metrics::Counter* errors)
    : socket_(executor),
      watchdog_(executor, Clock::time_point::max()),
      read_timeout_(options.read_timeout),
      write_timeout_(options.write_timeout),
      errors_(errors) {}

Conn::~Conn() = default;

Task<Result<std::shared_ptr<Conn>>> Conn::Dial(asio::any_io_executor executor,
                                               const RedisOptions& options,
                                               const RedisEndpoint& endpoint,
                                               std::string client_name, metrics::Counter* errors) {
  auto conn = std::make_shared<Conn>(executor, options, errors);
  const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);

  // The timer closes the socket (or fails the handshake) when the dial takes
  // too long; the state is shared because its callback may outlive this frame.
  struct DialState {
    explicit DialState(asio::any_io_executor ex) : resolver(ex), timer(ex) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto state = std::make_shared<DialState>(executor);
  state->timer.expires_after(options.dial_timeout);
  state->timer.async_wait([state, conn, where](const boost::system::error_code& ec) {
    if (ec) return;
    state->timed_out = true;
    state->resolver.cancel();
    conn->Shut(Error::Unavailable("redis dial " + where + ": timed out"), false);
  });
  auto fail = [&](std::string why) -> Result<std::shared_ptr<Conn>> {
    state->timer.cancel();
    Error error = Error::Unavailable(state->timed_out ? "redis dial " + where + ": timed out"
                                                      : "redis dial " + where + ": " + why);
    conn->Shut(error, false);
    if (errors != nullptr) errors->Inc();
    return error;
  };

  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(endpoint.host, ec), endpoint.port);
  if (!ec) {
    std::tie(ec) = co_await conn->socket_.async_connect(ep, kAsTuple);
  } else {
    auto [rec, results] = co_await state->resolver.async_resolve(
        endpoint.host, std::to_string(endpoint.port), kAsTuple);
    if (rec || state->timed_out) co_return fail(rec.message());
    std::tie(ec, std::ignore) = co_await asio::async_connect(conn->socket_, results, kAsTuple);
  }
  if (ec || state->timed_out) co_return fail(ec.message());
  conn->socket_.set_option(tcp::no_delay(true), ec);
  conn->Start();

  // AUTH, SELECT and CLIENT SETNAME in one round trip.
  RedisBatch handshake;
  std::vector<std::string_view> names;
  if (!endpoint.username.empty()) {
    handshake.Add("AUTH", endpoint.username, endpoint.password);
    names.push_back("AUTH");
  } else if (!endpoint.password.empty()) {
    handshake.Add("AUTH", endpoint.password);
    names.push_back("AUTH");
  }
  if (endpoint.db != 0) {
    handshake.Add("SELECT", std::to_string(endpoint.db));
    names.push_back("SELECT");
  }
  handshake.Add("CLIENT", "SETNAME", client_name);
  names.push_back("CLIENT SETNAME");
  auto replies = co_await conn->ExecPipeline(handshake);
  if (!replies) co_return fail(replies.error().message);
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const RedisReply& r = (*replies)[i];
    if (r.IsError()) co_return fail(std::string(names[i]) + ": " + r.str);
  }
  state->timer.cancel();
  if (state->timed_out || !conn->open()) co_return fail("connection closed during handshake");
  conn->established_ = true;
  co_return conn;
}

void Conn::Start() {
  auto ex = socket_.get_executor();
  asio::co_spawn(ex, ReadLoop(shared_from_this()), asio::detached);
  asio::co_spawn(ex, Watchdog(shared_from_this()), asio::detached);
}

Task<Result<RedisReply>> Conn::Exec(RedisArgs args, std::chrono::milliseconds extra) {
  if (closed_) co_return error_;
  RedisReply reply;
  Call call;
  call.replies = &reply;
  call.count = 1;
  AppendCommand(out_, args);
  Enqueue(call, extra);
  co_await Suspend(call.waiter);
  if (call.error) co_return std::move(*call.error);
  if (reply.IsError()) co_return Error::Internal(std::move(reply.str));
  co_return std::move(reply);
}

Task<Result<std::vector<RedisReply>>> Conn::ExecPipeline(const RedisBatch& batch) {
  if (closed_) co_return error_;
  std::vector<RedisReply> replies(batch.size());
  if (batch.empty()) co_return replies;
  Call call;
  call.replies = replies.data();
  call.count = replies.size();
  out_.append(batch.encoded());
  Enqueue(call, {});
  co_await Suspend(call.waiter);
  if (call.error) co_return std::move(*call.error);
  co_return replies;
}

void Conn::Send(RedisArgs args) {
  if (closed_) return;
  AppendCommand(out_, args);
  Flush();
}

void Conn::Enqueue(Call& call, std::chrono::milliseconds extra) {
  const auto deadline = Clock::now() + read_timeout_ + extra;
  pending_.push_back({&call, deadline});
  in_flight_ += call.count;
  if (pending_.size() == 1) Arm(deadline);
  Flush();
}

void Conn::Flush() {
  if (writing_ || out_.empty() || closed_) return;
  writing_ = true;
  wbuf_.swap(out_);
  write_deadline_ = Clock::now() + write_timeout_;
  Arm(write_deadline_);
  asio::async_write(socket_, asio::buffer(wbuf_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->OnWritten(ec);
                    });
}

void Conn::OnWritten(const boost::system::error_code& ec) {
  writing_ = false;
  write_deadline_ = Clock::time_point::max();
  wbuf_.clear();
  if (closed_) return;
  if (ec) return Fail(Error::Unavailable("redis write: " + ec.message()));
  Flush();
}

// Only ever moves the wake-up earlier; the watchdog recomputes the real next
// deadline whenever it wakes, so completed calls cost no timer operations.
void Conn::Arm(Clock::time_point deadline) {
  if (deadline < watchdog_.expiry()) watchdog_.expires_at(deadline);
}

Task<void> Conn::Watchdog(std::shared_ptr<Conn> /*keep_alive*/) {
  while (!closed_) {
    Clock::time_point next = write_deadline_;
    bool reading = !pending_.empty() && pending_.front().deadline < next;
    if (reading) next = pending_.front().deadline;
    if (next <= Clock::now()) {
      Fail(Error::Unavailable(reading ? "redis read timed out" : "redis write timed out"));
      co_return;
    }
    watchdog_.expires_at(next);
    co_await watchdog_.async_wait(kAsTuple);
  }
}

Task<void> Conn::ReadLoop(std::shared_ptr<Conn> /*keep_alive*/) {
  // This frame ends without the connection closing only when the event loop is
  // destroyed under it. A caller still waiting for a reply then holds its own
  // resumption handler in its frame, often along with this connection: a cycle
  // nothing else breaks (LeakSanitizer reports it at exit). Drop those callers.
  struct AbandonOnTeardown {
    Conn& conn;
    ~AbandonOnTeardown() {
      if (!conn.closed_) conn.AbandonWaiters();
    }
  } teardown{*this};
  while (!closed_) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(rbuf_), kAsTuple);
    if (closed_) co_return;
    if (ec) {
      Fail(Error::Unavailable(ec == asio::error::eof ? "redis closed the connection"
                                                     : "redis read: " + ec.message()));
      co_return;
    }
    if (!reader_.Feed(rbuf_.data(), n)) {
      Fail(Error::Unavailable("redis protocol error: " + std::string(reader_.error())));
      co_return;
    }
    while (RedisReply* reply = reader_.Next()) {
      Deliver(*reply);
      if (closed_) co_return;
    }
    if (!reader_.error().empty()) {
      Fail(Error::Unavailable("redis protocol error: " + std::string(reader_.error())));
      co_return;
    }
  }
}

void Conn::Deliver(RedisReply& reply) {
  if (push_handler_) return push_handler_(reply);
  if (pending_.empty()) return Fail(Error::Unavailable("redis sent a reply nobody asked for"));
  Call* call = pending_.front().call;
  call->replies[call->filled++] = std::move(reply);
  --in_flight_;
  if (call->filled == call->count) {
    pending_.pop_front();
    call->waiter.Wake();  // may run the caller, which may queue more or Close()
  }
}

void Conn::AbandonWaiters() {
  std::deque<Pending> pending;
  pending.swap(pending_);
  in_flight_ = 0;
  std::deque<asio::any_completion_handler<void()>> doomed;
  for (Pending& p : pending) {
    if (!p.call->waiter.handler) continue;
    doomed.emplace_back(std::move(*p.call->waiter.handler));
    p.call->waiter.handler.reset();
  }
  pending.clear();  // no pointer into the callers' frames is left...
  doomed.clear();   // ...when destroying the handlers destroys those frames
}

void Conn::Close() {
  Shut(Error::Unavailable("redis connection closed"), false);
}

void Conn::Fail(Error error) {
  if (closed_) return;
  if (established_) log::Warn("redis connection lost", {{"error", error.message}});
  Shut(std::move(error), established_);
}

void Conn::Shut(Error error, bool count) {
  if (closed_) return;
  closed_ = true;
  if (count && errors_ != nullptr) errors_->Inc();
  error_ = std::move(error);
  boost::system::error_code ignored;
  socket_.close(ignored);
  watchdog_.cancel();
  // Wake callers only after the state is final: they may call back into us.
  std::deque<Pending> pending;
  pending.swap(pending_);
  in_flight_ = 0;
  for (Pending& p : pending) {
    p.call->error = error_;
    p.call->waiter.Wake();
  }
  if (close_handler_) {
    auto handler = std::move(close_handler_);
    handler();
  }
}

}  // namespace tchat::redis::detail
