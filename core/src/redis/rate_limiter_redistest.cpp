#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/redis/script.hpp>

#include "test_util.hpp"

namespace tchat::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::Key;
using testing::RunAsync;
using testing::TestOptions;

TEST(RetryAfterFromMillis, RoundsUpToWholeSecondsAndIsAtLeastOne) {
  EXPECT_EQ(RetryAfterFromMillis(-2).count(), 1);  // PTTL of a missing key / no expiry
  EXPECT_EQ(RetryAfterFromMillis(0).count(), 1);
  EXPECT_EQ(RetryAfterFromMillis(1).count(), 1);
  EXPECT_EQ(RetryAfterFromMillis(1000).count(), 1);
  EXPECT_EQ(RetryAfterFromMillis(1001).count(), 2);
  EXPECT_EQ(RetryAfterFromMillis(59'999).count(), 60);
  EXPECT_EQ(RetryAfterFromMillis(3'600'000).count(), 3600);
}

// A script no other test (or earlier run) has loaded: its SHA-1 is new to Redis.
std::string UniqueScriptSource() {
  std::random_device rd;
  return "-- " + std::to_string(rd()) + std::to_string(rd()) +
         "\nreturn {KEYS[1], ARGV[1], ARGV[2]}";
}

TEST(RedisScript, LoadsItselfWithEvalOnceThenRunsByHash) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const RedisScript script(UniqueScriptSource());
    EXPECT_EQ(script.sha1().size(), 40u);
    auto before = co_await redis.Command("SCRIPT", "EXISTS", script.sha1());
    CO_ASSERT_TRUE(before.ok() && before->IsArray() && before->elements.size() == 1);
    EXPECT_EQ(before->elements[0].integer, 0);

    const std::vector<std::string> keys{"k1"};
    const std::vector<std::string> args{"a1", "a2"};
    for (int i = 0; i < 2; ++i) {  // first NOSCRIPT → EVAL, then EVALSHA
      auto r = co_await script.Run(redis, keys, args);
      CO_ASSERT_TRUE(r.ok());
      CO_ASSERT_TRUE(r->IsArray() && r->elements.size() == 3);
      EXPECT_EQ(r->elements[0].str, "k1");
      EXPECT_EQ(r->elements[1].str, "a1");
      EXPECT_EQ(r->elements[2].str, "a2");
      auto exists = co_await redis.Command("SCRIPT", "EXISTS", script.sha1());
      CO_ASSERT_TRUE(exists.ok() && exists->IsArray() && exists->elements.size() == 1);
      EXPECT_EQ(exists->elements[0].integer, 1) << "EVAL caches the script under our hash";
    }
  });
}

TEST(RedisScript, AScriptErrorIsAnErrorNotAReply) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const RedisScript script("return redis.error_reply('BOOM rate limiter test')");
    const std::vector<std::string> none;
    auto r = co_await script.Run(redis, none, none);
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_TRUE(IsRedisError(r.error(), "BOOM")) << r.error().message;
  });
}

TEST(RateLimiter, CountsEveryEventAndRefusesOverTheLimitWithoutExtendingTheWindow) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("rl_count");
    (void)co_await redis.Del(k);
    const RateLimit limit{3, 60s};
    for (std::int64_t i = 1; i <= 3; ++i) {
      auto d = co_await RateLimiter::Hit(redis, k, limit);
      CO_ASSERT_TRUE(d.ok());
      EXPECT_TRUE(d->allowed) << i;
      EXPECT_EQ(d->count, i);
      EXPECT_GE(d->retry_after, 1s);
      EXPECT_LE(d->retry_after, 60s);
    }
    auto over = co_await RateLimiter::Hit(redis, k, limit);
    CO_ASSERT_TRUE(over.ok());
    EXPECT_FALSE(over->allowed);
    EXPECT_EQ(over->count, 4);
    EXPECT_GE(over->retry_after, 1s);
    EXPECT_LE(over->retry_after, 60s);
    auto ttl1 = co_await redis.Command("PTTL", k);
    CO_ASSERT_TRUE(ttl1.ok());
    EXPECT_GT(ttl1->integer, 0);
    EXPECT_LE(ttl1->integer, 60'000);

    auto again = co_await RateLimiter::Hit(redis, k, limit);
    CO_ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->allowed);
    EXPECT_EQ(again->count, 5);
    auto ttl2 = co_await redis.Command("PTTL", k);
    CO_ASSERT_TRUE(ttl2.ok());
    EXPECT_LE(ttl2->integer, ttl1->integer) << "a refused event must not extend the window";
    (void)co_await redis.Del(k);
  });
}

TEST(RateLimiter, ANewWindowStartsWhenTheOldOneEnds) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("rl_window");
    (void)co_await redis.Del(k);
    const RateLimit limit{2, 300ms};
    CO_ASSERT_TRUE((co_await RateLimiter::Hit(redis, k, limit)).ok());
    CO_ASSERT_TRUE((co_await RateLimiter::Hit(redis, k, limit)).ok());
    auto over = co_await RateLimiter::Hit(redis, k, limit);
    CO_ASSERT_TRUE(over.ok());
    EXPECT_FALSE(over->allowed);
    EXPECT_EQ(over->retry_after, 1s);  // 300 ms rounds up

    // Wait for Redis to expire the window (no fixed sleep: poll for the key).
    bool gone = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!gone && std::chrono::steady_clock::now() < deadline) {
      auto exists = co_await redis.Command("EXISTS", k);
      CO_ASSERT_TRUE(exists.ok());
      gone = exists->integer == 0;
      if (!gone) co_await testing::Sleep(50ms);
    }
    CO_ASSERT_TRUE(gone);
    auto fresh = co_await RateLimiter::Hit(redis, k, limit);
    CO_ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(fresh->allowed);
    EXPECT_EQ(fresh->count, 1);
    (void)co_await redis.Del(k);
  });
}

TEST(RateLimiter, KeysAreCountedSeparately) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string a = Key("rl_a");
    const std::string b = Key("rl_b");
    (void)co_await redis.Del(a);
    (void)co_await redis.Del(b);
    const RateLimit limit{1, 60s};
    auto a1 = co_await RateLimiter::Hit(redis, a, limit);
    auto a2 = co_await RateLimiter::Hit(redis, a, limit);
    auto b1 = co_await RateLimiter::Hit(redis, b, limit);
    CO_ASSERT_TRUE(a1.ok() && a2.ok() && b1.ok());
    EXPECT_TRUE(a1->allowed);
    EXPECT_FALSE(a2->allowed);
    EXPECT_TRUE(b1->allowed);
    EXPECT_EQ(b1->count, 1);
    (void)co_await redis.Del(a);
    (void)co_await redis.Del(b);
  });
}

TEST(RateLimiter, ACounterWithoutExpiryIsGivenOne) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("rl_no_ttl");
    CO_ASSERT_TRUE((co_await redis.Set(k, "7")).ok());  // no TTL: would never end
    auto d = co_await RateLimiter::Hit(redis, k, RateLimit{100, 60s});
    CO_ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->allowed);
    EXPECT_EQ(d->count, 8);
    auto ttl = co_await redis.Command("PTTL", k);
    CO_ASSERT_TRUE(ttl.ok());
    EXPECT_GT(ttl->integer, 0);
    EXPECT_LE(ttl->integer, 60'000);
    (void)co_await redis.Del(k);
  });
}

TEST(RateLimiter, AnEmptyWindowIsRefusedAndCountsNothing) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string k = Key("rl_bad");
    (void)co_await redis.Del(k);
    auto d = co_await RateLimiter::Hit(redis, k, RateLimit{5, 0ms});
    CO_ASSERT_TRUE(!d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    auto exists = co_await redis.Command("EXISTS", k);
    CO_ASSERT_TRUE(exists.ok());
    EXPECT_EQ(exists->integer, 0);
  });
}

TEST(RateLimiter, AnUnreachableRedisIsUnavailableForTheCallerToDecide) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    std::uint16_t closed_port = 0;
    {
      asio::ip::tcp::acceptor probe(ex, {asio::ip::make_address("127.0.0.1"), 0});
      closed_port = probe.local_endpoint().port();
    }
    auto options = TestOptions();
    options.url = "redis://127.0.0.1:" + std::to_string(closed_port) + "/0";
    RedisClient down(ex, options);
    auto d = co_await RateLimiter::Hit(down, Key("rl_down"), RateLimit{5, 60s});
    CO_ASSERT_TRUE(!d.ok());
    EXPECT_TRUE(d.error().IsUnavailable()) << d.error().message;
  });
}

}  // namespace
}  // namespace tchat::redis
