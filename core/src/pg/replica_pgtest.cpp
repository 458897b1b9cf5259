// pg::ReadPool against a real streaming replica: TCHAT_TEST_PG_URL (the primary's
// superuser URI) and TCHAT_TEST_PG_REPLICA_URL (its hot standby's, started by
// scripts/test.sh with scripts/lib/pg_replica.sh). The test stops and starts the
// replica with scripts/pg-replica.sh (TCHAT_RUN_DIR and TCHAT_PG_PORT from the
// environment, as test.sh sets them). Fails when a variable is unset.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <tchat/core/async.hpp>
#include <tchat/core/pg/read_pool.hpp>

namespace tchat::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

#define CO_ASSERT(cond)                     \
  do {                                      \
    if (!(cond)) {                          \
      ADD_FAILURE() << "failed: " << #cond; \
      co_return;                            \
    }                                       \
  } while (0)

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int Script(const std::string& action) {
  const std::string cmd =
      std::string(TCHAT_SOURCE_DIR) + "/scripts/pg-replica.sh " + action + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

// Which server answered a read through the pool: "replica" or "primary".
Task<std::string> ServedBy(ReadPool& reads, std::string_view pin_key = {}) {
  auto r =
      co_await reads.Read([](Pool& p) { return p.Query("SELECT pg_is_in_recovery()"); }, pin_key);
  if (!r) co_return "error: " + r.error().message;
  co_return r->GetBool(0, 0) ? "replica" : "primary";
}

// Checks until the replica is usable (or `within` passes).
Task<bool> UsableWithin(ReadPool& reads, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if ((co_await reads.CheckReplica()).usable) co_return true;
    co_await Sleep(50ms);
  }
  co_return false;
}

Task<void> Body(asio::any_io_executor ex, const std::string& primary_url,
                const std::string& replica_url) {
  PoolOptions po{.conninfo = primary_url, .service = "replica_pgtest", .database = "primary"};
  Pool primary(ex, po);
  po.conninfo = replica_url;
  po.database = "replica";
  po.connect_timeout = 1s;
  po.acquire_timeout = 1s;
  Pool admin(ex, po);  // superuser on the replica: pauses replay
  auto state = std::make_shared<ReplicaState>(ReplicaOptions{
      .max_lag = 300ms, .check_interval = 50ms, .service = "replica_pgtest", .database = "t"});
  ReadPool reads(primary, std::make_unique<Pool>(ex, po), state);

  const std::string table = "replica_pgtest_" + std::to_string(::getpid());
  CO_ASSERT((co_await primary.Execute("DROP TABLE IF EXISTS " + table, {})).ok());
  CO_ASSERT((co_await primary.Execute("CREATE TABLE " + table + " (v int)", {})).ok());

  // 1. Caught up: reads come from the replica and see what the primary wrote.
  CO_ASSERT(co_await UsableWithin(reads, 10s));
  EXPECT_EQ(co_await ServedBy(reads), "replica");
  const std::string count_sql = "SELECT count(*) FROM " + table;
  CO_ASSERT((co_await primary.Execute("INSERT INTO " + table + " VALUES (1)", {})).ok());
  CO_ASSERT(co_await UsableWithin(reads, 5s));

  // 2. Read-after-write: a pinned key reads the primary, others the replica.
  state->Pin("writer");
  EXPECT_EQ(co_await ServedBy(reads, "writer"), "primary");
  EXPECT_EQ(co_await ServedBy(reads, "someone-else"), "replica");
  EXPECT_GE(state->PinWindow(), 300ms);

  // 3. Lagging beyond the bound (replay paused while the primary writes): the
  // primary answers, with the new row.
  CO_ASSERT((co_await admin.Execute("SELECT pg_wal_replay_pause()", {})).ok());
  CO_ASSERT((co_await primary.Execute("INSERT INTO " + table + " VALUES (2)", {})).ok());
  co_await Sleep(450ms);
  ReplicaCheck lagging = co_await reads.CheckReplica();
  EXPECT_FALSE(lagging.usable) << lagging.reason;
  EXPECT_GT(lagging.lag_seconds, 0.3);
  EXPECT_EQ(co_await ServedBy(reads), "primary");
  auto n = co_await reads.Read([&](Pool& p) { return p.Execute(count_sql, {}); });
  CO_ASSERT(n.ok());
  EXPECT_EQ(n->GetInt64(0, 0), 2);
  CO_ASSERT((co_await admin.Execute("SELECT pg_wal_replay_resume()", {})).ok());
  CO_ASSERT(co_await UsableWithin(reads, 5s));
  EXPECT_EQ(co_await ServedBy(reads), "replica");

  // 4. Replica stopped while the last check (of a pool checking only every 10 s,
  // so that the verdict stays fresh) says usable: the read still succeeds, on the
  // primary, and the failure marks the replica down at once.
  ReplicaOptions slow{
      .max_lag = 300ms, .check_interval = 10s, .service = "replica_pgtest", .database = "t2"};
  auto slow_state = std::make_shared<ReplicaState>(slow);
  ReadPool slow_reads(primary, std::make_unique<Pool>(ex, po), slow_state);
  CO_ASSERT((co_await slow_reads.CheckReplica()).usable);
  EXPECT_EQ(co_await ServedBy(slow_reads), "replica");
  EXPECT_EQ(Script("stop"), 0);
  CO_ASSERT(slow_state->Usable());
  EXPECT_EQ(co_await ServedBy(slow_reads), "primary");
  EXPECT_FALSE(slow_state->Usable());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(co_await ServedBy(slow_reads), "primary");
  ReplicaCheck down = co_await reads.CheckReplica();
  EXPECT_FALSE(down.usable);
  EXPECT_EQ(co_await ServedBy(reads), "primary");

  // 5. Started again: used again once a check finds it caught up.
  EXPECT_EQ(Script("start"), 0);
  EXPECT_TRUE(co_await UsableWithin(reads, 15s));
  EXPECT_EQ(co_await ServedBy(reads), "replica");
  EXPECT_TRUE((co_await slow_reads.CheckReplica()).usable);
  EXPECT_EQ(co_await ServedBy(slow_reads), "replica");
  (void)co_await primary.Execute("DROP TABLE " + table, {});
}

TEST(ReadPool, ReplicaServesReadsAndFallsBackToThePrimary) {
  const std::string primary_url = Env("TCHAT_TEST_PG_URL");
  const std::string replica_url = Env("TCHAT_TEST_PG_REPLICA_URL");
  ASSERT_FALSE(primary_url.empty()) << "TCHAT_TEST_PG_URL is not set (run through scripts/test.sh)";
  ASSERT_FALSE(replica_url.empty())
      << "TCHAT_TEST_PG_REPLICA_URL is not set (scripts/test.sh with TCHAT_PG_REPLICA=1)";
  asio::io_context io;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await Body(io.get_executor(), primary_url, replica_url);
        finished = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_TRUE(finished);
  if (Script("status") != 0) Script("start");  // leave the replica running
}

TEST(ReadPool, WithoutReplicaEveryReadGoesToThePrimary) {
  const std::string primary_url = Env("TCHAT_TEST_PG_URL");
  ASSERT_FALSE(primary_url.empty()) << "TCHAT_TEST_PG_URL is not set (run through scripts/test.sh)";
  asio::io_context io;
  std::string served;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        PoolOptions po;
        po.conninfo = primary_url;
        Pool primary(io.get_executor(), po);
        ReadPool reads(primary, nullptr, std::make_shared<ReplicaState>(ReplicaOptions{}));
        EXPECT_FALSE((co_await reads.CheckReplica()).usable);
        served = co_await ServedBy(reads);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(served, "primary");
}

}  // namespace
}  // namespace tchat::pg
