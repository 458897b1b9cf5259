// tchat-msg-loadgen: load for the messaging service, used by bench/messaging_bench.sh.
//
//   tchat-msg-loadgen MODE --url URL --key-file KEYS [options]
//
// Modes (every figure is printed as "key value" lines, easy to grep):
//   throughput  --clients N --window W --duration S --warmup S
//               N/2 direct conversations; every client keeps W message.send in flight
//               to its peer. Prints acked/s and delivered/s (message.new received).
//   latency     --clients N --rate R --duration S --warmup S [--tick-us T]
//               the same conversations, open loop at R messages/s in total; prints
//               send → delivered and send → ack latency percentiles (ms). Each event
//               loop sends its clients' due messages every T µs (default 1000); a
//               message is stamped with its scheduled time, so lateness counts.
//               --samples-file F writes "<send µs> <latency µs>" per delivery.
//               --start-delay S (first send S s after connecting), --linger S (connected S s
//               after the report) and the totals: for bench/peer_bench.sh. --stamp-at-write 1:
//               the stamp is the write time, not the due time (as tsung's; lateness not counted).
//   fanout      --groups G --members M --window W --duration S --warmup S
//               G groups of M members, all connected; one sender per group keeps W in
//               flight. Prints messages/s and deliveries/s.
//   group       --members M --rate R --duration S --warmup S
//               one group of M members, all connected; its owner sends R messages/s
//               (open loop); send → delivered percentiles over all deliveries, then each
//               member's unread count (list page; all sent, at most 1,000) and its latency.
//   idle        --connections N --sources K --server-pid PID [--hold S]
//               N idle WebSockets (distinct users) from 127.0.0.2..127.0.0.(K+1); prints
//               the server's resident memory before/after and per connection.
// Common: --threads T (event loops, default 1), --body-bytes B (default 64), --cpu-pids
//   P,Q (server processes: their trees' CPU per acked message, bench/common/proc_cpu.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <proc_cpu.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/client/token_minter.hpp>
#include <tchat/client/ws_client.hpp>
#include <tchat/core/uuid.hpp>

#include "loadgen_options.hpp"
#include "support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tchat::Task;
using tchat::client::ApiClient;
using tchat::client::TokenMinter;
using tchat::client::WsClient;
using Clock = std::chrono::steady_clock;
using tchat::msg_loadgen::Die;
using tchat::msg_loadgen::Options;
using tchat::msg_loadgen::Parse;
using tchat::msgload::BodyStamp;
using tchat::msgload::ForEachParallel;
using tchat::msgload::Percentile;
using tchat::msgload::RssKiB;
using tchat::msgload::StartsWith;

const Clock::time_point kT0 = Clock::now();

std::int64_t UsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - kT0).count();
}
std::int64_t NowUs() {
  return UsSince(Clock::now());
}

// Counters shared by every thread.
struct Stats {
  std::atomic<std::uint64_t> acked{0}, delivered{0}, errors{0}, sent{0}, connected{0},
      connect_failed{0}, frames{0};
};

// Latencies (µs) of one thread during the measured window.
struct LatencyLog {
  std::vector<std::int64_t> samples;      // send → message.new at the peer
  std::vector<std::int64_t> stamps;       // the send time of each of `samples`
  std::vector<std::int64_t> ack_samples;  // send → ack to the sender
  std::atomic<bool> recording{false};
};

// One load client: a WebSocket, its reader and (optionally) a sender. Lives on one
// thread's io_context.
struct Client {
  explicit Client(asio::io_context& io_in) : io(io_in), ws(io_in.get_executor()), credit(io_in) {
    credit.expires_at(Clock::time_point::max());
  }
  asio::io_context& io;
  WsClient ws;
  std::string user_id;
  std::string token;
  std::string conversation;  // where it sends
  std::string prefix;        // client_msg_id prefix
  std::string bind_address;
  std::uint64_t n = 0;
  int inflight = 0;
  bool connected = false;
  LatencyLog* latency = nullptr;
  asio::steady_timer credit;  // cancelled when an ack frees a slot
  // Latency mode: when the next message is due, and the stamps of the sends not
  // yet acknowledged (acks of one connection come back in send order).
  Clock::time_point next_send;
  std::deque<std::int64_t> unacked;
};

std::string Frame(const Client& c, std::int64_t stamp, const std::string& pad, std::uint64_t n) {
  std::string f;
  f.reserve(176 + pad.size());
  f += R"({"type":"message.send","conversation_id":")";
  f += c.conversation;
  f += R"(","message":{"client_msg_id":")";
  f += c.prefix;
  f += std::to_string(n);
  f += R"(","type":"text","body":")";
  f += std::to_string(stamp);
  f += ' ';
  f += pad;
  f += R"("}})";
  return f;
}

Task<void> Reader(Client& c, Stats& stats) {
  for (;;) {
    auto text = co_await c.ws.ReadText();
    if (!text) {
      c.connected = false;
      c.credit.cancel();
      co_return;
    }
    std::string_view f = *text;
    stats.frames.fetch_add(1, std::memory_order_relaxed);
    if (StartsWith(f, R"({"type":"message.new")")) {
      stats.delivered.fetch_add(1, std::memory_order_relaxed);
      if (c.latency != nullptr && c.latency->recording.load(std::memory_order_relaxed)) {
        const std::int64_t t = BodyStamp(f);
        if (t >= 0) {
          c.latency->samples.push_back(NowUs() - t);
          c.latency->stamps.push_back(t);
        }
      }
    } else if (StartsWith(f, R"({"type":"ack")")) {
      stats.acked.fetch_add(1, std::memory_order_relaxed);
      if (!c.unacked.empty()) {
        if (c.latency != nullptr && c.latency->recording.load(std::memory_order_relaxed)) {
          c.latency->ack_samples.push_back(NowUs() - c.unacked.front());
        }
        c.unacked.pop_front();
      }
      --c.inflight;
      c.credit.cancel();
    } else if (StartsWith(f, R"({"type":"error")")) {
      if (stats.errors.fetch_add(1) < 5) {
        std::fprintf(stderr, "error frame: %.*s\n", static_cast<int>(f.size()), f.data());
      }
      if (!c.unacked.empty()) c.unacked.pop_front();
      --c.inflight;
      c.credit.cancel();
    }
  }
}

Task<void> Connect(Client& c, Stats& stats, const std::string& url) {
  tchat::client::WsOptions wo;
  wo.bind_address = c.bind_address;
  auto st = co_await c.ws.Connect(url, c.token, wo);
  if (!st) {
    if (stats.connect_failed.fetch_add(1) < 5) {
      std::fprintf(stderr, "connect failed: %s\n", st.error().message.c_str());
    }
    co_return;
  }
  c.connected = true;
  stats.connected.fetch_add(1);
  co_await Reader(c, stats);
}

// Keeps `window` sends in flight until `stop`.
Task<void> WindowSender(Client& c, Stats& stats, int window, const std::string& pad,
                        const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed) && c.connected) {
    while (c.inflight < window && !stop.load(std::memory_order_relaxed)) {
      ++c.inflight;
      auto st = co_await c.ws.WriteText(Frame(c, NowUs(), pad, ++c.n));
      if (!st) co_return;
      stats.sent.fetch_add(1, std::memory_order_relaxed);
    }
    c.credit.expires_at(Clock::time_point::max());
    (void)co_await c.credit.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Sends at a fixed rate per client, open loop, for the clients of one event loop:
// every `tick` it writes each message that is due. The stamp is the scheduled
// time, so a late send counts its lateness (unless stamp_at_write). One timer per
// loop rather than one per client: at tens of thousands of messages a second, a
// wake-up per message would cost the machine more than the sends themselves. Each
// wake-up costs ~11 us here (re-arming the timer exits the VM), so a 1 ms tick
// takes the load generator from 15 to 11 us of CPU per message at 18k msg/s; the
// 0.5 ms of lateness it adds on average is in the figures.
Task<void> RateTicker(asio::io_context& io, std::vector<Client*> mine, double per_second,
                      Clock::duration tick, const std::string& pad, Stats& stats,
                      const std::atomic<bool>& stop, bool stamp_at_write) {
  asio::steady_timer timer(io);
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / per_second));
  auto wake = Clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    wake += tick;
    timer.expires_at(wake);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto now = Clock::now();
    for (Client* c : mine) {
      while (c->connected && c->next_send <= now) {
        const std::int64_t stamp = stamp_at_write ? NowUs() : UsSince(c->next_send);
        c->next_send += interval;
        c->unacked.push_back(stamp);
        auto st = co_await c->ws.WriteText(Frame(*c, stamp, pad, ++c->n));
        if (!st) break;
        stats.sent.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

std::string Str(const tchat::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One run of the load generator: its event loops, clients and counters, and a
// step per mode.
struct Run {
  Run(Options opts, TokenMinter m)
      : o(std::move(opts)),
        minter(std::move(m)),
        threads(std::max(1, o.threads)),
        latency(static_cast<std::size_t>(threads)),
        pad(static_cast<std::size_t>(std::max(0, o.body_bytes - 16)), 'x') {
    for (int i = 0; i < threads; ++i) {
      ios.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(ios.back()->get_executor());
    }
    for (auto& io : ios) workers.emplace_back([&io = *io] { io.run(); });
  }

  void MakeClient(int i) {
    auto c = std::make_unique<Client>(*ios[static_cast<std::size_t>(i % threads)]);
    c->user_id = tchat::NewUuidV7();
    c->token = minter.Mint(c->user_id, std::chrono::hours(2));
    c->prefix = "lg" + std::to_string(i) + "-";
    c->latency = &latency[static_cast<std::size_t>(i % threads)];
    clients.push_back(std::move(c));
  }

  // Connects every client, at most `parallel` handshakes at a time.
  void ConnectAll(int parallel) {
    const auto t0 = Clock::now();
    std::size_t started = 0;
    while (started < clients.size()) {
      const auto in_flight = started - stats.connected.load() - stats.connect_failed.load();
      if (in_flight < static_cast<std::size_t>(parallel)) {
        Client& c = *clients[started++];
        asio::co_spawn(c.io, Connect(c, stats, o.url), asio::detached);
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    while (stats.connected.load() + stats.connect_failed.load() < clients.size()) {
      std::this_thread::sleep_for(5ms);
    }
    std::printf("connected %llu\nconnect_failed %llu\nconnect_seconds %.2f\n",
                static_cast<unsigned long long>(stats.connected.load()),
                static_cast<unsigned long long>(stats.connect_failed.load()),
                std::chrono::duration<double>(Clock::now() - t0).count());
    std::fflush(stdout);
  }

  // Warm-up, then the measured window; stops the senders.
  void Measure(const char* label) {
    std::this_thread::sleep_for(std::chrono::seconds(o.warmup + std::max(0, o.start_delay)));
    for (auto& l : latency) l.recording = true;
    tchat::bench::TreeCpu cpu(tchat::bench::ParsePids(o.cpu_pids));
    cpu.Start();
    const auto a0 = stats.acked.load(), d0 = stats.delivered.load();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o.duration));
    const auto a1 = stats.acked.load(), d1 = stats.delivered.load();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (cpu.enabled()) {
      const double used = cpu.Stop();
      std::printf(
          "%s_cpu_seconds %.3f\n%s_cpu_us_per_message %.1f\n%s_runq_wait_us_per_message %.1f\n",
          label, used, label, tchat::bench::TreeCpu::UsPerOp(used, static_cast<double>(a1 - a0)),
          label, tchat::bench::TreeCpu::UsPerOp(cpu.wait_seconds(), static_cast<double>(a1 - a0)));
      std::printf("%s_cpu_us_per_message_by_process %s\n", label,
                  cpu.PerRootUs(static_cast<double>(a1 - a0)).c_str());
    }
    for (auto& l : latency) l.recording = false;
    stop = true;
    std::printf("%s_acked_per_second %.0f\n%s_delivered_per_second %.0f\nerrors %llu\n", label,
                static_cast<double>(a1 - a0) / secs, label, static_cast<double>(d1 - d0) / secs,
                static_cast<unsigned long long>(stats.errors.load()));
  }

  // throughput and latency: n/2 direct conversations of two clients each.
  void RunDirect() {
    const int n = std::max(2, o.clients - o.clients % 2);
    for (int i = 0; i < n; ++i) MakeClient(i);
    ForEachParallel(
        *ios[0], n / 2, 16,
        [&](ApiClient& api, int pair) -> Task<bool> {
          Client& a = *clients[static_cast<std::size_t>(2 * pair)];
          Client& b = *clients[static_cast<std::size_t>(2 * pair + 1)];
          api.set_access_token(a.token);
          auto r = co_await api.CreateDirect(b.user_id);
          if (!r || (r->status != 201 && r->status != 200)) co_return false;
          a.conversation = b.conversation = Str(r->object(), "id");
          co_return true;
        },
        o.url, "creating conversations");
    ConnectAll(256);
    if (o.mode == "throughput") {
      for (auto& c : clients) {
        asio::co_spawn(c->io, WindowSender(*c, stats, o.window, pad, stop), asio::detached);
      }
      Measure("throughput");
    } else {
      RunLatency(n);
    }
  }

  void RunLatency(int n) {
    // Client i starts i/rate seconds in, so the sends are spread evenly.
    const auto start = Clock::now() + std::chrono::seconds(std::max(0, o.start_delay));
    std::vector<std::vector<Client*>> per_loop(static_cast<std::size_t>(threads));
    for (std::size_t i = 0; i < clients.size(); ++i) {
      clients[i]->next_send =
          start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(i) / o.rate));
      per_loop[i % static_cast<std::size_t>(threads)].push_back(clients[i].get());
    }
    const auto tick = std::chrono::microseconds(std::max(10, o.tick_us));
    for (int t = 0; t < threads; ++t) {
      asio::co_spawn(
          *ios[static_cast<std::size_t>(t)],
          RateTicker(*ios[static_cast<std::size_t>(t)], per_loop[static_cast<std::size_t>(t)],
                     o.rate / n, tick, pad, stats, stop, o.stamp_at_write),
          asio::detached);
    }
    Measure("latency");
    std::this_thread::sleep_for(200ms);
    ReportLatency();
    std::printf("total_sent %llu\ntotal_acked %llu\ntotal_delivered %llu\n",
                static_cast<unsigned long long>(stats.sent.load()),
                static_cast<unsigned long long>(stats.acked.load()),
                static_cast<unsigned long long>(stats.delivered.load()));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(std::max(0, o.linger)));
  }

  // Prints "<prefix>latency_*" and "<prefix>ack_latency_*".
  void ReportLatency(const std::string& prefix = "") {
    auto report = [&](const std::string& name, std::vector<std::int64_t> v) {
      const char* label = name.c_str();
      std::printf(
          "%s_samples %zu\n%s_p50_ms %.3f\n%s_p90_ms %.3f\n%s_p99_ms %.3f\n%s_p999_ms %.3f\n"
          "%s_max_ms %.3f\n",
          label, v.size(), label, Percentile(v, 0.50), label, Percentile(v, 0.90), label,
          Percentile(v, 0.99), label, Percentile(v, 0.999), label, Percentile(v, 1.0));
    };
    if (!o.samples_file.empty()) {
      // "<send µs> <latency µs>" per delivery, for looking at the latency over time.
      std::ofstream out(o.samples_file);
      for (auto& l : latency) {
        for (std::size_t i = 0; i < l.samples.size(); ++i) {
          out << l.stamps[i] << ' ' << l.samples[i] << '\n';
        }
      }
    }
    std::vector<std::int64_t> delivered, acked;
    for (auto& l : latency) {
      delivered.insert(delivered.end(), l.samples.begin(), l.samples.end());
      acked.insert(acked.end(), l.ack_samples.begin(), l.ack_samples.end());
    }
    report(prefix + "latency", std::move(delivered));
    report(prefix + "ack_latency", std::move(acked));
  }

  void RunFanout() {
    const int m = std::max(2, o.members);
    for (int i = 0; i < o.groups * m; ++i) MakeClient(i);
    ForEachParallel(
        *ios[0], o.groups, 4,
        [&](ApiClient& api, int g) -> Task<bool> {
          Client& owner = *clients[static_cast<std::size_t>(g * m)];
          std::vector<std::string> ids;
          for (int k = 1; k < m; ++k)
            ids.push_back(clients[static_cast<std::size_t>(g * m + k)]->user_id);
          api.set_access_token(owner.token);
          auto r = co_await api.CreateGroup("bench " + std::to_string(g), ids);
          if (!r || r->status != 201) co_return false;
          const std::string id = Str(r->object(), "id");
          for (int k = 0; k < m; ++k)
            clients[static_cast<std::size_t>(g * m + k)]->conversation = id;
          co_return true;
        },
        o.url, "creating groups");
    ConnectAll(256);
    for (int g = 0; g < o.groups; ++g) {
      Client& sender = *clients[static_cast<std::size_t>(g * m)];
      asio::co_spawn(sender.io, WindowSender(sender, stats, o.window, pad, stop), asio::detached);
    }
    Measure("fanout");
  }

  // One group of o.members, open-loop sends by its owner, then every member's
  // unread count from its conversation list.
  void RunGroup() {
    const int m = std::max(2, o.members);
    for (int i = 0; i < m; ++i) MakeClient(i);
    ForEachParallel(
        *ios[0], 1, 1,
        [&](ApiClient& api, int) -> Task<bool> {
          std::vector<std::string> ids;
          for (int k = 1; k < m; ++k) ids.push_back(clients[static_cast<std::size_t>(k)]->user_id);
          api.set_access_token(clients[0]->token);
          auto r = co_await api.CreateGroup("bench group", ids);
          if (!r || r->status != 201) co_return false;
          for (auto& c : clients) c->conversation = Str(r->object(), "id");
          co_return true;
        },
        o.url, "creating the group");
    ConnectAll(128);
    SettlePresence();
    Client& owner = *clients[0];
    owner.next_send = Clock::now();
    asio::co_spawn(owner.io,
                   RateTicker(owner.io, std::vector<Client*>{&owner}, o.rate,
                              std::chrono::microseconds(std::max(10, o.tick_us)), pad, stats, stop,
                              o.stamp_at_write),
                   asio::detached);
    Measure("group");
    // The ticker's last tick passes; every send answered and delivered (the owner's
    // session gets the ack, not message.new), or 5 s pass, before the reads.
    std::this_thread::sleep_for(200ms);
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline &&
           (stats.acked.load() + stats.errors.load() < stats.sent.load() ||
            stats.delivered.load() < stats.acked.load() * static_cast<std::uint64_t>(m - 1))) {
      std::this_thread::sleep_for(10ms);
    }
    ReportLatency("group_");
    ReadUnread(m, static_cast<std::int64_t>(std::min<std::uint64_t>(stats.acked.load(), 1000)));
  }

  // Each member coming online is told to the others (presence): ~M² frames for a
  // group of M connecting at once. Waits until no frame came for 1 s (at most 120 s),
  // so that the sends are measured on their own.
  void SettlePresence() {
    const auto t0 = Clock::now();
    std::uint64_t last = stats.frames.load();
    int quiet = 0;
    while (quiet < 4 && Clock::now() - t0 < 120s) {
      std::this_thread::sleep_for(250ms);
      const std::uint64_t now = stats.frames.load();
      quiet = now == last ? quiet + 1 : 0;
      last = now;
    }
    std::printf("presence_frames %llu\npresence_settle_seconds %.2f\n",
                static_cast<unsigned long long>(last),
                std::chrono::duration<double>(Clock::now() - t0).count());
    std::fflush(stdout);
  }

  // Every member but the owner reads its conversation list; the group's
  // unread_count must be `want`.
  void ReadUnread(int m, std::int64_t want) {
    std::vector<std::int64_t> took(static_cast<std::size_t>(m), 0);
    std::atomic<int> right{0}, wrong{0};
    const auto t0 = Clock::now();
    ForEachParallel(
        *ios[0], m - 1, 20,
        [&](ApiClient& api, int k) -> Task<bool> {
          Client& c = *clients[static_cast<std::size_t>(k + 1)];
          api.set_access_token(c.token);
          const std::int64_t start = NowUs();
          auto r = co_await api.ListConversations(20);
          took[static_cast<std::size_t>(k)] = NowUs() - start;
          if (!r || r->status != 200) co_return false;
          for (const auto& v : r->object().at("conversations").as_array()) {
            const auto& conv = v.as_object();
            if (Str(conv, "id") != c.conversation) continue;
            const std::int64_t n = conv.at("unread_count").to_number<std::int64_t>();
            (n == want ? right : wrong).fetch_add(1);
            if (n != want && wrong.load() <= 3) {
              std::fprintf(stderr, "unread_count %lld, want %lld\n", static_cast<long long>(n),
                           static_cast<long long>(want));
            }
          }
          co_return true;
        },
        o.url, "reading the members' lists");
    took.resize(static_cast<std::size_t>(m - 1));
    std::printf(
        "unread_expected %lld\nunread_right %d\nunread_wrong %d\nunread_read_seconds %.2f\n"
        "unread_list_p50_ms %.3f\nunread_list_p99_ms %.3f\n",
        static_cast<long long>(want), right.load(), wrong.load(),
        std::chrono::duration<double>(Clock::now() - t0).count(), Percentile(took, 0.50),
        Percentile(took, 0.99));
  }

  void RunIdle() {
    const long before = o.server_pid > 0 ? RssKiB(o.server_pid) : -1;
    for (int i = 0; i < o.connections; ++i) {
      MakeClient(i);
      if (o.sources > 0) {
        clients.back()->bind_address = "127.0.0." + std::to_string(2 + i % o.sources);
      }
    }
    ConnectAll(128);
    std::this_thread::sleep_for(std::chrono::seconds(o.hold));
    const long after = o.server_pid > 0 ? RssKiB(o.server_pid) : -1;
    std::size_t still = 0;
    for (auto& c : clients) still += c->connected;
    std::printf("idle_connections %zu\nserver_rss_before_kib %ld\nserver_rss_after_kib %ld\n",
                still, before, after);
    if (still > 0 && before > 0 && after > 0) {
      std::printf("server_kib_per_connection %.2f\n",
                  static_cast<double>(after - before) / static_cast<double>(still));
    }
  }

  Options o;
  TokenMinter minter;
  int threads;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> workers;
  std::vector<LatencyLog> latency;
  Stats stats;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Client>> clients;
  const std::string pad;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  auto minter = TokenMinter::FromKeyFile(o.key_file);
  if (!minter) Die(minter.error().message);
  Run run(std::move(o), std::move(*minter));
  const std::string& mode = run.o.mode;
  if (mode == "throughput" || mode == "latency") {
    run.RunDirect();
  } else if (mode == "fanout") {
    run.RunFanout();
  } else if (mode == "group") {
    run.RunGroup();
  } else if (mode == "idle") {
    run.RunIdle();
  } else {
    Die("unknown mode " + mode);
  }
  std::fflush(stdout);
  std::_Exit(0);  // thousands of sockets: let the kernel close them
}
