#include <chrono>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/subscriber.hpp>

#include "test_util.hpp"

namespace tchat::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::Key;
using testing::RunAsync;
using testing::TestOptions;
using testing::WaitUntil;
using Message = std::pair<std::string, std::string>;

TEST(RedisSubscriber, DeliversChannelAndPatternMessages) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    RedisClient redis(ex, TestOptions());
    std::vector<Message> got;
    RedisSubscriber sub(ex, TestOptions(), [&](std::string_view channel, std::string_view payload) {
      got.emplace_back(channel, payload);
    });
    const std::string channel = Key("chan");
    const std::string pattern = Key("room.*");
    // Before the connection is up the subscription is remembered.
    Status early = co_await sub.Subscribe(channel);
    EXPECT_TRUE(!early.ok() && early.error().IsUnavailable());
    sub.Start();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return sub.Connected(); }, 3s));
    CO_ASSERT_TRUE((co_await sub.PSubscribe(pattern)).ok());

    auto n = co_await redis.Publish(channel, "hello");
    CO_ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    (void)co_await redis.Publish(Key("room.42"), "in room");
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return got.size() >= 2; }, 3s));
    EXPECT_EQ(got[0], Message(channel, "hello"));
    EXPECT_EQ(got[1], Message(Key("room.42"), "in room"));

    CO_ASSERT_TRUE((co_await sub.Unsubscribe(channel)).ok());
    auto none = co_await redis.Publish(channel, "nobody");
    CO_ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, 0);
    CO_ASSERT_TRUE((co_await sub.PUnsubscribe(pattern)).ok());
    sub.Stop();
  });
}

// The id of the connection named `name`, from CLIENT LIST.
std::int64_t ClientIdByName(const std::string& list, const std::string& name) {
  std::istringstream lines(list);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(" name=" + name + " ") == std::string::npos) continue;
    return std::stoll(line.substr(3, line.find(' ') - 3));  // "id=N ..."
  }
  return -1;
}

TEST(RedisSubscriber, ResubscribesAfterConnectionIsKilled) {
  REQUIRE_REDIS();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    const auto options = TestOptions();
    RedisClient redis(ex, options);
    std::vector<Message> got;
    int reconnects = 0;
    RedisSubscriber sub(
        ex, options,
        [&](std::string_view channel, std::string_view payload) {
          got.emplace_back(channel, payload);
        },
        [&] { ++reconnects; });
    const std::string channel = Key("resub");
    sub.Start();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return sub.Connected(); }, 3s));
    CO_ASSERT_TRUE((co_await sub.Subscribe(channel)).ok());
    EXPECT_EQ(reconnects, 0);

    auto list = co_await redis.Command("CLIENT", "LIST", "TYPE", "pubsub");
    CO_ASSERT_TRUE(list.ok());
    const std::int64_t id = ClientIdByName(list->str, "tchat:" + options.service + ":sub");
    CO_ASSERT_TRUE(id > 0);
    auto killed = co_await redis.Command("CLIENT", "KILL", "ID", std::to_string(id));
    CO_ASSERT_TRUE(killed.ok());
    EXPECT_EQ(killed->integer, 1);

    CO_ASSERT_TRUE(co_await WaitUntil([&] { return reconnects == 1 && sub.Connected(); }, 5s));
    auto n = co_await redis.Publish(channel, "after restart");
    CO_ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return !got.empty(); }, 3s));
    EXPECT_EQ(got.back(), Message(channel, "after restart"));
    sub.Stop();
  });
}

}  // namespace
}  // namespace tchat::redis
