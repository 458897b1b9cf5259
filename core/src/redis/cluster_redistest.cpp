// The client and subscriber against a real Redis Cluster (three masters, one
// replica each) at TCHAT_TEST_REDIS_CLUSTER_URL, which scripts/test.sh starts
// (scripts/lib/redis_cluster.sh). Fails, not skips, without it. The failover
// case uses CLUSTER FAILOVER (a graceful takeover) so that the cluster stays
// whole for the next users; the kill -9 case is the end-to-end test
// ClusterFailover.MasterKilledUnderLoadServicesFollow.
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/cluster.hpp>
#include <tchat/core/redis/subscriber.hpp>

#include "test_util.hpp"

namespace tchat::redis {
namespace {

// True when a Set succeeded and wrote.
bool Wrote(const Result<bool>& r) {
  return r.ok() && *r;
}
// The string value of a Get, "" when absent or failed.
std::string ValueOf(const Result<std::optional<std::string>>& r) {
  return r.ok() && r->has_value() ? **r : "";
}

}  // namespace
}  // namespace tchat::redis

namespace tchat::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::Key;
using testing::RunAsync;
using testing::Sleep;
using testing::WaitUntil;

std::string ClusterUrl() {
  const char* url = std::getenv("TCHAT_TEST_REDIS_CLUSTER_URL");
  return url != nullptr ? url : "";
}

#define REQUIRE_CLUSTER()                                                                  \
  if (ClusterUrl().empty()) {                                                              \
    FAIL() << "TCHAT_TEST_REDIS_CLUSTER_URL is not set (e.g. "                             \
              "redis-cluster://127.0.0.1:22381,127.0.0.1:22382; scripts/test.sh sets it)"; \
  }

RedisOptions ClusterOptions() {
  RedisOptions o = testing::TestOptions();
  o.url = ClusterUrl();
  return o;
}

RedisOptions NodeOptions(const std::string& addr) {
  RedisOptions o = testing::TestOptions();
  o.url = "redis://" + addr + "/0";
  return o;
}

// One master of the cluster: its address, id and first slot.
struct Master {
  std::string addr;
  std::string id;
  int first_slot = 0;
};

// The masters by their first slot, from CLUSTER SLOTS on the first seed.
Task<std::vector<Master>> Masters(asio::any_io_executor ex) {
  auto seeds = ParseClusterUrl(ClusterUrl());
  std::map<std::string, Master> by_addr;
  if (!seeds) co_return std::vector<Master>{};
  RedisClient seed(ex,
                   NodeOptions(seeds->front().host + ":" + std::to_string(seeds->front().port)));
  auto slots = co_await seed.Command("CLUSTER", "SLOTS");
  if (!slots) co_return std::vector<Master>{};
  for (const RedisReply& r : slots->elements) {
    const auto& m = r.elements[2].elements;
    std::string addr = m[0].str + ":" + std::to_string(m[1].integer);
    auto& master = by_addr[addr];
    if (master.addr.empty() || r.elements[0].integer < master.first_slot) {
      master = {addr, m[2].str, static_cast<int>(r.elements[0].integer)};
    }
  }
  std::vector<Master> out;
  for (auto& [a, m] : by_addr) out.push_back(m);
  co_return out;
}

// A key name of this test whose slot the given master serves.
std::string KeyOn(const Master& master, const std::vector<Master>& all, std::string_view name) {
  for (int i = 0;; ++i) {
    std::string k = Key(std::string(name) + ":" + std::to_string(i));
    int slot = KeySlot(k);
    const Master* owner = nullptr;
    for (const Master& m : all) {
      if (m.first_slot <= slot && (owner == nullptr || m.first_slot > owner->first_slot))
        owner = &m;
    }
    if (owner != nullptr && owner->addr == master.addr) return k;
  }
}

TEST(RedisCluster, RoutesCommandsAndSplitsPipelinesAcrossMasters) {
  REQUIRE_CLUSTER();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto masters = co_await Masters(ex);
    CO_ASSERT_TRUE(masters.size() == 3);
    RedisClient redis(ex, ClusterOptions());
    CO_ASSERT_TRUE((co_await redis.Warmup()).ok());
    RedisBatch batch;
    std::vector<std::string> keys;
    for (const Master& m : masters) {
      for (int i = 0; i < 3; ++i) keys.push_back(KeyOn(m, masters, "split" + std::to_string(i)));
    }
    for (const auto& k : keys) batch.Add("SET", k, "v:" + k);
    auto set = co_await redis.Pipeline(batch);
    CO_ASSERT_TRUE(set.ok());
    for (const auto& r : *set) EXPECT_TRUE(r.IsStatus()) << r.str;
    batch.Clear();
    for (const auto& k : keys) batch.Add("GET", k);
    auto got = co_await redis.Pipeline(batch);
    CO_ASSERT_TRUE(got.ok());
    for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*got)[i].str, "v:" + keys[i]);
    // Each master holds its own keys: the batch really was split.
    for (const Master& m : masters) {
      RedisClient node(ex, NodeOptions(m.addr));
      auto v = co_await node.Get(KeyOn(m, masters, "split0"));
      CO_ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->has_value()) << m.addr;
    }
    // Multi-key commands and scripts work within one hash tag.
    const std::string a = Key("{tag}a"), b = Key("{tag}b");
    (void)co_await redis.Set(a, "1");
    (void)co_await redis.Set(b, "2");
    auto del = co_await redis.Command("DEL", a, b);
    CO_ASSERT_TRUE(del.ok());
    EXPECT_EQ(del->integer, 2);
    for (const auto& k : keys) (void)co_await redis.Del(k);
  });
}

// Moves `slot` from `from` to `to` the way redis-cli --cluster reshard does,
// stopping after the keys moved (the ASK window) when `finish` is false.
Task<bool> MigrateSlot(asio::any_io_executor ex, int slot, const Master& from, const Master& to,
                       const std::vector<std::string>& keys, bool finish,
                       const std::vector<Master>& all) {
  RedisClient src(ex, NodeOptions(from.addr)), dst(ex, NodeOptions(to.addr));
  const std::string s = std::to_string(slot);
  if (!(co_await dst.Command("CLUSTER", "SETSLOT", s, "IMPORTING", from.id))) co_return false;
  if (!(co_await src.Command("CLUSTER", "SETSLOT", s, "MIGRATING", to.id))) co_return false;
  const auto colon = to.addr.rfind(':');
  for (const auto& k : keys) {
    auto m = co_await src.Command("MIGRATE", to.addr.substr(0, colon), to.addr.substr(colon + 1), k,
                                  "0", "5000");
    if (!m) co_return false;
  }
  if (!finish) co_return true;
  for (const Master& m : all) {
    RedisClient node(ex, NodeOptions(m.addr));
    if (!(co_await node.Command("CLUSTER", "SETSLOT", s, "NODE", to.id))) co_return false;
  }
  co_return true;
}

TEST(RedisCluster, FollowsAskDuringMigrationAndMovedAfterIt) {
  REQUIRE_CLUSTER();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto masters = co_await Masters(ex);
    CO_ASSERT_TRUE(masters.size() == 3);
    RedisClient redis(ex, ClusterOptions());
    const Master& from = masters[0];
    const Master& to = masters[1];
    const std::string key = KeyOn(from, masters, "moving");
    const int slot = KeySlot(key);
    const std::vector<std::string> just_key(1, key), no_keys;
    CO_ASSERT_TRUE(Wrote(co_await redis.Set(key, "here")));  // learns the map
    // Half-way: the key is on `to`, the slot still belongs to `from` (ASK).
    CO_ASSERT_TRUE(co_await MigrateSlot(ex, slot, from, to, just_key, false, masters));
    auto asked = co_await redis.Get(key);
    CO_ASSERT_TRUE(asked.ok());
    EXPECT_EQ(ValueOf(asked), "here");
    auto dedicated = co_await redis.Dedicated();
    CO_ASSERT_TRUE(dedicated.ok());
    auto via_dedicated = co_await dedicated->Command("GET", key);
    CO_ASSERT_TRUE(via_dedicated.ok());
    EXPECT_EQ(via_dedicated->str, "here");
    // Done: `to` owns the slot; the client's map is stale and MOVED corrects it.
    CO_ASSERT_TRUE(co_await MigrateSlot(ex, slot, from, to, no_keys, true, masters));
    auto moved = co_await redis.Set(key, "there");
    CO_ASSERT_TRUE(moved.ok());
    RedisClient owner(ex, NodeOptions(to.addr));
    auto direct = co_await owner.Get(key);
    CO_ASSERT_TRUE(direct.ok());
    EXPECT_EQ(ValueOf(direct), "there");
    // Give the slot back so the cluster looks as it did.
    CO_ASSERT_TRUE(co_await MigrateSlot(ex, slot, to, from, just_key, true, masters));
    EXPECT_EQ(ValueOf(co_await redis.Get(key)), "there");
    (void)co_await redis.Del(key);
  });
}

TEST(RedisCluster, ShardedPubSubReachesSubscribersOnEveryMaster) {
  REQUIRE_CLUSTER();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto masters = co_await Masters(ex);
    CO_ASSERT_TRUE(masters.size() == 3);
    RedisClient redis(ex, ClusterOptions());
    std::set<std::string> got;
    RedisSubscriber sub(ex, ClusterOptions(), [&](std::string_view ch, std::string_view payload) {
      got.insert(std::string(ch) + "=" + std::string(payload));
    });
    sub.Start();
    std::vector<std::string> channels;
    for (const Master& m : masters) channels.push_back(KeyOn(m, masters, "chan"));
    for (const auto& ch : channels) CO_ASSERT_TRUE((co_await sub.Subscribe(ch)).ok());
    EXPECT_TRUE(sub.Connected());
    EXPECT_FALSE((co_await sub.PSubscribe(Key("*"))).ok());
    for (std::size_t i = 0; i < channels.size(); ++i) {
      auto n = co_await redis.Publish(channels[i], "m" + std::to_string(i));
      CO_ASSERT_TRUE(n.ok());
      EXPECT_EQ(*n, 1) << channels[i];
      // The owner counts one sharded subscriber: SPUBLISH/SSUBSCRIBE, not PUBLISH.
      RedisClient owner(ex, NodeOptions(masters[i].addr));
      auto num = co_await owner.Command("PUBSUB", "SHARDNUMSUB", channels[i]);
      CO_ASSERT_TRUE(num.ok() && num->elements.size() == 2);
      EXPECT_EQ(num->elements[1].integer, 1);
    }
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return got.size() == channels.size(); }, 3s));
    for (std::size_t i = 0; i < channels.size(); ++i) {
      EXPECT_TRUE(got.contains(channels[i] + "=m" + std::to_string(i)));
    }
    sub.Stop();
  });
}

TEST(RedisCluster, FollowsAFailoverForCommandsAndSubscriptions) {
  REQUIRE_CLUSTER();
  RunAsync([](asio::any_io_executor ex) -> Task<void> {
    auto masters = co_await Masters(ex);
    CO_ASSERT_TRUE(masters.size() == 3);
    const Master& old_master = masters[2];
    RedisClient redis(ex, ClusterOptions());
    int reconnects = 0;
    std::vector<std::string> got;
    RedisSubscriber sub(
        ex, ClusterOptions(),
        [&](std::string_view, std::string_view payload) { got.emplace_back(payload); },
        [&] { ++reconnects; });
    sub.Start();
    const std::string key = KeyOn(old_master, masters, "failover");
    const std::string channel = KeyOn(old_master, masters, "failover-chan");
    CO_ASSERT_TRUE((co_await sub.Subscribe(channel)).ok());
    CO_ASSERT_TRUE(Wrote(co_await redis.Set(key, "before")));
    // A replica of that master takes over (CLUSTER FAILOVER on the replica).
    RedisClient old_node(ex, NodeOptions(old_master.addr));
    auto replicas = co_await old_node.Command("CLUSTER", "REPLICAS", old_master.id);
    CO_ASSERT_TRUE(replicas.ok() && !replicas->elements.empty());
    std::string line = replicas->elements[0].str;  // "<id> <ip:port@cport> ..."
    std::string replica_addr = line.substr(line.find(' ') + 1);
    replica_addr = replica_addr.substr(0, replica_addr.find('@'));
    RedisClient replica(ex, NodeOptions(replica_addr));
    CO_ASSERT_TRUE((co_await replica.Command("CLUSTER", "FAILOVER")).ok());
    bool promoted = false;
    for (int i = 0; i < 100 && !promoted; ++i) {
      auto role = co_await replica.Command("ROLE");
      promoted = role && !role->elements.empty() && role->elements[0].str == "master";
      if (!promoted) co_await Sleep(100ms);
    }
    CO_ASSERT_TRUE(promoted);
    // The client follows (MOVED from the demoted node) and reads what it wrote.
    auto after = co_await redis.Get(key);
    CO_ASSERT_TRUE(after.ok());
    EXPECT_EQ(ValueOf(after), "before");
    CO_ASSERT_TRUE(Wrote(co_await redis.Set(key, "after")));
    auto direct = co_await replica.Get(key);
    EXPECT_EQ(ValueOf(direct), "after");
    // The subscriber moves to the new master and says it may have missed some.
    bool delivered = false;
    for (int i = 0; i < 50 && !delivered; ++i) {
      (void)co_await redis.Publish(channel, "after-failover");
      delivered = co_await WaitUntil([&] { return !got.empty(); }, 100ms);
    }
    EXPECT_TRUE(delivered) << "no message on the new master within 5 s";
    EXPECT_GE(reconnects, 1);
    (void)co_await redis.Del(key);
    sub.Stop();
  });
}

}  // namespace
}  // namespace tchat::redis
