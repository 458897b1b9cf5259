#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/task.hpp>

// Small coordination primitives for coroutines of ONE executor (a worker's
// io_context): no locks, not thread-safe.
namespace tchat::notification {

// Bounds how many operations run at once. Acquire waits (FIFO) for a free slot;
// every Acquire must be paired with one Release.
class AsyncLimiter {
 public:
  AsyncLimiter(boost::asio::any_io_executor ex, int slots) : ex_(std::move(ex)), free_(slots) {}

  // Takes a free slot at once, without a coroutine; false when none is free.
  bool TryAcquire() {
    if (free_ <= 0) return false;
    --free_;
    return true;
  }
  Task<void> Acquire() {
    if (free_ > 0) {
      --free_;
      co_return;
    }
    auto t = std::make_shared<boost::asio::steady_timer>(
        ex_, std::chrono::steady_clock::time_point::max());
    waiters_.push_back(t);
    // Woken by Release (cancel), which hands this waiter the slot.
    (void)co_await t->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void Release() {
    if (!waiters_.empty()) {
      auto t = std::move(waiters_.front());
      waiters_.pop_front();
      t->cancel();
      return;
    }
    ++free_;
  }
  int free() const { return free_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  boost::asio::any_io_executor ex_;
  int free_;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

// Waits until a set of spawned coroutines has finished: Add before spawning,
// Done when each ends, co_await Wait().
class WaitGroup {
 public:
  explicit WaitGroup(boost::asio::any_io_executor ex)
      : timer_(ex, std::chrono::steady_clock::time_point::max()) {}
  void Add(int n = 1) { pending_ += n; }
  void Done() {
    if (--pending_ == 0) timer_.cancel();
  }
  Task<void> Wait() {
    while (pending_ > 0) {
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      (void)co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

 private:
  boost::asio::steady_timer timer_;
  int pending_ = 0;
};

// Sleeps that an earlier deadline can shorten: a loop waits with WaitUntil, and
// others call Wake(at) to have it run by `at`.
class Alarm {
 public:
  explicit Alarm(boost::asio::any_io_executor ex) : timer_(ex) {}
  Task<void> WaitUntil(std::chrono::steady_clock::time_point at) {
    timer_.expires_at(at);
    (void)co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void Wake(std::chrono::steady_clock::time_point at) {
    if (at < timer_.expiry()) timer_.expires_at(at);  // cancels the current wait
  }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace tchat::notification
