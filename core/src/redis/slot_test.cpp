// Hash slots and cluster URLs (hermetic). The expected slots are what
// `CLUSTER KEYSLOT` answers on Redis 7.
#include <gtest/gtest.h>

#include <tchat/core/redis/cluster.hpp>

namespace tchat::redis {
namespace {

TEST(RedisSlot, Crc16MatchesTheReferenceVector) {
  // The check value of CRC-16/XMODEM, the variant Redis Cluster uses.
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
  EXPECT_EQ(Crc16(""), 0);
}

TEST(RedisSlot, KnownKeys) {
  EXPECT_EQ(KeySlot("123456789"), 12739);
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("hello"), 866);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(RedisSlot, HashTagRule) {
  // Only the part inside the first {...} counts...
  EXPECT_EQ(KeySlot("{bar}foo"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("tchat:auth:{otp}:otp:+66812345678"), KeySlot("otp"));
  // ...when it is not empty: "{}" hashes the whole key.
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % kClusterSlots);
  EXPECT_NE(KeySlot("foo{}{bar}"), KeySlot("bar"));
  // The tag ends at the first '}' after the first '{'.
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  // An unclosed '{' is no tag.
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % kClusterSlots);
}

TEST(RedisSlot, CommandsRouteByTheirKey) {
  const std::vector<std::string> get{"GET", "foo"};
  EXPECT_EQ(CommandSlot(get), KeySlot("foo"));
  const std::vector<std::string> eval{"EVALSHA", "abc", "2", "{g}:a", "{g}:b", "arg"};
  EXPECT_EQ(CommandSlot(eval), KeySlot("g"));
  const std::vector<std::string> nokeys{"EVAL", "return 1", "0"};
  EXPECT_EQ(CommandSlot(nokeys), -1);
  const std::vector<std::string> xread{"XREADGROUP", "GROUP", "g", "c",       "COUNT",
                                       "10",         "BLOCK", "5", "STREAMS", "tchat.events.x",
                                       ">"};
  EXPECT_EQ(CommandSlot(xread), KeySlot("tchat.events.x"));
  const std::vector<std::string> xgroup{"XGROUP", "CREATE", "s", "g", "0"};
  EXPECT_EQ(CommandSlot(xgroup), KeySlot("s"));
  const std::vector<std::string> ping{"PING"};
  EXPECT_EQ(CommandSlot(ping), -1);
  const std::vector<std::string> cluster{"CLUSTER", "SLOTS"};
  EXPECT_EQ(CommandSlot(cluster), -1);
}

TEST(RedisClusterUrl, SeedsAndCredentials) {
  EXPECT_TRUE(IsClusterUrl("redis-cluster://a:1"));
  EXPECT_FALSE(IsClusterUrl("redis://a:1"));
  auto seeds = ParseClusterUrl("redis-cluster://:s3cret@10.0.0.1:7001,10.0.0.2:7002,host3");
  ASSERT_TRUE(seeds.ok()) << seeds.error().message;
  ASSERT_EQ(seeds->size(), 3u);
  EXPECT_EQ((*seeds)[0].host, "10.0.0.1");
  EXPECT_EQ((*seeds)[0].port, 7001);
  EXPECT_EQ((*seeds)[1].host, "10.0.0.2");
  EXPECT_EQ((*seeds)[2].port, 6379);
  for (const auto& s : *seeds) EXPECT_EQ(s.password, "s3cret");
  EXPECT_TRUE(ParseClusterUrl("redis-cluster://a:1,b:2/0").ok());
}

TEST(RedisClusterUrl, Refusals) {
  EXPECT_FALSE(ParseClusterUrl("redis://a:1").ok());
  EXPECT_FALSE(ParseClusterUrl("redis-cluster://").ok());
  EXPECT_FALSE(ParseClusterUrl("redis-cluster://a:1/3").ok());  // only database 0
  EXPECT_FALSE(ParseClusterUrl("redis-cluster://a:x").ok());
  EXPECT_TRUE(ValidateRedisUrl("redis-cluster://a:1,b:2").ok());
  EXPECT_TRUE(ValidateRedisUrl("redis://a:1/0").ok());
  EXPECT_FALSE(ValidateRedisUrl("redis-cluster://a:1/2").ok());
  EXPECT_FALSE(ValidateRedisUrl("http://a:1").ok());
}

}  // namespace
}  // namespace tchat::redis
