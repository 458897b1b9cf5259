// The coroutine primitives of async.hpp, driven on one io_context. Coroutines
// take their state as parameters (a capturing lambda would be gone before the
// coroutine resumes).
#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/core/async.hpp>

namespace tchat {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

void Spawn(asio::io_context& io, Task<void> t) {
  asio::co_spawn(io, std::move(t), asio::detached);
}

// Runs what is ready; a context that ran out of work is restarted first.
void Poll(asio::io_context& io) {
  io.restart();
  io.poll();
}

Task<void> WaitThenLog(AsyncEvent& ev, std::vector<int>& log, int id) {
  co_await ev.Wait();
  log.push_back(id);
}

Task<void> CountTwoNotifications(AsyncEvent& ev, int& wakes) {
  co_await ev.WaitNotified();
  ++wakes;
  co_await ev.WaitNotified();
  ++wakes;
}

Task<void> AcquireThenLog(AsyncLimiter& limiter, std::vector<int>& log, int id) {
  co_await limiter.Acquire();
  log.push_back(id);
}

Task<void> WaitGroupThenFlag(WaitGroup& wg, bool& done) {
  co_await wg.Wait();
  done = true;
}

Task<void> AlarmThenFlag(Alarm& alarm, SteadyClock::time_point at, bool& done) {
  co_await alarm.WaitUntil(at);
  done = true;
}

Task<void> SleepThenFlag(std::chrono::milliseconds d, bool& done) {
  co_await Sleep(d);
  done = true;
}

TEST(AsyncEvent, SetWakesEveryWaiterAndLaterWaitsReturnAtOnce) {
  asio::io_context io;
  AsyncEvent ev(io.get_executor());
  std::vector<int> woke;
  for (int i = 0; i < 3; ++i) Spawn(io, WaitThenLog(ev, woke, i));
  Poll(io);
  EXPECT_TRUE(woke.empty());
  EXPECT_FALSE(ev.is_set());
  ev.Set();
  Poll(io);
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
  Spawn(io, WaitThenLog(ev, woke, 9));
  Poll(io);
  EXPECT_EQ(woke.back(), 9);
  ev.Reset();
  EXPECT_FALSE(ev.is_set());
  Spawn(io, WaitThenLog(ev, woke, 10));
  Poll(io);
  EXPECT_EQ(woke.back(), 9);  // waits again after Reset
  ev.Set();
  Poll(io);
  EXPECT_EQ(woke.back(), 10);
}

TEST(AsyncEvent, NotifyAllWakesWaitNotifiedOnce) {
  asio::io_context io;
  AsyncEvent ev(io.get_executor());
  int wakes = 0;
  Spawn(io, CountTwoNotifications(ev, wakes));
  Poll(io);
  EXPECT_EQ(wakes, 0);
  ev.NotifyAll();
  Poll(io);
  EXPECT_EQ(wakes, 1);
  EXPECT_FALSE(ev.is_set());
  ev.NotifyAll();
  Poll(io);
  EXPECT_EQ(wakes, 2);
}

TEST(AsyncLimiter, BoundsConcurrencyAndHandsSlotsOverInOrder) {
  asio::io_context io;
  AsyncLimiter limiter(io.get_executor(), 2);
  std::vector<int> started;
  for (int i = 0; i < 4; ++i) Spawn(io, AcquireThenLog(limiter, started, i));
  Poll(io);
  EXPECT_EQ(started, (std::vector<int>{0, 1}));
  EXPECT_EQ(limiter.free(), 0);
  EXPECT_EQ(limiter.waiting(), 2u);
  EXPECT_FALSE(limiter.TryAcquire());
  limiter.Release();
  Poll(io);
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2}));
  limiter.Release();
  Poll(io);
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2, 3}));
  limiter.Release();
  limiter.Release();
  EXPECT_EQ(limiter.free(), 2);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.free(), 1);
}

TEST(WaitGroup, WaitEndsWhenTheLastTaskIsDone) {
  asio::io_context io;
  WaitGroup wg(io.get_executor());
  bool waited = false;
  wg.Add(2);
  Spawn(io, WaitGroupThenFlag(wg, waited));
  Poll(io);
  wg.Done();
  Poll(io);
  EXPECT_FALSE(waited);
  EXPECT_EQ(wg.pending(), 1);
  wg.Done();
  Poll(io);
  EXPECT_TRUE(waited);
}

TEST(Alarm, AnEarlierWakeEndsTheWait) {
  asio::io_context io;
  Alarm alarm(io.get_executor());
  bool woke = false;
  Spawn(io, AlarmThenFlag(alarm, SteadyClock::now() + 1h, woke));
  Poll(io);
  EXPECT_FALSE(woke);
  alarm.Wake(SteadyClock::now() + 2h);  // later than the alarm: changes nothing
  Poll(io);
  EXPECT_FALSE(woke);
  alarm.Wake(SteadyClock::now());
  io.restart();
  io.run_for(10s);  // returns as soon as the coroutine has finished
  EXPECT_TRUE(woke);
}

TEST(Sleep, ResumesAfterTheDelay) {
  asio::io_context io;
  bool done = false;
  const auto start = SteadyClock::now();
  Spawn(io, SleepThenFlag(20ms, done));
  Poll(io);
  EXPECT_FALSE(done);
  io.restart();
  io.run();
  EXPECT_TRUE(done);
  EXPECT_GE(SteadyClock::now() - start, 20ms);
}

}  // namespace
}  // namespace tchat
