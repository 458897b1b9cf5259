// Outbox writer and relay against live servers: TCHAT_TEST_PG_URL (a superuser
// libpq URI; the test creates and drops a scratch database with the outbox table
// of migrations/postgres/tchat_auth/000001) and TCHAT_TEST_REDIS_URL. Both are
// required: the tests fail when either is unset.
#include <cstdlib>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::events {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

namespace asio = boost::asio;
using namespace std::chrono_literals;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_url_ = GetEnv("TCHAT_TEST_PG_URL");
    redis_url_ = GetEnv("TCHAT_TEST_REDIS_URL");
    ASSERT_FALSE(admin_url_.empty()) << "TCHAT_TEST_PG_URL is not set";
    ASSERT_FALSE(redis_url_.empty()) << "TCHAT_TEST_REDIS_URL is not set";
    db_ = "tchat_outbox_test_" + std::to_string(::getpid());
    AdminExec(admin_url_, "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    AdminExec(admin_url_, "CREATE DATABASE " + db_);
    db_url_ = WithDatabase(admin_url_, db_);
    const std::string ddl = ReadFile(std::string(TCHAT_SOURCE_DIR) +
                                     "/migrations/postgres/tchat_auth/000001_init.up.sql");
    ASSERT_FALSE(ddl.empty());
    AdminExec(db_url_, ddl);
    stream_ = "tchat:outbox_test:" + std::to_string(::getpid()) + ":" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    if (!db_.empty() && !admin_url_.empty()) {
      DropDatabase(admin_url_, db_);
    }
  }

  pg::PoolOptions PoolOpts() const {
    pg::PoolOptions o;
    o.conninfo = db_url_;
    o.max_open = 4;
    o.service = "outbox_test";
    o.database = db_;
    return o;
  }
  redis::RedisOptions RedisOpts(std::string url = {}) const {
    redis::RedisOptions o;
    o.url = url.empty() ? redis_url_ : url;
    o.service = "outbox_test";
    o.pool_size = 2;
    o.min_idle = 0;
    o.dial_timeout = 1s;
    o.read_timeout = 2s;
    o.write_timeout = 2s;
    return o;
  }

  void CheckBatchRows();

  // Runs body on a fresh io_context until it finishes.
  void Run(std::function<Task<void>(asio::any_io_executor)> body) {
    asio::io_context io;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          co_await body(io.get_executor());
          done = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    io.run();
    EXPECT_TRUE(done);
  }

  static Task<Result<std::int64_t>> Count(pg::Pool& pool, std::string_view where) {
    std::string sql = "SELECT count(*) FROM outbox WHERE " + std::string(where);
    static thread_local std::set<std::string> keep;  // statement text must outlive the call
    auto it = keep.insert(sql).first;
    auto r = co_await pool.Query(*it);
    if (!r) co_return std::move(r).error();
    co_return r->GetInt64(0, 0);
  }

  std::string admin_url_, redis_url_, db_, db_url_, stream_;
};

TEST_F(OutboxTest, OnlyCommittedEventsAreRelayedWithTheirEnvelope) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    OutboxWriter writer(stream_);
    auto relay = OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test"});

    Event kept = Event::Make("test.kept", json::object{{"n", 1}});
    Event dropped = Event::Make("test.dropped", json::object{{"n", 2}});
    // A transaction that fails after writing its event leaves nothing behind.
    auto failed = co_await pool.Transaction(pg::IsolationLevel::kReadCommitted,
                                            [&](pg::Connection& c) -> Task<Result<int>> {
                                              auto st = co_await writer.Append(c, dropped);
                                              if (!st) co_return std::move(st).error();
                                              co_return Error::Conflict("the change itself failed");
                                            });
    CO_ASSERT_TRUE(!failed.ok());
    CO_ASSERT_OK(co_await pool.Transaction(pg::IsolationLevel::kReadCommitted,
                                           [&](pg::Connection& c) -> Task<Result<int>> {
                                             auto st = co_await writer.Append(c, kept);
                                             if (!st) co_return std::move(st).error();
                                             co_return 1;
                                           }));

    auto n = co_await relay->RelayOnce(pool, redis);
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 1u);
    auto again = co_await relay->RelayOnce(pool, redis);
    CO_ASSERT_OK(again);
    EXPECT_EQ(*again, 0u) << "a published row must not be sent twice";

    auto range = co_await redis.Command("XRANGE", stream_, "-", "+");
    CO_ASSERT_OK(range);
    auto entries = redis::ParseStreamEntries(std::move(*range));
    CO_ASSERT_OK(entries);
    CO_ASSERT_TRUE(entries->size() == 1u);
    const auto& entry = entries->front();
    CO_ASSERT_TRUE(entry.Field("id") != nullptr && entry.Field("event") != nullptr);
    EXPECT_EQ(*entry.Field("id"), kept.id);
    EXPECT_EQ(*entry.Field("type"), "test.kept");
    json::value env = json::parse(*entry.Field("event"));
    EXPECT_EQ(env.at("id").as_string(), kept.id);
    EXPECT_EQ(env.at("type").as_string(), "test.kept");
    EXPECT_EQ(env.at("data").at("n").as_int64(), 1);
    EXPECT_EQ(env.at("occurred_at").as_string().size(), 24u);

    auto unpublished = co_await Count(pool, "published_at IS NULL");
    CO_ASSERT_OK(unpublished);
    EXPECT_EQ(*unpublished, 0);
    (void)co_await redis.Del(stream_);
    redis.Close();
  });
}

TEST_F(OutboxTest, RedisDownKeepsEventsUntilItIsBack) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient down(ex, RedisOpts("redis://127.0.0.1:1/0"));
    redis::RedisClient redis(ex, RedisOpts());
    OutboxWriter writer(stream_);
    auto relay = OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test"});
    for (int i = 0; i < 3; ++i) {
      auto st = writer.Insert(Event::Make("test.e", {{"i", i}}));
      CO_ASSERT_OK(co_await pool.Execute(st.sql, std::move(st.params)));
    }
    auto failed = co_await relay->RelayOnce(pool, down);
    CO_ASSERT_TRUE(!failed.ok());
    auto waiting = co_await Count(pool, "published_at IS NULL");
    CO_ASSERT_OK(waiting);
    EXPECT_EQ(*waiting, 3) << "a failed relay must leave the rows unpublished";

    auto n = co_await relay->RelayOnce(pool, redis);
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 3u);
    auto len = co_await redis.Command("XLEN", stream_);
    CO_ASSERT_OK(len);
    EXPECT_EQ(len->integer, 3);
    (void)co_await redis.Del(stream_);
    down.Close();
    redis.Close();
  });
}

// Batch rows in a jsonb column (auth, payment, notification) and in a json one
// (messaging, whose batch rows are written and published as text).
void OutboxTest::CheckBatchRows() {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    OutboxWriter writer(stream_);
    auto relay = OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test"});
    const std::string blocked = stream_ + ".not-a-stream";
    CO_ASSERT_OK(co_await redis.Command("SET", blocked, "x"));  // XADD answers WRONGTYPE

    auto single = writer.Insert(Event::Make("test.single", {{"n", 0}}));
    CO_ASSERT_OK(co_await pool.Execute(single.sql, std::move(single.params)));
    // A producer's group commit: three envelopes in one row; then one whose stream
    // Redis refuses, which must stay queued as a whole.
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO outbox (id, stream, type, payload, created_at) VALUES "
        "(gen_random_uuid(), $1, 'batch', "
        R"(' [{"id":"b-1","type":"test.b","data":{"n":1,"s":"],\\\""}},)"
        "\n {\"id\":\"b-2\",\"type\":\"test.b\",\"data\":{\"n\":2}} ,"
        "{\"id\":\"b-3\",\"type\":\"test.c\",\"data\":{\"n\":3}}]', now() + interval '1 ms'), "
        "(gen_random_uuid(), $2, 'batch', '[{\"id\":\"r-1\",\"type\":\"test.r\",\"data\":{}}]', "
        "now() + interval '2 ms')",
        stream_, blocked));

    auto n = co_await relay->RelayOnce(pool, redis);
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 4u) << "the single row and the three envelopes of the batch row";
    auto range = co_await redis.Command("XRANGE", stream_, "-", "+");
    CO_ASSERT_OK(range);
    auto entries = redis::ParseStreamEntries(std::move(*range));
    CO_ASSERT_OK(entries);
    CO_ASSERT_TRUE(entries->size() == 4u);
    const char* ids[] = {nullptr, "b-1", "b-2", "b-3"};
    const char* types[] = {"test.single", "test.b", "test.b", "test.c"};
    for (std::size_t i = 0; i < 4; ++i) {
      const auto& e = (*entries)[i];
      CO_ASSERT_TRUE(e.Field("id") != nullptr && e.Field("type") != nullptr);
      EXPECT_EQ(*e.Field("type"), types[i]);
      json::value env = json::parse(*e.Field("event"));
      EXPECT_EQ(env.at("type").as_string(), types[i]);
      if (ids[i] != nullptr) {
        EXPECT_EQ(*e.Field("id"), ids[i]);
        EXPECT_EQ(env.at("id").as_string(), ids[i]);
        EXPECT_EQ(env.at("data").at("n").as_int64(), static_cast<std::int64_t>(i));
        if (i == 1) {
          EXPECT_EQ(env.at("data").at("s").as_string(), R"(],\")");
        }
      }
    }
    auto waiting = co_await Count(pool, "published_at IS NULL");
    CO_ASSERT_OK(waiting);
    EXPECT_EQ(*waiting, 1) << "only the refused batch row stays unpublished";
    auto refused =
        co_await Count(pool, "published_at IS NULL AND payload::jsonb @> '[{\"id\":\"r-1\"}]'");
    CO_ASSERT_OK(refused);
    EXPECT_EQ(*refused, 1);
    (void)co_await redis.Del(stream_);
    (void)co_await redis.Del(blocked);
    redis.Close();
  });
}

TEST_F(OutboxTest, BatchRowsBecomeOneEntryPerEnvelopeInOrder) {
  CheckBatchRows();
}

TEST_F(OutboxTest, BatchRowsInAJsonColumnBecomeOneEntryPerEnvelopeInOrder) {
  AdminExec(db_url_, "ALTER TABLE outbox ALTER COLUMN payload TYPE json");
  CheckBatchRows();
}

TEST_F(OutboxTest, TwoRelaysSendEveryRowExactlyOnce) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    OutboxWriter writer(stream_);
    constexpr int kRows = 500;
    std::vector<pg::Statement> batch;
    for (int i = 0; i < kRows; ++i)
      batch.push_back(writer.Insert(Event::Make("test.e", {{"i", i}})));
    CO_ASSERT_OK(co_await pool.Pipeline(std::move(batch)));

    // Two relays with small batches on separate pools, interleaving on the loop.
    pg::Pool pool_b(ex, PoolOpts());
    auto a = OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test", .batch_size = 7});
    auto b =
        OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test", .batch_size = 11});
    std::size_t sent_a = 0, sent_b = 0;
    int finished = 0;
    auto drain = [&](std::shared_ptr<OutboxRelay> relay, pg::Pool& p,
                     std::size_t& sent) -> Task<void> {
      for (;;) {
        auto n = co_await relay->RelayOnce(p, redis);
        if (!n) {
          ADD_FAILURE() << n.error().message;
          break;
        }
        if (*n == 0) break;
        sent += *n;
      }
      ++finished;
    };
    asio::co_spawn(ex, drain(a, pool, sent_a), asio::detached);
    asio::co_spawn(ex, drain(b, pool_b, sent_b), asio::detached);
    asio::steady_timer t(ex);
    for (int i = 0; i < 600 && finished < 2; ++i) {
      t.expires_after(50ms);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    CO_ASSERT_TRUE(finished == 2);
    EXPECT_EQ(sent_a + sent_b, static_cast<std::size_t>(kRows));
    EXPECT_GT(sent_a, 0u);
    EXPECT_GT(sent_b, 0u);

    auto range = co_await redis.Command("XRANGE", stream_, "-", "+");
    CO_ASSERT_OK(range);
    auto entries = redis::ParseStreamEntries(std::move(*range));
    CO_ASSERT_OK(entries);
    std::set<std::string> ids;
    for (const auto& e : *entries) ids.insert(*e.Field("id"));
    EXPECT_EQ(entries->size(), static_cast<std::size_t>(kRows)) << "duplicates were sent";
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kRows));
    (void)co_await redis.Del(stream_);
    redis.Close();
  });
}

TEST_F(OutboxTest, RunLoopRelaysPromptlyWhenWokenAndStops) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    // A long poll interval: only the wake-up can deliver within the deadline.
    auto relay =
        OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test", .poll_interval = 60s});
    OutboxWriter writer(stream_, relay);
    bool stopped = false;
    asio::co_spawn(
        ex,
        [&]() -> Task<void> {
          co_await relay->Run(pool, redis);
          stopped = true;
        },
        asio::detached);
    asio::steady_timer t(ex);
    t.expires_after(200ms);  // let the loop go to sleep
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));

    Event e = Event::Make("test.woken", {});
    CO_ASSERT_OK(co_await pool.Transaction(pg::IsolationLevel::kReadCommitted,
                                           [&](pg::Connection& c) -> Task<Result<int>> {
                                             auto st = co_await writer.Append(c, e);
                                             if (!st) co_return std::move(st).error();
                                             co_return 1;
                                           }));
    writer.Committed();
    std::int64_t len = 0;
    for (int i = 0; i < 100 && len == 0; ++i) {
      t.expires_after(50ms);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      auto r = co_await redis.Command("XLEN", stream_);
      CO_ASSERT_OK(r);
      len = r->integer;
    }
    EXPECT_EQ(len, 1) << "the woken relay did not publish within 5 s (poll is 60 s)";
    relay->Stop();
    for (int i = 0; i < 100 && !stopped; ++i) {
      t.expires_after(20ms);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_TRUE(stopped);
    (void)co_await redis.Del(stream_);
    redis.Close();
  });
}

TEST_F(OutboxTest, WakeUpsSoonerThanTheMinimumIntervalWaitForIt) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    using Clock = std::chrono::steady_clock;
    auto relay = OutboxRelay::Create(
        ex,
        OutboxRelayOptions{.service = "outbox_test", .poll_interval = 60s, .min_interval = 700ms});
    OutboxWriter writer(stream_, relay);
    bool stopped = false;
    asio::co_spawn(
        ex,
        [&]() -> Task<void> {
          co_await relay->Run(pool, redis);
          stopped = true;
        },
        asio::detached);
    asio::steady_timer t(ex);
    // Commits an event, wakes the relay and returns how long it took to appear.
    auto publish = [&](int n) -> Task<Result<Clock::duration>> {
      Event e = Event::Make("test.paced", {{"n", n}});
      auto st = co_await pool.Transaction(pg::IsolationLevel::kReadCommitted,
                                          [&](pg::Connection& c) -> Task<Result<int>> {
                                            auto a = co_await writer.Append(c, e);
                                            if (!a) co_return std::move(a).error();
                                            co_return 1;
                                          });
      if (!st) co_return std::move(st).error();
      const auto t0 = Clock::now();
      writer.Committed();
      for (int i = 0; i < 400; ++i) {
        auto r = co_await redis.Command("XLEN", stream_);
        if (!r) co_return std::move(r).error();
        if (r->integer >= n) co_return Clock::now() - t0;
        t.expires_after(5ms);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      co_return Error::Unavailable("not published within 2 s");
    };
    t.expires_after(100ms);  // the first pass (at start) is behind us
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    // The first pass began ~100 ms ago: this one waits ~600 ms more.
    auto first = co_await publish(1);
    CO_ASSERT_OK(first);
    EXPECT_GE(*first, 400ms);
    EXPECT_LT(*first, 1500ms);
    relay->Stop();
    for (int i = 0; i < 100 && !stopped; ++i) {
      t.expires_after(20ms);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_TRUE(stopped) << "Stop() ends the wait for the interval too";
    (void)co_await redis.Del(stream_);
    redis.Close();
  });
}

TEST_F(OutboxTest, CleanupDeletesOnlyOldPublishedRows) {
  Run([&](asio::any_io_executor ex) -> Task<void> {
    pg::Pool pool(ex, PoolOpts());
    redis::RedisClient redis(ex, RedisOpts());
    OutboxWriter writer(stream_);
    auto relay =
        OutboxRelay::Create(ex, OutboxRelayOptions{.service = "outbox_test", .retention = 1ms});
    auto st = writer.Insert(Event::Make("test.old", {}));
    CO_ASSERT_OK(co_await pool.Execute(st.sql, std::move(st.params)));
    CO_ASSERT_OK(co_await relay->RelayOnce(pool, redis));
    auto pending = writer.Insert(Event::Make("test.pending", {}));
    CO_ASSERT_OK(co_await pool.Execute(pending.sql, std::move(pending.params)));
    asio::steady_timer t(ex, 20ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    auto deleted = co_await relay->Cleanup(pool);
    CO_ASSERT_OK(deleted);
    EXPECT_EQ(*deleted, 1);
    auto left = co_await Count(pool, "true");
    CO_ASSERT_OK(left);
    EXPECT_EQ(*left, 1) << "the unpublished row must stay";
    (void)co_await redis.Del(stream_);
    redis.Close();
  });
}

}  // namespace
}  // namespace tchat::events
