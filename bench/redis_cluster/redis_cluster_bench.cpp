// Load generator of bench/cluster_bench.sh: the same Redis work against a single
// Redis (the anchor) and a Redis Cluster, in one run, through the services'
// client (core/redis). Prints figures and ratios; asserts nothing.
//
//   xadd     XADD to one stream, pipelined in batches of 64 (as the outbox relay
//            does): single Redis, one stream on the cluster (one slot: one
//            master), and three streams on the cluster's three masters.
//   fan-out  PUBLISH (single) or SPUBLISH (cluster) of messages to 64 channels in
//            batches of 64 (as messaging's hub does), one subscriber to every
//            channel: deliveries/s and publish->deliver p50/p99.
//
// Usage: redis_cluster_bench SINGLE_URL CLUSTER_URL SECONDS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/cluster.hpp>
#include <tchat/core/redis/subscriber.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tchat::Task;
using tchat::redis::RedisBatch;
using tchat::redis::RedisClient;
using tchat::redis::RedisOptions;
using tchat::redis::RedisSubscriber;

namespace {

RedisOptions Options(const std::string& url) {
  RedisOptions o;
  o.url = url;
  o.service = "redis_cluster_bench";
  o.pool_size = 4;
  o.min_idle = 1;
  return o;
}

// Entries/s of XADD to `streams`, round-robin, one batch of 64 per stream in flight.
Task<double> XAdd(asio::any_io_executor ex, std::string url, std::vector<std::string> streams,
                  std::chrono::seconds duration) {
  RedisClient redis(ex, Options(url));
  (void)co_await redis.Warmup();
  for (const auto& s : streams) (void)co_await redis.Del(s);
  std::size_t entries = 0;
  const std::string payload(300, 'x');  // about an event envelope's size
  const auto start = Clock::now();
  const auto until = start + duration;
  // One coroutine per stream keeps one batch in flight on each.
  int running = static_cast<int>(streams.size());
  asio::steady_timer done(ex, Clock::time_point::max());
  for (const auto& s : streams) {
    asio::co_spawn(
        ex,
        [&, s]() -> Task<void> {
          RedisBatch batch;
          while (Clock::now() < until) {
            batch.Clear();
            for (int i = 0; i < 64; ++i)
              batch.Add("XADD", s, "MAXLEN", "~", "100000", "*", "event", payload);
            auto r = co_await redis.Pipeline(batch);
            if (!r) break;
            entries += batch.size();
          }
          if (--running == 0) done.cancel();
        },
        asio::detached);
  }
  co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& s : streams) (void)co_await redis.Del(s);
  co_return static_cast<double>(entries) / secs;
}

struct FanOut {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Task<FanOut> Fan(asio::any_io_executor ex, std::string url, std::chrono::seconds duration) {
  RedisClient redis(ex, Options(url));
  (void)co_await redis.Warmup();
  std::vector<double> latencies;
  std::size_t delivered = 0;
  RedisSubscriber sub(ex, Options(url), [&](std::string_view, std::string_view payload) {
    const auto sent = std::stoll(std::string(payload.substr(0, payload.find(' '))));
    const auto now = Clock::now().time_since_epoch().count();
    latencies.push_back(static_cast<double>(now - sent) / 1e6);
    ++delivered;
  });
  sub.Start();
  std::vector<std::string> channels;
  for (int i = 0; i < 64; ++i) channels.push_back("bench:fan:" + std::to_string(i));
  for (const auto& ch : channels) (void)co_await sub.Subscribe(ch);
  const std::string pad(200, 'p');
  const auto start = Clock::now();
  std::size_t published = 0;
  RedisBatch batch;
  while (Clock::now() < start + duration) {
    batch.Clear();
    const std::string stamp = std::to_string(Clock::now().time_since_epoch().count()) + " " + pad;
    for (const auto& ch : channels) batch.Add("PUBLISH", ch, stamp);
    auto r = co_await redis.Pipeline(batch);
    if (!r) break;
    published += batch.size();
    // Keep deliveries within a few batches of publishing (a bounded backlog).
    while (published > delivered + 4 * channels.size() && Clock::now() < start + duration + 5s) {
      asio::steady_timer t(ex, 100us);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  sub.Stop();
  FanOut f;
  f.per_second = static_cast<double>(delivered) / secs;
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    f.p50_ms = latencies[latencies.size() / 2];
    f.p99_ms = latencies[latencies.size() * 99 / 100];
  }
  co_return f;
}

// Stream names on each of the cluster's masters, by slot (the masters of a
// three-node cluster made by redis-cli own 0-5460, 5461-10922, 10923-16383).
std::vector<std::string> StreamsOnThreeMasters() {
  std::vector<std::string> out;
  const int ranges[3][2] = {{0, 5460}, {5461, 10922}, {10923, 16383}};
  for (const auto& r : ranges) {
    for (int i = 0;; ++i) {
      std::string name = "bench:stream:" + std::to_string(i);
      int slot = tchat::redis::KeySlot(name);
      if (slot >= r[0] && slot <= r[1]) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s SINGLE_URL CLUSTER_URL SECONDS\n", argv[0]);
    return 2;
  }
  const std::string single = argv[1], cluster = argv[2];
  const std::chrono::seconds secs(std::stoi(argv[3]));
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        auto ex = io.get_executor();
        const std::vector<std::string> one{"bench:stream:one"};
        const double x_single = co_await XAdd(ex, single, one, secs);
        const double x_one = co_await XAdd(ex, cluster, one, secs);
        const double x_three = co_await XAdd(ex, cluster, StreamsOnThreeMasters(), secs);
        std::printf("xadd   single Redis, one stream:        %10.0f entries/s (anchor)\n",
                    x_single);
        std::printf("xadd   cluster, one stream (one slot):  %10.0f entries/s  ratio %.2f\n", x_one,
                    x_one / x_single);
        std::printf("xadd   cluster, 3 streams on 3 masters: %10.0f entries/s  ratio %.2f\n",
                    x_three, x_three / x_single);
        const FanOut f_single = co_await Fan(ex, single, secs);
        const FanOut f_cluster = co_await Fan(ex, cluster, secs);
        std::printf(
            "fanout single Redis (PUBLISH):   %10.0f deliveries/s p50 %.2f ms p99 %.2f ms "
            "(anchor)\n",
            f_single.per_second, f_single.p50_ms, f_single.p99_ms);
        std::printf(
            "fanout cluster (SPUBLISH):       %10.0f deliveries/s p50 %.2f ms p99 %.2f ms  ratio "
            "%.2f\n",
            f_cluster.per_second, f_cluster.p50_ms, f_cluster.p99_ms,
            f_cluster.per_second / f_single.per_second);
      },
      asio::detached);
  io.run();
  return 0;
}
