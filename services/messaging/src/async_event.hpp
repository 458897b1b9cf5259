#pragma once

#include <chrono>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/task.hpp>

namespace tchat::messaging {

// A one-thread "manual reset event" for coroutines: Wait() suspends until Set()
// (or returns at once when already set). The timer is created on first wait, so an
// event nobody waits on costs a few bytes. Not thread-safe: one executor.
class AsyncEvent {
 public:
  explicit AsyncEvent(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}

  void Set() {
    set_ = true;
    if (timer_) timer_->cancel();
  }
  void Reset() { set_ = false; }
  bool is_set() const { return set_; }

  // Any number of coroutines may wait; Set() wakes them all. The timer's expiry
  // is set once (to "never") and cancel() is the wake-up, so waiters never disturb
  // one another.
  Task<void> Wait() {
    while (!set_) {
      if (!timer_) {
        timer_.emplace(ex_);
        timer_->expires_at(std::chrono::steady_clock::time_point::max());
      }
      (void)co_await timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

  // Condition-variable style: WaitNotified() returns after the next NotifyAll()
  // (callers re-check their own condition in a loop).
  void NotifyAll() {
    if (timer_) timer_->cancel();
  }
  Task<void> WaitNotified() {
    if (!timer_) {
      timer_.emplace(ex_);
      timer_->expires_at(std::chrono::steady_clock::time_point::max());
    }
    (void)co_await timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

 private:
  boost::asio::any_io_executor ex_;
  std::optional<boost::asio::steady_timer> timer_;
  bool set_ = false;
};

}  // namespace tchat::messaging
