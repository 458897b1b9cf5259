#include <gtest/gtest.h>

#include <tchat/core/redis/options.hpp>

namespace tchat::redis {
namespace {

TEST(ParseRedisUrl, HostPortDb) {
  auto ep = ParseRedisUrl("redis://cache.internal:6380/3");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "cache.internal");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 3);
  EXPECT_TRUE(ep->password.empty());
}

TEST(ParseRedisUrl, Defaults) {
  auto ep = ParseRedisUrl("redis://redis");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "redis");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
}

TEST(ParseRedisUrl, PasswordAndUser) {
  auto ep = ParseRedisUrl("redis://:s%40cret@10.0.0.1:6379/0");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->password, "s@cret");
  EXPECT_TRUE(ep->username.empty());
  auto acl = ParseRedisUrl("redis://app:pw@[::1]:7000");
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->username, "app");
  EXPECT_EQ(acl->password, "pw");
  EXPECT_EQ(acl->host, "::1");
  EXPECT_EQ(acl->port, 7000);
}

TEST(ParseRedisUrl, Rejects) {
  for (const char* bad : {"http://x:1", "redis://:1", "redis://h:0", "redis://h:99999",
                          "redis://h:1/x", "redis://:%zz@h", "redis://[::1"}) {
    auto ep = ParseRedisUrl(bad);
    ASSERT_FALSE(ep.ok()) << bad;
    EXPECT_EQ(ep.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto ep = ParseRedisUrl("redis://:topsecret@h:x");
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().message.find("topsecret"), std::string::npos);
}

TEST(RedisOptions, FromConfig) {
  CommonConfig c;
  c.service = "messaging";
  c.redis_url = "redis://r:1/2";
  c.redis_pool_size = 7;
  c.redis_min_idle_conns = 3;
  c.redis_dial_timeout = std::chrono::milliseconds(1500);
  c.redis_read_timeout = std::chrono::milliseconds(2500);
  c.redis_write_timeout = std::chrono::milliseconds(3500);
  RedisOptions o = RedisOptions::FromConfig(c);
  EXPECT_EQ(o.url, "redis://r:1/2");
  EXPECT_EQ(o.service, "messaging");
  EXPECT_EQ(o.pool_size, 7);
  EXPECT_EQ(o.min_idle, 3);
  EXPECT_EQ(o.dial_timeout.count(), 1500);
  EXPECT_EQ(o.read_timeout.count(), 2500);
  EXPECT_EQ(o.write_timeout.count(), 3500);
}

}  // namespace
}  // namespace tchat::redis
