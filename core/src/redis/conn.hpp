#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/metrics.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "protocol.hpp"

namespace tchat::redis::detail {

// A one-shot wake-up slot living in the frame of the coroutine that waits on it.
// Wake() resumes that coroutine inline, on the current (the executor's) thread.
// (std::optional because any_completion_handler's move assignment recurses
// forever in Boost 1.81; only its move constructor is used.)
struct Waiter {
  std::optional<boost::asio::any_completion_handler<void()>> handler;

  void Wake() {
    if (!handler) return;
    boost::asio::any_completion_handler<void()> h(std::move(*handler));
    handler.reset();
    std::move(h)();
  }
};

// co_await Suspend(w) parks the calling coroutine until w.Wake().
inline auto Suspend(Waiter& waiter) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
      [&waiter](auto handler) { waiter.handler.emplace(std::move(handler)); },
      boost::asio::use_awaitable);
}

// "tchat:<service><suffix>" with anything CLIENT SETNAME refuses replaced.
std::string ClientName(std::string_view service, std::string_view suffix);

// The counter every Redis connection failure goes to.
metrics::Counter& ConnectionErrors(const std::string& service);

// One TCP connection to Redis, pipelined: commands are appended to an output
// buffer that a single write at a time flushes, and replies are matched to
// waiting calls in FIFO order. A watchdog timer enforces the write timeout and
// the read timeout of the oldest outstanding call; any I/O error, timeout or
// protocol error closes the connection and fails every outstanding call with
// kUnavailable. A closed connection stays closed.
//
// In push mode (pub/sub) every reply goes to the push handler instead.
// Shared ownership: the reader and watchdog coroutines hold a reference until
// the connection closes. Used only on its executor.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  using Clock = std::chrono::steady_clock;

  Conn(boost::asio::any_io_executor executor, const RedisOptions& options,
       metrics::Counter* errors);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // Resolves, connects, authenticates, selects the database and names the
  // client, all within options.dial_timeout. Failures are kUnavailable.
  static Task<Result<std::shared_ptr<Conn>>> Dial(boost::asio::any_io_executor executor,
                                                  const RedisOptions& options,
                                                  const RedisEndpoint& endpoint,
                                                  std::string client_name,
                                                  metrics::Counter* errors);

  // One command; `extra` lengthens the read deadline (blocking commands).
  Task<Result<RedisReply>> Exec(RedisArgs args, std::chrono::milliseconds extra = {});
  // Several commands in one write; error replies stay in the vector.
  Task<Result<std::vector<RedisReply>>> ExecPipeline(const RedisBatch& batch);

  // Push mode: replies go to `handler` (which may Close()). Set before Send().
  void SetPushHandler(std::function<void(RedisReply&)> handler) {
    push_handler_ = std::move(handler);
  }
  // Called once when the connection closes, deliberately or not.
  void SetCloseHandler(std::function<void()> handler) { close_handler_ = std::move(handler); }
  // Queues a command whose reply arrives through the push handler.
  void Send(RedisArgs args);

  // Closes deliberately (not counted as an error).
  void Close();
  // Closes because something went wrong: counted and logged (once the
  // handshake is done; Dial reports its own failures).
  void Fail(Error error);

  bool open() const { return !closed_; }
  // Commands sent or queued whose replies have not arrived.
  std::size_t in_flight() const { return in_flight_; }

 private:
  // A caller waiting for `count` replies, in its own frame.
  struct Call {
    Waiter waiter;
    RedisReply* replies = nullptr;
    std::size_t count = 0;
    std::size_t filled = 0;
    std::optional<Error> error;
  };
  struct Pending {
    Call* call;
    Clock::time_point deadline;
  };

  void Start();
  void Enqueue(Call& call, std::chrono::milliseconds extra);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  void Arm(Clock::time_point deadline);
  void Deliver(RedisReply& reply);
  void Shut(Error error, bool count);
  // For a teardown of the event loop with this connection still open: forgets
  // the callers waiting for replies without resuming them (see ReadLoop).
  void AbandonWaiters();
  Task<void> ReadLoop(std::shared_ptr<Conn> keep_alive);
  Task<void> Watchdog(std::shared_ptr<Conn> keep_alive);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer watchdog_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  metrics::Counter* errors_;
  ReplyReader reader_;
  std::deque<Pending> pending_;
  std::size_t in_flight_ = 0;
  std::string out_;   // queued, not yet written
  std::string wbuf_;  // being written
  bool writing_ = false;
  bool closed_ = false;
  bool established_ = false;  // handshake done; before that Dial reports failures
  Clock::time_point write_deadline_ = Clock::time_point::max();
  Error error_;  // why it closed
  std::function<void(RedisReply&)> push_handler_;
  std::function<void()> close_handler_;
  std::array<char, 16 * 1024> rbuf_;
};

}  // namespace tchat::redis::detail
