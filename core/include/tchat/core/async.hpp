#pragma once

// Coordination primitives for coroutines of ONE executor (a worker's
// io_context): no locks, not thread-safe; create and use each object on the
// executor it was given. Waits end by a timer's cancel(), so a waiter never
// holds a thread, and every waiter of a destroyed object is woken (with the
// operation aborted) by the timer's destructor.

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/task.hpp>

namespace tchat {

namespace async_detail {

inline constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);
inline constexpr auto kNever = std::chrono::steady_clock::time_point::max();

}  // namespace async_detail

// Suspends the calling coroutine for `d` on its own executor.
inline Task<void> Sleep(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  (void)co_await t.async_wait(async_detail::kAwait);
}

// A "manual reset event": Wait() suspends until Set() (or returns at once when
// already set); Set() wakes every waiter. Also a condition variable:
// WaitNotified() returns after the next NotifyAll() and callers re-check their
// own condition in a loop. The timer is made on the first wait, so an event
// that nobody waits on costs a few bytes.
class AsyncEvent {
 public:
  explicit AsyncEvent(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}

  void Set() {
    set_ = true;
    NotifyAll();
  }
  void Reset() { set_ = false; }
  bool is_set() const { return set_; }

  Task<void> Wait() {
    while (!set_) {
      if (!timer_) timer_.emplace(ex_, async_detail::kNever);
      (void)co_await timer_->async_wait(async_detail::kAwait);
    }
  }

  void NotifyAll() {
    if (timer_) timer_->cancel();
  }
  // The timer's expiry is set once (to "never") and cancel() is the wake-up, so
  // waiters never disturb one another.
  Task<void> WaitNotified() {
    if (!timer_) timer_.emplace(ex_, async_detail::kNever);
    (void)co_await timer_->async_wait(async_detail::kAwait);
  }

 private:
  boost::asio::any_io_executor ex_;
  std::optional<boost::asio::steady_timer> timer_;
  bool set_ = false;
};

// Bounds how many operations run at once. Acquire waits (FIFO) for a free slot;
// every successful TryAcquire or Acquire is paired with one Release.
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
    if (TryAcquire()) co_return;
    auto t = std::make_shared<boost::asio::steady_timer>(ex_, async_detail::kNever);
    waiters_.push_back(t);
    // Woken by Release (cancel), which hands this waiter the slot.
    (void)co_await t->async_wait(async_detail::kAwait);
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
      : timer_(std::move(ex), async_detail::kNever) {}
  void Add(int n = 1) { pending_ += n; }
  void Done() {
    if (--pending_ == 0) timer_.cancel();
  }
  int pending() const { return pending_; }
  Task<void> Wait() {
    while (pending_ > 0) {
      timer_.expires_at(async_detail::kNever);
      (void)co_await timer_.async_wait(async_detail::kAwait);
    }
  }

 private:
  boost::asio::steady_timer timer_;
  int pending_ = 0;
};

// A sleep that an earlier deadline can shorten: one loop waits with WaitUntil,
// others call Wake(at) to have it run by `at`.
class Alarm {
 public:
  explicit Alarm(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  Task<void> WaitUntil(std::chrono::steady_clock::time_point at) {
    timer_.expires_at(at);
    (void)co_await timer_.async_wait(async_detail::kAwait);
  }
  void Wake(std::chrono::steady_clock::time_point at) {
    if (at < timer_.expiry()) timer_.expires_at(at);  // cancels the current wait
  }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace tchat
