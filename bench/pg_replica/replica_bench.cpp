// tchat-replica-bench: the measuring half of bench/pg_replica_bench.sh (which
// sets up the servers and the data). Prints, in one run:
//   1. message history pages (PgMessageStore::History, 50 messages) read by C
//      concurrent readers for D seconds from the primary, then from the replica,
//      while one writer inserts messages on the primary: reads/s, p50, p99, and
//      the replica/primary ratio;
//   2. through pg::ReadPool with its lag checks running and R readers: the time
//      from stopping the replica (scripts/pg-replica.sh stop) to the first read
//      answered by the primary, and from its start to the first read answered by
//      it again, with the failed reads (expected 0); median of N runs.
// Usage: tchat-replica-bench PRIMARY_URL REPLICA_URL SCRIPT CONVERSATIONS D C N
//   CONVERSATIONS: file of conversation ids (one per line) holding messages.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/pg/read_pool.hpp>

#include "src/pg_message_store.hpp"

namespace {

namespace asio = boost::asio;
using namespace tchat;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
  std::string primary, replica, script;
  std::vector<std::string> conversations;
  int seconds = 5, readers = 16, runs = 3;
};

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// One writer: single-message inserts into its own conversation until `stop`.
Task<void> Writer(pg::Pool& primary, const bool& stop, long& written) {
  static constexpr std::string_view kSql =
      "INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, created_at, "
      "change_xid) VALUES ('00000000-0000-7000-8000-0000000000ff', $1, gen_random_uuid(), "
      "'00000000-0000-7000-8000-000000000001', 'text', 'writer', now(), pg_current_xact_id())";
  auto next = co_await primary.Query(
      "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = "
      "'00000000-0000-7000-8000-0000000000ff'");
  std::int64_t seq = next ? next->GetInt64(0, 0) : 1;
  while (!stop) {
    if (auto r = co_await primary.Query(kSql, seq++); r) ++written;
  }
}

// Section 1 for one target: history pages read by `readers` coroutines.
void HistoryReads(const Args& a, const std::string& label, const std::string& url, double& rate) {
  asio::io_context io;
  pg::PoolOptions po;
  po.conninfo = a.primary;
  po.max_open = 4;
  pg::Pool primary(io.get_executor(), po);
  po.conninfo = url;
  po.max_open = a.readers;
  pg::Pool target(io.get_executor(), po);
  messaging::PgMessageStore store(target);
  bool stop = false;
  long written = 0, errors = 0;
  std::vector<double> lat;
  const auto start = Clock::now();
  asio::co_spawn(io, Writer(primary, stop, written), asio::detached);
  for (int i = 0; i < a.readers; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> Task<void> {
          std::minstd_rand rng(static_cast<unsigned>(i + 1));
          while (Clock::now() - start < std::chrono::seconds(a.seconds)) {
            const auto& conv = a.conversations[rng() % a.conversations.size()];
            const auto t0 = Clock::now();
            auto page = co_await store.History(conv, messaging::HistoryQuery{});
            if (!page || page->messages.empty()) ++errors;
            lat.push_back(Ms(Clock::now() - t0));
          }
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await Sleep(std::chrono::seconds(a.seconds) + 200ms);
        stop = true;
      },
      asio::detached);
  io.run();
  rate = static_cast<double>(lat.size()) / a.seconds;
  std::printf(
      "  %-8s %9.0f pages/s   p50 %6.2f ms   p99 %6.2f ms   errors %ld   (writer: %ld inserts)\n",
      label.c_str(), rate, Pct(lat, 0.5), Pct(lat, 0.99), errors, written);
}

// Section 2, one run: {stop → first primary read, start → first replica read} in ms.
std::pair<double, double> Fallback(const Args& a, long& failed) {
  asio::io_context io;
  pg::PoolOptions po;
  po.conninfo = a.primary;
  po.max_open = a.readers;
  pg::Pool primary(io.get_executor(), po);
  pg::ReplicaOptions ro;
  ro.max_lag = 1000ms;
  ro.check_interval = 250ms;
  auto state = std::make_shared<pg::ReplicaState>(ro);
  po.conninfo = a.replica;
  po.connect_timeout = 1s;
  po.acquire_timeout = 1s;
  auto replica = std::make_unique<pg::Pool>(io.get_executor(), po);
  pg::Pool* replica_raw = replica.get();
  pg::ReadPool reads(primary, std::move(replica), state);
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> stop_at{0}, started_at{0};
  double to_primary = -1, to_replica = -1;
  auto since = [](std::int64_t t) {
    return Ms(Clock::now().time_since_epoch() - Clock::duration(t));
  };
  asio::co_spawn(io, reads.RunChecks([&] { return done.load(); }), asio::detached);
  for (int i = 0; i < a.readers; ++i) {
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          while (!done) {
            bool on_replica = false;
            auto r = co_await reads.Read([&](pg::Pool& p) {
              on_replica = &p == replica_raw;
              return p.Query("SELECT 1");
            });
            if (!r) ++failed;
            if (stop_at && !on_replica && to_primary < 0) to_primary = since(stop_at);
            if (started_at && on_replica && to_replica < 0) to_replica = since(started_at);
          }
        },
        asio::detached);
  }
  std::thread driver([&] {
    std::this_thread::sleep_for(1500ms);  // reads settle on the replica
    stop_at = Clock::now().time_since_epoch().count();
    (void)std::system((a.script + " stop >/dev/null 2>&1").c_str());
    std::this_thread::sleep_for(1000ms);
    (void)std::system((a.script + " start >/dev/null 2>&1").c_str());
    started_at = Clock::now().time_since_epoch().count();
    std::this_thread::sleep_for(5000ms);
    done = true;
  });
  io.run();
  driver.join();
  return {to_primary, to_replica};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: %s PRIMARY_URL REPLICA_URL SCRIPT CONVERSATIONS SECONDS READERS RUNS\n",
                 argv[0]);
    return 2;
  }
  Args a{argv[1], argv[2], argv[3], {}, std::atoi(argv[5]), std::atoi(argv[6]), std::atoi(argv[7])};
  std::ifstream in(argv[4]);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) a.conversations.push_back(line);
  }
  if (a.conversations.empty()) return 2;

  std::printf(
      "1. message history pages (50 messages), %d readers, %d s each, one writer on the primary\n",
      a.readers, a.seconds);
  double primary_rate = 0, replica_rate = 0;
  HistoryReads(a, "primary", a.primary, primary_rate);
  HistoryReads(a, "replica", a.replica, replica_rate);
  std::printf("  replica / primary: %.2f\n", primary_rate > 0 ? replica_rate / primary_rate : 0);

  std::printf("2. pg::ReadPool, %d readers: replica stopped / started (median of %d)\n", a.readers,
              a.runs);
  std::vector<double> down, up;
  long failed = 0;
  for (int i = 0; i < a.runs; ++i) {
    auto [d, u] = Fallback(a, failed);
    std::printf(
        "  run %d: first read on the primary %.1f ms after the stop began; on the replica "
        "%.1f ms after it was up\n",
        i + 1, d, u);
    down.push_back(d);
    up.push_back(u);
  }
  std::printf("  median: to primary %.1f ms, back to replica %.1f ms; failed reads: %ld\n",
              Pct(down, 0.5), Pct(up, 0.5), failed);
  return 0;
}
