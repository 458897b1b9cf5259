#include <map>

#include <gtest/gtest.h>

#include <tchat/core/config.hpp>

namespace tchat {
namespace {

ConfigReader FromMap(std::map<std::string, std::string> m) {
  return ConfigReader([m = std::move(m)](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(std::string(k));
    if (it == m.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ParseDurationTest, AcceptsUnits) {
  EXPECT_EQ(ParseDuration("5m")->count(), 300'000);
  EXPECT_EQ(ParseDuration("3s")->count(), 3'000);
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5'400'000);
  EXPECT_EQ(ParseDuration("30")->count(), 30'000);
  EXPECT_EQ(ParseDuration("0s")->count(), 0);
}

TEST(ParseDurationTest, RejectsGarbage) {
  for (const char* bad : {"", "5x", "m", "-3s", "3 s", "1.5s", "s5", "99999999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ParseIntTest, BoundsAndGarbage) {
  EXPECT_EQ(*ParseInt("50", 1, 100), 50);
  EXPECT_FALSE(ParseInt("0", 1, 100).ok());
  EXPECT_FALSE(ParseInt("101", 1, 100).ok());
  EXPECT_FALSE(ParseInt("5O", 1, 100).ok());
  EXPECT_FALSE(ParseInt("", 1, 100).ok());
  EXPECT_FALSE(ParseInt(" 5", 1, 100).ok());
}

TEST(ParseBoolTest, Forms) {
  EXPECT_TRUE(*ParseBool("1"));
  EXPECT_TRUE(*ParseBool("TRUE"));
  EXPECT_TRUE(*ParseBool("on"));
  EXPECT_FALSE(*ParseBool("0"));
  EXPECT_FALSE(*ParseBool("no"));
  EXPECT_FALSE(ParseBool("maybe").ok());
}

TEST(LoadCommonConfigTest, DefaultsWhenEmpty) {
  auto c = LoadCommonConfig("auth", 8081, FromMap({}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->port, 8081);
  EXPECT_EQ(c->service, "auth");
  EXPECT_EQ(c->db_max_open_conns, 50);
  EXPECT_EQ(c->db_conn_max_lifetime.count(), 300'000);
  EXPECT_EQ(c->redis_read_timeout.count(), 3'000);
  EXPECT_FALSE(c->dev_otp);
}

TEST(LoadCommonConfigTest, ReadsRunbookKeysAsWritten) {
  auto c = LoadCommonConfig("payment", 8083,
                            FromMap({{"db_max_open_conns", "20"},
                                     {"db_max_idle_conns", "5"},
                                     {"db_conn_max_lifetime", "10m"},
                                     {"db_max_connections", "50"},
                                     {"redis_pool_size", "30"},
                                     {"redis_min_idle_conns", "3"},
                                     {"redis_dial_timeout", "5s"},
                                     {"redis_read_timeout", "2s"},
                                     {"redis_write_timeout", "1500ms"},
                                     {"http_client_timeout", "30s"},
                                     {"http_client_max_idle_conns", "100"},
                                     {"http_client_max_conns_per_host", "10"},
                                     {"PORT", "9000"},
                                     {"LISTEN_ADDRESS", "127.0.0.1"},
                                     {"TCHAT_DEV_OTP", "1"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->db_max_open_conns, 20);
  EXPECT_EQ(c->db_max_idle_conns, 5);
  EXPECT_EQ(c->db_conn_max_lifetime.count(), 600'000);
  EXPECT_EQ(c->db_max_connections, 50);
  EXPECT_EQ(c->redis_pool_size, 30);
  EXPECT_EQ(c->redis_min_idle_conns, 3);
  EXPECT_EQ(c->redis_write_timeout.count(), 1500);
  EXPECT_EQ(c->http_client_max_conns_per_host, 10);
  EXPECT_EQ(c->port, 9000);
  EXPECT_TRUE(c->dev_otp);
}

TEST(LoadCommonConfigTest, UpperCaseFallback) {
  auto c = LoadCommonConfig("auth", 8081, FromMap({{"DB_MAX_OPEN_CONNS", "7"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->db_max_open_conns, 7);
  EXPECT_EQ(c->db_max_idle_conns, 7);  // the default of 10 follows the maximum down
}

TEST(LoadCommonConfigTest, BadValueNamesTheKey) {
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& bad :
       {Case{"db_conn_max_lifetime", "5 minutes"}, Case{"db_max_open_conns", "many"},
        Case{"redis_read_timeout", "3x"}, Case{"PORT", "70000"}, Case{"TCHAT_DEV_OTP", "perhaps"},
        Case{"redis_pool_size", "0"}}) {
    auto c = LoadCommonConfig("auth", 8081, FromMap({{bad.key, bad.value}}));
    ASSERT_FALSE(c.ok()) << bad.key;
    EXPECT_NE(c.error().message.find(bad.key), std::string::npos) << c.error().message;
  }
}

// This build has no ScyllaDB message store: a ScyllaDB named in the
// configuration would be ignored, so start-up stops and names the key. Empty
// (the ConfigMap's value) means no ScyllaDB and is accepted.
TEST(LoadCommonConfigTest, ScyllaHostsIsRefused) {
  for (const char* service : {"auth", "messaging", "payment", "notification"}) {
    auto c = LoadCommonConfig(service, 8082, FromMap({{"SCYLLA_HOSTS", "scylla-0.scylla:9042"}}));
    ASSERT_FALSE(c.ok()) << service;
    EXPECT_NE(c.error().message.find("SCYLLA_HOSTS"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("no ScyllaDB message store"), std::string::npos)
        << c.error().message;
  }
  EXPECT_TRUE(LoadCommonConfig("messaging", 8082, FromMap({{"SCYLLA_HOSTS", ""}})).ok());
}

TEST(LoadCommonConfigTest, IdleAboveOpenIsRejected) {
  auto c = LoadCommonConfig("auth", 8081,
                            FromMap({{"db_max_open_conns", "5"}, {"db_max_idle_conns", "10"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("db_max_idle_conns"), std::string::npos);
}

struct Settings {
  int count = 3;
  std::size_t bytes = 0;
  std::chrono::seconds age{0};
  std::string name = "x";
};

TEST(ConfigLoaderTest, ConvertsIntoTheFieldsTypes) {
  const ConfigReader r = FromMap({{"COUNT", "7"}, {"BYTES", "4096"}, {"AGE", "90s"}});
  Settings s;
  ConfigLoader load;
  load.Read(s.count, r.Int("COUNT", s.count, 1, 10));
  load.Read(s.bytes, r.Int("BYTES", 0, 0, 1 << 20));
  load.Read(s.age, r.Duration("AGE", std::chrono::seconds(1)));
  load.Read(s.name, r.String("NAME", "fallback"));
  load.Require(s.count > 5, "COUNT", "must be above 5");
  EXPECT_TRUE(load.ok());
  auto done = std::move(load).Finish(s);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->count, 7);
  EXPECT_EQ(done->bytes, 4096u);
  EXPECT_EQ(done->age, std::chrono::seconds(90));
  EXPECT_EQ(done->name, "fallback");
}

TEST(ConfigLoaderTest, KeepsTheFirstErrorAndStopsAssigning) {
  const ConfigReader r = FromMap({{"COUNT", "many"}, {"AGE", "soon"}, {"NAME", "y"}});
  Settings s;
  ConfigLoader load;
  load.Read(s.count, r.Int("COUNT", s.count, 1, 10));
  load.Read(s.age, r.Duration("AGE", std::chrono::seconds(1)));
  load.Read(s.name, r.String("NAME", "x"));
  load.Require(false, "NAME", "is never right");
  EXPECT_FALSE(load.ok());
  EXPECT_EQ(s.name, "x");  // nothing is assigned after the first error
  auto done = std::move(load).Finish(s);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.error().message.find("COUNT"), std::string::npos) << done.error().message;
  EXPECT_EQ(done.error().message.find("AGE"), std::string::npos) << done.error().message;
}

TEST(ConfigLoaderTest, RequireNamesTheKey) {
  ConfigLoader load;
  load.Require(true, "A", "fine");
  load.Require(false, "B", "must be set");
  load.Require(false, "C", "too");
  auto done = std::move(load).Finish(0);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message, "config B: must be set");
  EXPECT_EQ(done.error().code, ErrorCode::kInvalidArgument);
}

// Development OTP hands out sign-in codes to whoever asks: on an address other
// hosts reach only with a second, explicit switch.
TEST(LoadCommonConfigTest, DevOtpNeedsLoopbackOrASecondSwitch) {
  for (const char* address : {"127.0.0.1", "::1", "localhost", "127.0.0.2"}) {
    EXPECT_TRUE(LoadCommonConfig("auth", 8081,
                                 FromMap({{"TCHAT_DEV_OTP", "1"}, {"LISTEN_ADDRESS", address}}))
                    .ok())
        << address;
  }
  for (const char* address : {"0.0.0.0", "::", "192.168.1.5"}) {
    auto c = LoadCommonConfig("auth", 8081,
                              FromMap({{"TCHAT_DEV_OTP", "1"}, {"LISTEN_ADDRESS", address}}));
    ASSERT_FALSE(c.ok()) << address;
    EXPECT_NE(c.error().message.find("TCHAT_DEV_OTP_ALLOW_NETWORK"), std::string::npos)
        << c.error().message;
  }
  EXPECT_FALSE(LoadCommonConfig("auth", 8081, FromMap({{"TCHAT_DEV_OTP", "1"}})).ok())
      << "the default listen address is 0.0.0.0";
  EXPECT_TRUE(LoadCommonConfig("auth", 8081,
                               FromMap({{"TCHAT_DEV_OTP", "1"},
                                        {"LISTEN_ADDRESS", "0.0.0.0"},
                                        {"TCHAT_DEV_OTP_ALLOW_NETWORK", "1"}}))
                  .ok());
  EXPECT_TRUE(LoadCommonConfig("auth", 8081, FromMap({{"LISTEN_ADDRESS", "0.0.0.0"}})).ok());
}

TEST(LoadCommonConfigTest, TrustedProxies) {
  const auto loopback = IpAddress::Parse("127.0.0.1").value();
  const auto pod = IpAddress::Parse("10.244.3.4").value();
  auto def = LoadCommonConfig("auth", 8081, FromMap({}));
  ASSERT_TRUE(def.ok());
  EXPECT_TRUE(def->trusted_proxies.Contains(loopback));
  EXPECT_FALSE(def->trusted_proxies.Contains(pod));

  auto k8s = LoadCommonConfig("auth", 8081, FromMap({{"TCHAT_TRUSTED_PROXIES", "10.244.0.0/16"}}));
  ASSERT_TRUE(k8s.ok());
  EXPECT_TRUE(k8s->trusted_proxies.Contains(pod));
  EXPECT_FALSE(k8s->trusted_proxies.Contains(loopback));

  auto none = LoadCommonConfig("auth", 8081, FromMap({{"TCHAT_TRUSTED_PROXIES", "none"}}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->trusted_proxies.empty());

  auto bad = LoadCommonConfig("auth", 8081, FromMap({{"TCHAT_TRUSTED_PROXIES", "10.0.0.0/8,x"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("TCHAT_TRUSTED_PROXIES"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("'x'"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace tchat
