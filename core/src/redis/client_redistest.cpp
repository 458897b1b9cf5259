#include <array>
#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <tchat/core/metrics.hpp>
#include <tchat/core/redis/client.hpp>

#include "test_util.hpp"

namespace tchat::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::Key;
using testing::RunAsync;
using testing::Sleep;
using testing::TestOptions;
using Clock = std::chrono::steady_clock;

double ConnectionErrorCount(const std::string& service) {
  return metrics::Registry::Default()
      .AddCounter("redis_connection_errors_total", "Redis connections lost or failed to open.",
                  {"service"})
      .With({service})
      .Value();
}

TEST(RedisClient, SetGetIncrExpireNil) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("basic");
    const std::string n = Key("counter");
    (void)co_await redis.Del(k);
    (void)co_await redis.Del(n);

    auto missing = co_await redis.Get(k);
    CO_ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());

    auto set = co_await redis.Set(k, "hello world", {.ttl = 60s, .only_if_absent = false});
    CO_ASSERT_TRUE(set.ok());
    EXPECT_TRUE(*set);
    auto nx = co_await redis.Set(k, "other", {.ttl = std::nullopt, .only_if_absent = true});
    CO_ASSERT_TRUE(nx.ok());
    EXPECT_FALSE(*nx);
    auto got = co_await redis.Get(k);
    CO_ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ(**got, "hello world");
    auto ttl = co_await redis.Command("TTL", k);
    CO_ASSERT_TRUE(ttl.ok());
    EXPECT_GT(ttl->integer, 0);
    EXPECT_LE(ttl->integer, 60);

    auto one = co_await redis.Incr(n);
    auto two = co_await redis.Incr(n);
    CO_ASSERT_TRUE(one.ok() && two.ok());
    EXPECT_EQ(*one, 1);
    EXPECT_EQ(*two, 2);
    auto expired = co_await redis.Expire(n, 30s);
    CO_ASSERT_TRUE(expired.ok());
    EXPECT_TRUE(*expired);
    auto no_key = co_await redis.Expire(Key("nope"), 30s);
    CO_ASSERT_TRUE(no_key.ok());
    EXPECT_FALSE(*no_key);

    auto deleted = co_await redis.Del(k);
    CO_ASSERT_TRUE(deleted.ok());
    EXPECT_EQ(*deleted, 1);
    (void)co_await redis.Del(n);
    auto gone = co_await redis.Get(k);
    CO_ASSERT_TRUE(gone.ok());
    EXPECT_FALSE(gone->has_value());

    // Binary-safe values.
    const std::string binary("a\r\n\0b", 5);
    CO_ASSERT_TRUE((co_await redis.Set(k, binary)).ok());
    auto back = co_await redis.Get(k);
    CO_ASSERT_TRUE(back.ok() && back->has_value());
    EXPECT_EQ(**back, binary);
    (void)co_await redis.Del(k);
  });
}

TEST(RedisClient, ErrorReplyKeepsMessageAndConnection) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.pool_size = 1;
    RedisClient redis(ex, options);
    const std::string k = Key("not_a_number");
    CO_ASSERT_TRUE((co_await redis.Set(k, "abc")).ok());
    auto r = co_await redis.Incr(k);
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_NE(r.error().message.find("not an integer"), std::string::npos) << r.error().message;
    EXPECT_TRUE(IsRedisError(r.error(), "ERR"));
    EXPECT_FALSE(r.error().IsUnavailable());

    auto unknown = co_await redis.Command("NOSUCHCOMMAND", "x");
    CO_ASSERT_TRUE(!unknown.ok());
    EXPECT_NE(unknown.error().message.find("unknown command"), std::string::npos);

    auto wrongtype = co_await redis.Command("LPUSH", k, "x");
    CO_ASSERT_TRUE(!wrongtype.ok());
    EXPECT_TRUE(IsRedisError(wrongtype.error(), "WRONGTYPE"));

    // The connection survives error replies.
    auto ping = co_await redis.Command("PING");
    CO_ASSERT_TRUE(ping.ok());
    EXPECT_EQ(ping->str, "PONG");
    EXPECT_EQ(redis.OpenConnections(), 1u);
    (void)co_await redis.Del(k);
  });
}

TEST(RedisClient, ThousandConcurrentCommandsPipelinedOnOneConnection) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.pool_size = 1;
    options.min_idle = 1;
    RedisClient redis(ex, options);
    const std::string hash = Key("pipelined");
    (void)co_await redis.Del(hash);
    CO_ASSERT_TRUE((co_await redis.Warmup()).ok());

    constexpr int kCallers = 1000;
    int done = 0;
    int mismatches = 0;
    std::size_t max_in_flight = 0;
    testing::Event all_done(ex);
    for (int i = 0; i < kCallers; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> Task<void> {
            const std::string field = "f" + std::to_string(i);
            const std::string by = std::to_string(i);
            auto incr = co_await redis.Command("HINCRBY", hash, field, by);
            max_in_flight = std::max(max_in_flight, redis.InFlight());
            auto get = co_await redis.Command("HGET", hash, field);
            if (!incr.ok() || incr->integer != i || !get.ok() || get->str != by) ++mismatches;
            if (++done == kCallers) all_done.Set();
          },
          asio::detached);
    }
    co_await all_done.Wait(10s);
    EXPECT_EQ(done, kCallers);
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(redis.OpenConnections(), 1u);
    EXPECT_GT(max_in_flight, 1u) << "commands were not pipelined";
    auto len = co_await redis.Command("HLEN", hash);
    CO_ASSERT_TRUE(len.ok());
    EXPECT_EQ(len->integer, kCallers);
    (void)co_await redis.Del(hash);
  });
}

TEST(RedisClient, PoolGrowsUnderLoadButNotBeyondPoolSize) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.pool_size = 3;
    options.min_idle = 0;
    RedisClient redis(ex, options);
    int ok = 0;
    int finished = 0;
    testing::Event all_done(ex);
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 200; ++i) {
        asio::co_spawn(
            ex,
            [&]() -> Task<void> {
              if ((co_await redis.Command("PING")).ok()) ++ok;
              if (++finished == 4000) all_done.Set();
            },
            asio::detached);
      }
      co_await Sleep(2ms);
    }
    CO_ASSERT_TRUE(co_await all_done.Wait(10s));
    EXPECT_EQ(ok, 4000);
    EXPECT_GE(redis.OpenConnections(), 1u);
    EXPECT_LE(redis.OpenConnections(), 3u);
  });
}

TEST(RedisClient, PipelineKeepsOrderAndPerCommandErrors) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("pipeline");
    const std::string l = Key("pipeline_list");
    RedisBatch batch;
    batch.Add("SET", k, "v1")
        .Add("GET", k)
        .Add("INCR", k)
        .Add("DEL", l)
        .Add("RPUSH", l, "a", "b", "c")
        .Add("LRANGE", l, "0", "-1")
        .Add("DEL", k, l);
    auto replies = co_await redis.Pipeline(batch);
    CO_ASSERT_TRUE(replies.ok());
    CO_ASSERT_TRUE(replies->size() == 7u);
    auto& r = *replies;
    EXPECT_TRUE(r[0].IsStatus());
    EXPECT_EQ(r[1].str, "v1");
    EXPECT_TRUE(r[2].IsError());
    EXPECT_EQ(r[4].integer, 3);
    CO_ASSERT_TRUE(r[5].IsArray() && r[5].elements.size() == 3u);
    EXPECT_EQ(r[5].elements[2].str, "c");
    EXPECT_EQ(r[6].integer, 2);

    const std::vector<std::string> echo{"ECHO", "x"};
    RedisBatch more_batch;
    more_batch.Add("PING").Add(echo);
    auto more = co_await redis.Pipeline(more_batch);
    CO_ASSERT_TRUE(more.ok() && more->size() == 2u);
    EXPECT_EQ((*more)[1].str, "x");
  });
}

TEST(RedisClient, RecoversAfterConnectionIsKilled) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.pool_size = 1;
    RedisClient redis(ex, options);
    RedisClient admin(ex, TestOptions());
    auto id = co_await redis.Command("CLIENT", "ID");
    CO_ASSERT_TRUE(id.ok());
    const double errors_before = ConnectionErrorCount(options.service);

    // An in-flight command on a killed connection fails with kUnavailable.
    auto dedicated = co_await redis.Dedicated();
    CO_ASSERT_TRUE(dedicated.ok());
    auto dedicated_id = co_await dedicated->Command("CLIENT", "ID");
    CO_ASSERT_TRUE(dedicated_id.ok());
    bool in_flight_failed = false;
    testing::Event in_flight_done(ex);
    const std::string list = Key("killed_list");
    const std::array<std::string_view, 3> blpop{"BLPOP", list, "5"};
    asio::co_spawn(
        ex,
        [&]() -> Task<void> {
          auto r = co_await dedicated->BlockingCommand(blpop, 5s);
          in_flight_failed = !r.ok() && r.error().IsUnavailable();
          in_flight_done.Set();
        },
        asio::detached);
    co_await Sleep(50ms);
    const auto kill_start = Clock::now();
    auto killed_blocked =
        co_await admin.Command("CLIENT", "KILL", "ID", std::to_string(dedicated_id->integer));
    CO_ASSERT_TRUE(killed_blocked.ok());
    CO_ASSERT_TRUE(co_await in_flight_done.Wait(4s));
    EXPECT_TRUE(in_flight_failed);
    EXPECT_LT(Clock::now() - kill_start, 2s);
    EXPECT_FALSE(dedicated->IsOpen());

    auto killed = co_await admin.Command("CLIENT", "KILL", "ID", std::to_string(id->integer));
    CO_ASSERT_TRUE(killed.ok());
    EXPECT_EQ(killed->integer, 1);

    // The next command may hit the dead connection (kUnavailable) or, if the
    // loss was noticed first, a fresh one; a later one must succeed.
    auto next = co_await redis.Command("CLIENT", "ID");
    if (!next.ok()) {
      EXPECT_TRUE(next.error().IsUnavailable()) << next.error().message;
      next = co_await redis.Command("CLIENT", "ID");
    }
    CO_ASSERT_TRUE(next.ok());
    EXPECT_NE(next->integer, id->integer);
    EXPECT_EQ(redis.OpenConnections(), 1u);
    EXPECT_GE(ConnectionErrorCount(options.service), errors_before + 2);
  });
}

TEST(RedisClient, ReadTimeoutFailsInFlightAndRecovers) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.pool_size = 1;
    options.read_timeout = 300ms;
    RedisClient redis(ex, options);
    const auto start = Clock::now();
    // BLPOP stalls the reply for 2 s, far beyond the read timeout.
    auto slow = co_await redis.Command("BLPOP", Key("never"), "2");
    const auto took = Clock::now() - start;
    CO_ASSERT_TRUE(!slow.ok());
    EXPECT_TRUE(slow.error().IsUnavailable()) << slow.error().message;
    EXPECT_LT(took, 1900ms);
    auto ping = co_await redis.Command("PING");
    EXPECT_TRUE(ping.ok());
  });
}

TEST(RedisClient, BlockingCommandsNeedADedicatedConnection) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string list = Key("b");
    const std::array<std::string_view, 3> blpop{"BLPOP", list, "1"};
    auto pooled = co_await redis.BlockingCommand(blpop, 1s);
    CO_ASSERT_TRUE(!pooled.ok());
    EXPECT_EQ(pooled.error().code, ErrorCode::kInvalidArgument);

    auto conn = co_await redis.Dedicated();
    CO_ASSERT_TRUE(conn.ok());
    auto blocked = co_await conn->BlockingCommand(blpop, 1s);
    CO_ASSERT_TRUE(blocked.ok());
    EXPECT_TRUE(blocked->IsNil());
    EXPECT_TRUE(conn->IsOpen());
    conn->Close();
    auto after = co_await conn->Command("PING");
    CO_ASSERT_TRUE(!after.ok());
    EXPECT_TRUE(after.error().IsUnavailable());
  });
}

// Parks on a blocking command until the event loop goes away; `token` lives in
// its frame.
Task<void> BlockForever(RedisClient& redis, std::shared_ptr<int> token, bool& sent) {
  auto conn = co_await redis.Dedicated();
  if (!conn) co_return;
  const std::string list = Key("never");
  const std::array<std::string_view, 3> blpop{"BLPOP", list, "0"};
  sent = true;
  (void)co_await conn->BlockingCommand(blpop, 3600s);
  (void)token;
}

// An event loop destroyed while a caller waits for a reply: the caller's frame
// (and the connection it holds) is freed, not kept alive by the resumption
// handler it holds itself.
TEST(RedisClient, WaitingCallerIsFreedWhenTheEventLoopIsDestroyed) {
  REQUIRE_REDIS();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    asio::io_context io(1);
    RedisClient redis(io.get_executor(), TestOptions());
    bool sent = false;
    asio::co_spawn(io, BlockForever(redis, std::move(token), sent), asio::detached);
    const auto deadline = Clock::now() + 5s;
    while (!sent && Clock::now() < deadline) io.run_for(10ms);
    ASSERT_TRUE(sent);
    io.run_for(100ms);  // the command is on the wire, the caller parked
    ASSERT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired()) << "the waiting coroutine outlived its event loop";
}

// A TCP listener that accepts and then never answers.
struct SilentServer {
  explicit SilentServer(asio::any_io_executor ex)
      : acceptor(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), peer(ex) {
    acceptor.async_accept(peer, [](const boost::system::error_code&) {});
  }
  std::string Url() const {
    return "redis://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/0";
  }
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket peer;
};

TEST(RedisClient, DialFailuresAreUnavailableAndQuick) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    // A port nobody listens on: refused at once.
    std::uint16_t closed_port = 0;
    {
      asio::ip::tcp::acceptor probe(ex, {asio::ip::make_address("127.0.0.1"), 0});
      closed_port = probe.local_endpoint().port();
    }
    auto options = TestOptions();
    options.url = "redis://127.0.0.1:" + std::to_string(closed_port) + "/0";
    const double errors_before = ConnectionErrorCount(options.service);
    RedisClient refused(ex, options);
    auto start = Clock::now();
    auto r = co_await refused.Command("PING");
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_TRUE(r.error().IsUnavailable()) << r.error().message;
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_GE(ConnectionErrorCount(options.service), errors_before + 1);

    // A server that accepts but never answers the handshake: the dial timeout.
    SilentServer silent(ex);
    options.url = silent.Url();
    options.dial_timeout = 200ms;
    RedisClient stalled(ex, options);
    start = Clock::now();
    auto t = co_await stalled.Command("PING");
    const auto took = Clock::now() - start;
    CO_ASSERT_TRUE(!t.ok());
    EXPECT_TRUE(t.error().IsUnavailable());
    EXPECT_NE(t.error().message.find("timed out"), std::string::npos) << t.error().message;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 2s);
  });
}

TEST(RedisClient, PingHonoursItsDeadline) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    EXPECT_TRUE((co_await redis.Ping(1s)).ok());

    SilentServer silent(ex);
    auto options = TestOptions();
    options.url = silent.Url();
    options.dial_timeout = 1500ms;
    RedisClient stalled(ex, options);
    const auto start = Clock::now();
    Status s = co_await stalled.Ping(100ms);
    CO_ASSERT_TRUE(!s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kDeadlineExceeded);
    EXPECT_LT(Clock::now() - start, 1s);
  });
}

TEST(RedisClient, WarmupOpensMinIdleAndChecksUrl) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.min_idle = 3;
    RedisClient redis(ex, options);
    CO_ASSERT_TRUE((co_await redis.Warmup()).ok());
    EXPECT_EQ(redis.OpenConnections(), 3u);

    options.url = "http://nope";
    RedisClient bad(ex, options);
    Status s = co_await bad.Warmup();
    CO_ASSERT_TRUE(!s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    auto r = co_await bad.Command("PING");
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  });
}

}  // namespace
}  // namespace tchat::redis
