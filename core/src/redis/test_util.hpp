#pragma once

// Shared helpers of the redis_test cases that need a live server.

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <tchat/core/async.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis::testing {

// ASSERT_* returns, which a coroutine cannot; this co_returns instead.
#define CO_ASSERT_TRUE(cond)                     \
  if (!(cond)) {                                 \
    ADD_FAILURE() << "assertion failed: " #cond; \
    co_return;                                   \
  }

// The live server's URL; tests fail (not skip) without it.
inline std::string RedisUrl() {
  const char* url = std::getenv("TCHAT_TEST_REDIS_URL");
  return url != nullptr ? url : "";
}

#define REQUIRE_REDIS()                                                           \
  if (::tchat::redis::testing::RedisUrl().empty()) {                              \
    FAIL() << "TCHAT_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:56380/0)"; \
  }

inline RedisOptions TestOptions() {
  RedisOptions o;
  o.url = RedisUrl();
  o.service = "redis_test_" + std::to_string(::getpid());
  o.pool_size = 4;
  o.min_idle = 1;
  o.dial_timeout = std::chrono::seconds(2);
  o.read_timeout = std::chrono::seconds(3);
  o.write_timeout = std::chrono::seconds(3);
  return o;
}

// A key name private to this process and test.
inline std::string Key(std::string_view name) {
  return "tchat:redis_test:" + std::to_string(::getpid()) + ":" + std::string(name);
}

// Runs `body` on a fresh io_context until it and everything it started finish.
inline void RunAsync(std::function<Task<void>(boost::asio::any_io_executor)> body) {
  boost::asio::io_context ctx;
  bool finished = false;
  boost::asio::co_spawn(
      ctx,
      [&]() -> Task<void> {
        co_await body(ctx.get_executor());
        finished = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ctx.run();
  EXPECT_TRUE(finished);
}

using ::tchat::Sleep;

// A flag a test coroutine can wait for, with a timeout.
class Event {
 public:
  explicit Event(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  void Set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  // True when set before the timeout.
  Task<bool> Wait(std::chrono::milliseconds timeout) {
    if (set_) co_return true;
    timer_.expires_after(timeout);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return set_;
  }

 private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

// Polls `done` every 10 ms until it holds or `timeout` passes.
inline Task<bool> WaitUntil(std::function<bool()> done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    co_await Sleep(std::chrono::milliseconds(10));
  }
  co_return true;
}

}  // namespace tchat::redis::testing
