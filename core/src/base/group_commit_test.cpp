// GroupCommit (group_commit.hpp) over a fake batch function that takes a fixed
// time per commit: batching, linger, conflict keys, the one-by-one fallback and
// the hop to a home worker on another thread.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/core/async.hpp>
#include <tchat/core/group_commit.hpp>

namespace tchat {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using Commits = GroupCommit<int, int>;

// A batch function: each commit takes `took`; item i answers i * 10. A batch with
// a negative item fails as a whole; so does a negative item alone (its own
// error). -1000 throws. Records every call.
struct FakeStore {
  struct Call {
    std::vector<int> items;
    SteadyClock::time_point start;
    SteadyClock::time_point end;
    std::thread::id thread;
  };
  std::chrono::milliseconds took{5};
  std::vector<Call> calls;
  int short_answer_for = 0;  // a batch with this item answers one outcome short

  Task<Result<std::vector<int>>> Commit(std::span<int> items) {
    calls.push_back(
        {{items.begin(), items.end()}, SteadyClock::now(), {}, std::this_thread::get_id()});
    const std::size_t call = calls.size() - 1;
    co_await Sleep(took);
    calls[call].end = SteadyClock::now();
    std::vector<int> out;
    for (int i : items) {
      if (i == -1000) throw std::runtime_error("boom");
      if (i < 0) {
        if (items.size() > 1) co_return Error::Internal("bad batch");
        co_return Error::InvalidArgument("bad item " + std::to_string(i));
      }
      out.push_back(i * 10);
    }
    if (short_answer_for != 0 && items.size() > 1 &&
        std::find(items.begin(), items.end(), short_answer_for) != items.end()) {
      out.pop_back();
    }
    co_return out;
  }
};

struct Rig {
  explicit Rig(GroupCommitOptions o, Commits::Hooks hooks = {}) {
    commits = std::make_unique<Commits>(
        std::vector<Commits::Home>{Commits::Home{
            io.get_executor(), [this](std::span<int> items) { return store.Commit(items); },
            [this](const Commits::Report& r) {
              reports.push_back(
                  {r.items.size(), r.answers.size(), r.answers.empty() ? 0 : CountOk(r.answers)});
            }}},
        std::move(o), std::move(hooks));
  }
  static std::size_t CountOk(std::span<const Result<int>> answers) {
    std::size_t n = 0;
    for (const auto& a : answers) n += a ? 1 : 0;
    return n;
  }
  void Submit(int item) {
    commits->Submit(io.get_executor(), item, [this, item](Result<int> r) {
      order.push_back(item);
      if (r) {
        values.push_back(*r);
      } else {
        errors.push_back(r.error().message);
      }
    });
  }
  struct ReportSeen {
    std::size_t items, answers, ok;
  };
  asio::io_context io{1};
  FakeStore store;
  std::unique_ptr<Commits> commits;
  std::vector<int> order;  // answered items, in answer order
  std::vector<int> values;
  std::vector<std::string> errors;
  std::vector<ReportSeen> reports;
};

TEST(GroupCommit, ALoneItemGoesAtOnceAndTheNextBatchGathersMeanwhile) {
  Rig rig(GroupCommitOptions{});
  for (int i = 1; i <= 5; ++i) rig.Submit(i);
  rig.io.run_for(1s);
  ASSERT_EQ(rig.store.calls.size(), 2u);
  EXPECT_EQ(rig.store.calls[0].items, std::vector<int>({1}));
  EXPECT_EQ(rig.store.calls[1].items, std::vector<int>({2, 3, 4, 5}));
  EXPECT_EQ(rig.order, std::vector<int>({1, 2, 3, 4, 5}));
  EXPECT_EQ(rig.values, std::vector<int>({10, 20, 30, 40, 50}));
  ASSERT_EQ(rig.reports.size(), 2u);
  EXPECT_EQ(rig.reports[1].items, 4u);
  EXPECT_EQ(rig.reports[1].ok, 4u);
}

TEST(GroupCommit, BatchesAreCappedAtMaxBatch) {
  GroupCommitOptions o;
  o.max_batch = 3;
  Rig rig(o);
  for (int i = 1; i <= 8; ++i) rig.Submit(i);
  rig.io.run_for(1s);
  ASSERT_EQ(rig.store.calls.size(), 4u);
  EXPECT_EQ(rig.store.calls[1].items, std::vector<int>({2, 3, 4}));
  EXPECT_EQ(rig.store.calls[2].items, std::vector<int>({5, 6, 7}));
  EXPECT_EQ(rig.store.calls[3].items, std::vector<int>({8}));
  EXPECT_EQ(rig.values.size(), 8u);
}

TEST(GroupCommit, AFailedBatchIsRetriedOneByOneAndTheBadItemFailsAlone) {
  Rig rig(GroupCommitOptions{});
  for (int i : {1, 2, -3, 4}) rig.Submit(i);
  rig.io.run_for(1s);
  // 1 alone; [2, -3, 4] fails as a whole; then 2, -3, 4 each on their own.
  ASSERT_EQ(rig.store.calls.size(), 5u);
  EXPECT_EQ(rig.store.calls[1].items, std::vector<int>({2, -3, 4}));
  EXPECT_EQ(rig.store.calls[2].items, std::vector<int>({2}));
  EXPECT_EQ(rig.store.calls[3].items, std::vector<int>({-3}));
  EXPECT_EQ(rig.store.calls[4].items, std::vector<int>({4}));
  EXPECT_EQ(rig.order, std::vector<int>({1, 2, -3, 4}));
  EXPECT_EQ(rig.values, std::vector<int>({10, 20, 40}));
  EXPECT_EQ(rig.errors, std::vector<std::string>({"bad item -3"}));
  ASSERT_EQ(rig.reports.size(), 2u);
  EXPECT_EQ(rig.reports[1].items, 3u);
  EXPECT_EQ(rig.reports[1].answers, 3u);
  EXPECT_EQ(rig.reports[1].ok, 2u);
}

TEST(GroupCommit, WithoutRetryAloneEveryItemGetsTheBatchError) {
  Commits::Hooks hooks;
  hooks.retry_alone = [](const Error& e) { return e.code != ErrorCode::kInternal; };
  Rig rig(GroupCommitOptions{}, hooks);
  for (int i : {1, 2, -3, 4}) rig.Submit(i);
  rig.io.run_for(1s);
  ASSERT_EQ(rig.store.calls.size(), 2u);
  EXPECT_EQ(rig.values, std::vector<int>({10}));
  EXPECT_EQ(rig.errors, std::vector<std::string>(3, "bad batch"));
  EXPECT_EQ(rig.order, std::vector<int>({1, 2, -3, 4}));
  // The settled hook hears of it with no answers: nothing was committed.
  ASSERT_EQ(rig.reports.size(), 2u);
  EXPECT_EQ(rig.reports[1].items, 3u);
  EXPECT_EQ(rig.reports[1].answers, 0u);
}

TEST(GroupCommit, AShortAnswerOrAThrowCountsAsAFailedBatch) {
  Rig rig(GroupCommitOptions{});
  rig.store.short_answer_for = 3;
  for (int i : {1, 2, 3, -1000, 5}) rig.Submit(i);
  rig.io.run_for(1s);
  // [2, 3, -1000, 5] throws; alone, 2, 3 and 5 commit and -1000 fails.
  ASSERT_EQ(rig.store.calls.size(), 6u);
  EXPECT_EQ(rig.values, std::vector<int>({10, 20, 30, 50}));
  ASSERT_EQ(rig.errors.size(), 1u);
  EXPECT_NE(rig.errors[0].find("boom"), std::string::npos);

  Rig short_rig(GroupCommitOptions{});
  short_rig.store.short_answer_for = 3;
  for (int i : {1, 2, 3}) short_rig.Submit(i);
  short_rig.io.run_for(1s);
  ASSERT_EQ(short_rig.store.calls.size(), 4u);  // [1], [2, 3] short, [2], [3]
  EXPECT_EQ(short_rig.values, std::vector<int>({10, 20, 30}));
}

TEST(GroupCommit, OrderSortsABatchBeforeItCommits) {
  Commits::Hooks hooks;
  hooks.order = [](int a, int b) { return a % 10 < b % 10; };  // stable
  Rig rig(GroupCommitOptions{}, hooks);
  for (int i : {1, 32, 21, 12, 3}) rig.Submit(i);
  rig.io.run_for(1s);
  ASSERT_EQ(rig.store.calls.size(), 2u);
  EXPECT_EQ(rig.store.calls[1].items, std::vector<int>({21, 32, 12, 3}));
  EXPECT_EQ(rig.order, std::vector<int>({1, 21, 32, 12, 3}));
}

// Under load (a batch of at least linger_from), the next batch starts no sooner
// than `linger` after that batch started, unless a full batch is waiting.
TEST(GroupCommit, LingersFromTheLastStartOnlyAfterALargeBatch) {
  GroupCommitOptions o;
  o.max_batch = 4;
  o.linger = 300ms;
  o.linger_from = 3;
  o.linger_from_last_start = true;
  Rig rig(o);
  bool done = false;
  asio::co_spawn(
      rig.io,
      [&]() -> Task<void> {
        (void)co_await rig.commits->Commit(1);         // alone: no load
        (void)co_await rig.commits->Commit(2);         // at once
        for (int i = 3; i <= 6; ++i) rig.Submit(i);    // 3 alone, then [4, 5, 6]
        (void)co_await rig.commits->Commit(7);         // ... with 7: a full batch
        (void)co_await rig.commits->Commit(8);         // waits for the linger
        for (int i = 9; i <= 12; ++i) rig.Submit(i);   // 9 alone (no load), then
        (void)co_await rig.commits->Commit(13);        // [10..13]: load
        for (int i = 14; i <= 17; ++i) rig.Submit(i);  // a full batch ends the linger
        (void)co_await rig.commits->Commit(18);        // waits for the linger again
        done = true;
      },
      asio::detached);
  rig.io.run_for(5s);
  ASSERT_TRUE(done);
  const auto& c = rig.store.calls;
  ASSERT_EQ(c.size(), 9u);
  EXPECT_EQ(c[3].items, std::vector<int>({4, 5, 6, 7}));
  EXPECT_EQ(c[4].items, std::vector<int>({8}));
  EXPECT_LT(c[1].start - c[0].start, 200ms);
  EXPECT_LT(c[3].start - c[2].start, 200ms);
  EXPECT_GE(c[4].start - c[3].start, 300ms);
  EXPECT_EQ(c[5].items, std::vector<int>({9}));
  EXPECT_LT(c[5].start - c[4].start, 200ms);  // [8] was no load
  EXPECT_EQ(c[6].items, std::vector<int>({10, 11, 12, 13}));
  EXPECT_EQ(c[7].items, std::vector<int>({14, 15, 16, 17}));
  EXPECT_LT(c[7].start - c[6].start, 200ms);
  EXPECT_EQ(c[8].items, std::vector<int>({18}));
  EXPECT_GE(c[8].start - c[7].start, 300ms);
}

TEST(GroupCommit, LingersFromTheEndUntilMostSendersAreBack) {
  GroupCommitOptions o;
  o.max_batch = 64;
  o.linger = 300ms;
  o.linger_from = 3;
  o.linger_return_percent = 75;
  Rig rig(o);
  for (int i = 1; i <= 5; ++i) rig.Submit(i);  // [1], then [2, 3, 4, 5]: load
  // Once [2..5] is answered: 3 back (3/4 of 4) end the linger; after [6, 7, 8]
  // one alone is fewer than 2 (3/4 of 3) and lingers for the full time.
  asio::co_spawn(
      rig.io,
      [&]() -> Task<void> {
        while (rig.values.size() < 5) co_await Sleep(1ms);
        co_await Sleep(50ms);
        for (int i = 6; i <= 8; ++i) rig.Submit(i);
        co_await Sleep(100ms);
        rig.Submit(9);
      },
      asio::detached);
  rig.io.run_for(2s);
  const auto& c = rig.store.calls;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[2].items, std::vector<int>({6, 7, 8}));
  EXPECT_GE(c[2].start - c[1].end, 40ms);   // waited for the senders...
  EXPECT_LT(c[2].start - c[1].end, 200ms);  // ... not for the whole linger
  EXPECT_EQ(c[3].items, std::vector<int>({9}));
  EXPECT_GE(c[3].start - c[2].end, 300ms);
}

TEST(GroupCommit, ItemsWithABusyKeyWaitForTheBatchHoldingIt) {
  GroupCommitOptions o;
  o.max_inflight = 2;
  Commits::Hooks hooks;
  hooks.keys = [](int i) {
    const auto k = static_cast<std::uint64_t>(i / 10);  // 1x and 2x share keys
    return Commits::Keys{k, k};
  };
  Rig rig(o, hooks);
  for (int i : {11, 12, 21, 13}) rig.Submit(i);
  rig.io.run_for(1s);
  // [11] holds key 1; 12 waits for it while 21 goes beside it; then [12, 13].
  const auto& c = rig.store.calls;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].items, std::vector<int>({11}));
  EXPECT_EQ(c[1].items, std::vector<int>({21}));
  EXPECT_EQ(c[2].items, std::vector<int>({12, 13}));
  EXPECT_LT(c[1].start, c[0].end);  // side by side
  EXPECT_GE(c[2].start, c[0].end);  // after the batch holding key 1
  EXPECT_EQ(rig.values, std::vector<int>({110, 210, 120, 130}));
}

TEST(GroupCommit, MinFillHoldsASmallBatchWhileOthersRun) {
  GroupCommitOptions o;
  o.max_inflight = 2;
  o.min_fill = 3;
  Rig rig(o);
  for (int i = 1; i <= 3; ++i) rig.Submit(i);
  rig.io.run_for(1s);
  // [1] at once; 2 and 3 are fewer than min_fill beside it: they wait for it.
  ASSERT_EQ(rig.store.calls.size(), 2u);
  EXPECT_EQ(rig.store.calls[1].items, std::vector<int>({2, 3}));
  EXPECT_GE(rig.store.calls[1].start, rig.store.calls[0].end);
}

// Two workers: items go to their home (item % 2) and answers come back to the
// worker that submitted them.
TEST(GroupCommit, ItemsHopToTheirHomeAndAnswersHopBack) {
  asio::io_context io0{1}, io1{1};
  FakeStore store0, store1;
  Commits::Hooks hooks;
  hooks.home = [](int i) { return static_cast<std::size_t>(i); };
  Commits commits(
      {Commits::Home{io0.get_executor(), [&](std::span<int> it) { return store0.Commit(it); }, {}},
       Commits::Home{io1.get_executor(), [&](std::span<int> it) { return store1.Commit(it); }, {}}},
      GroupCommitOptions{}, hooks);
  auto guard0 = asio::make_work_guard(io0);
  auto guard1 = asio::make_work_guard(io1);
  std::thread t1([&] { io1.run(); });
  const auto main_thread = std::this_thread::get_id();
  std::vector<int> values;
  bool all_on_submitter = true;
  asio::co_spawn(
      io0,
      [&]() -> Task<void> {
        for (int i = 1; i <= 6; ++i) {
          auto r = co_await commits.Commit(i);
          all_on_submitter = all_on_submitter && std::this_thread::get_id() == main_thread;
          if (r) values.push_back(*r);
        }
        guard0.reset();
        guard1.reset();
      },
      asio::detached);
  io0.run_for(5s);
  t1.join();
  EXPECT_EQ(values, std::vector<int>({10, 20, 30, 40, 50, 60}));
  EXPECT_TRUE(all_on_submitter);
  ASSERT_EQ(store0.calls.size(), 3u);  // 2, 4, 6
  ASSERT_EQ(store1.calls.size(), 3u);  // 1, 3, 5
  for (const auto& c : store0.calls) EXPECT_EQ(c.thread, main_thread);
  for (const auto& c : store1.calls) EXPECT_NE(c.thread, main_thread);
  EXPECT_EQ(store1.calls[0].items, std::vector<int>({1}));
}

}  // namespace
}  // namespace tchat
