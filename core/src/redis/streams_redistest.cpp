#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/reader_connection.hpp>
#include <tchat/core/redis/streams.hpp>

#include "test_util.hpp"

namespace tchat::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::Key;
using testing::RunAsync;
using testing::Sleep;
using testing::TestOptions;

TEST(RedisStreams, XReadReturnsEntriesAfterAnIdToEveryReader) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string stream = Key("plain-read");
    (void)co_await redis.Del(stream);
    const StreamField one[] = {{"event", "1"}};
    const StreamField two[] = {{"event", "2"}};
    auto first = co_await XAdd(redis, stream, one);
    auto second = co_await XAdd(redis, stream, two);
    CO_ASSERT_TRUE(first.ok() && second.ok());
    // Two readers see the same entries: nothing is consumed.
    for (int reader = 0; reader < 2; ++reader) {
      auto all = co_await XRead(redis, stream, "0-0", 10);
      CO_ASSERT_TRUE(all.ok());
      CO_ASSERT_TRUE(all->size() == 2u);
      EXPECT_EQ(*(*all)[1].Field("event"), "2");
    }
    auto after = co_await XRead(redis, stream, *first, 10);
    CO_ASSERT_TRUE(after.ok());
    CO_ASSERT_TRUE(after->size() == 1u);
    EXPECT_EQ((*after)[0].id, *second);
    auto none = co_await XRead(redis, stream, *second, 10);
    CO_ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    // Blocking needs a dedicated connection; a timeout is an empty result.
    auto conn = co_await redis.Dedicated();
    CO_ASSERT_TRUE(conn.ok());
    auto waited = co_await XRead(*conn, stream, *second, 10, 100ms);
    CO_ASSERT_TRUE(waited.ok());
    EXPECT_TRUE(waited->empty());
    conn->Close();
  });
}

TEST(RedisStreams, AddGroupReadAckPending) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string stream = Key("events");
    (void)co_await redis.Del(stream);

    CO_ASSERT_TRUE((co_await XGroupCreate(redis, stream, "svc")).ok());
    // A second create hits BUSYGROUP, which is fine.
    CO_ASSERT_TRUE((co_await XGroupCreate(redis, stream, "svc")).ok());

    const StreamField fields[] = {{"type", "message.created"}, {"data", "{\"id\":1}"}};
    auto id = co_await XAdd(redis, stream, fields);
    CO_ASSERT_TRUE(id.ok());
    EXPECT_NE(id->find('-'), std::string::npos);

    auto read = co_await XReadGroup(redis, stream, "svc", "c1", 10);
    CO_ASSERT_TRUE(read.ok());
    CO_ASSERT_TRUE(read->size() == 1u);
    const StreamEntry& e = (*read)[0];
    EXPECT_EQ(e.id, *id);
    CO_ASSERT_TRUE(e.fields.size() == 2u);
    CO_ASSERT_TRUE(e.Field("type") != nullptr);
    EXPECT_EQ(*e.Field("type"), "message.created");
    EXPECT_EQ(*e.Field("data"), "{\"id\":1}");
    EXPECT_EQ(e.Field("missing"), nullptr);

    auto again = co_await XReadGroup(redis, stream, "svc", "c1", 10);
    CO_ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());

    auto pending = co_await XPendingSummary(redis, stream, "svc");
    CO_ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->count, 1);
    EXPECT_EQ(pending->min_id, *id);
    CO_ASSERT_TRUE(pending->consumers.size() == 1u);
    EXPECT_EQ(pending->consumers[0].first, "c1");
    EXPECT_EQ(pending->consumers[0].second, 1);

    // Re-reading the consumer's own pending entries.
    auto own = co_await XReadGroup(redis, stream, "svc", "c1", 10, std::nullopt, "0");
    CO_ASSERT_TRUE(own.ok() && own->size() == 1u);
    EXPECT_EQ((*own)[0].id, *id);

    const std::string_view ids[] = {*id};
    auto acked = co_await XAck(redis, stream, "svc", ids);
    CO_ASSERT_TRUE(acked.ok());
    EXPECT_EQ(*acked, 1);
    auto after = co_await XPendingSummary(redis, stream, "svc");
    CO_ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->count, 0);
    EXPECT_TRUE(after->consumers.empty());

    // MAXLEN ~ trims (approximately).
    for (int i = 0; i < 300; ++i) {
      const std::string value = std::to_string(i);
      const StreamField f[] = {{"i", value}};
      CO_ASSERT_TRUE((co_await XAdd(redis, stream, f, 10)).ok());
    }
    auto len = co_await redis.Command("XLEN", stream);
    CO_ASSERT_TRUE(len.ok());
    EXPECT_LT(len->integer, 300);
    (void)co_await redis.Del(stream);
  });
}

TEST(RedisStreams, SecondConsumerClaimsIdleEntry) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    const std::string stream = Key("claim");
    (void)co_await redis.Del(stream);
    CO_ASSERT_TRUE((co_await XGroupCreate(redis, stream, "g", "0")).ok());
    const StreamField fields[] = {{"k", "v"}};
    auto id = co_await XAdd(redis, stream, fields);
    CO_ASSERT_TRUE(id.ok());

    auto first = co_await XReadGroup(redis, stream, "g", "crashed", 1);
    CO_ASSERT_TRUE(first.ok() && first->size() == 1u);
    // Not idle long enough yet: nothing to claim.
    auto early = co_await XAutoClaim(redis, stream, "g", "rescuer", 10s);
    CO_ASSERT_TRUE(early.ok());
    EXPECT_TRUE(early->entries.empty());

    co_await Sleep(60ms);
    auto claimed = co_await XAutoClaim(redis, stream, "g", "rescuer", 20ms);
    CO_ASSERT_TRUE(claimed.ok());
    CO_ASSERT_TRUE(claimed->entries.size() == 1u);
    EXPECT_EQ(claimed->entries[0].id, *id);
    EXPECT_EQ(*claimed->entries[0].Field("k"), "v");
    EXPECT_EQ(claimed->next_id, "0-0");
    EXPECT_TRUE(claimed->deleted_ids.empty());

    auto pending = co_await XPendingSummary(redis, stream, "g");
    CO_ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->count, 1);
    CO_ASSERT_TRUE(pending->consumers.size() == 1u);
    EXPECT_EQ(pending->consumers[0].first, "rescuer");

    const std::string_view ids[] = {*id};
    auto acked = co_await XAck(redis, stream, "g", ids);
    CO_ASSERT_TRUE(acked.ok());
    EXPECT_EQ(*acked, 1);
    (void)co_await redis.Del(stream);
  });
}

TEST(RedisStreams, BlockingReadOnDedicatedConnectionLeavesPoolFree) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto options = TestOptions();
    options.read_timeout = 500ms;  // the block below is longer: the extension must apply
    RedisClient redis(ex, options);
    const std::string stream = Key("blocking");
    (void)co_await redis.Del(stream);
    CO_ASSERT_TRUE((co_await XGroupCreate(redis, stream, "g")).ok());

    // BLOCK on the pool is refused.
    auto refused = co_await XReadGroup(redis, stream, "g", "c", 1, 100ms);
    CO_ASSERT_TRUE(!refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);

    auto conn = co_await redis.Dedicated();
    CO_ASSERT_TRUE(conn.ok());
    auto timed_out = co_await XReadGroup(*conn, stream, "g", "c", 1, 100ms);
    CO_ASSERT_TRUE(timed_out.ok());
    EXPECT_TRUE(timed_out->empty());

    bool pool_answered_while_blocked = false;
    asio::co_spawn(
        ex,
        [&]() -> Task<void> {
          co_await Sleep(800ms);
          pool_answered_while_blocked = (co_await redis.Ping(1s)).ok();
          const StreamField fields[] = {{"late", "yes"}};
          (void)co_await XAdd(redis, stream, fields);
        },
        asio::detached);
    auto read = co_await XReadGroup(*conn, stream, "g", "c", 1, 5000ms);
    CO_ASSERT_TRUE(read.ok());
    CO_ASSERT_TRUE(read->size() == 1u);
    EXPECT_EQ(*(*read)[0].Field("late"), "yes");
    EXPECT_TRUE(pool_answered_while_blocked);
    (void)co_await redis.Del(stream);
  });
}

// The blocking readers' connection: kept while open, dialled again after a
// failure or a Close(), and a pause that ends early when the loop stops.
TEST(RedisStreams, ReaderConnectionRedialsAfterAFailure) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    bool stopping = false;
    ReaderConnection reader(
        redis, "test reader", [&] { return stopping; }, 300ms);
    RedisConnection* first = co_await reader.Get();
    CO_ASSERT_TRUE(first != nullptr);
    RedisConnection* kept = co_await reader.Get();
    EXPECT_EQ(kept, first) << "an open connection is kept";
    const std::string stream = Key("reader");
    auto waited = co_await XRead(*first, stream, "0-0", 10, 50ms);
    CO_ASSERT_TRUE(waited.ok());

    reader.Close();  // as at shutdown: the connection is closed under the loop
    auto failed = co_await XRead(*first, stream, "0-0", 10, 50ms);
    CO_ASSERT_TRUE(!failed.ok());
    auto start = std::chrono::steady_clock::now();
    co_await reader.Failed(failed.error());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms) << "no pause after a failure";
    RedisConnection* second = co_await reader.Get();
    CO_ASSERT_TRUE(second != nullptr);
    auto again = co_await XRead(*second, stream, "0-0", 10, 50ms);
    EXPECT_TRUE(again.ok()) << "the new connection works";

    stopping = true;  // a stopping loop neither waits nor dials
    start = std::chrono::steady_clock::now();
    co_await reader.Pause();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
    reader.Close();
  });
}

// A server that refuses: Get() answers nullptr after the pause, and dials again
// on the next call.
TEST(RedisStreams, ReaderConnectionWaitsWhenRedisIsDown) {
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
    ReaderConnection reader(
        down, "test reader", [] { return false; }, 200ms);
    for (int i = 0; i < 2; ++i) {
      const auto start = std::chrono::steady_clock::now();
      RedisConnection* none = co_await reader.Get();
      EXPECT_EQ(none, nullptr);
      EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    }
  });
}

}  // namespace
}  // namespace tchat::redis
