// payment-load: the transfer load generator of bench/payment_bench.sh.
//
//   payment-load --url URL --auth-url AUTH_URL --secret PSP_SECRET --clients N
//                --accounts K --duration SECONDS [--warmup SECONDS] [--threads T]
//                [--fund MINOR] [--currency THB] [--half-duration SECONDS]
//                [--cpu-pids P,Q,...]
//
// Signs K new users up through the auth service (AUTH_URL with development OTP:
// payment checks there that the other user of a transfer exists, with the
// caller's token, so users and sessions must be real), funds each through a
// top-up and a signed provider webhook, then
// runs N closed-loop clients for the duration, each POSTing /v1/transfers (fresh
// Idempotency-Key, amount 1, random distinct pair of the K accounts) and waiting
// for the answer. Only acknowledged transfers (201) count. Prints one line of
// JSON: {"tps","p50_ms","p99_ms","p999_ms","acknowledged","errors","refused",...}.
// With --half-duration, the same users then get transfers open loop at half the
// measured TPS (a fixed offered rate; each transfer's latency runs from its
// scheduled time, so a late start counts) for that long, after a warm-up of a
// quarter of it, and the line gains "half":{"rate","p50_ms","p99_ms","p999_ms",...}.
// With --cpu-pids, each phase reports "cpu_us_per_op": CPU of those processes'
// trees (service, PostgreSQL, Redis, auth) in the measured window per
// acknowledged transfer, the load generator's own left out.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <proc_cpu.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/client/webhook_signer.hpp>
#include <tchat/core/uuid.hpp>

namespace {

namespace asio = boost::asio;
namespace tc = tchat::client;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  std::string auth_url;
  std::string secret;
  int clients = 32;
  int accounts = 1000;
  double duration = 20;
  double warmup = 3;
  int threads = 1;
  std::int64_t fund = 5'000'000;
  std::string currency = "THB";
  double half_duration = 0;
  std::string cpu_pids;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr, "payment-load: %s\n", msg);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--url")
      o.url = v;
    else if (a == "--auth-url")
      o.auth_url = v;
    else if (a == "--secret")
      o.secret = v;
    else if (a == "--clients")
      o.clients = std::stoi(v);
    else if (a == "--accounts")
      o.accounts = std::stoi(v);
    else if (a == "--duration")
      o.duration = std::stod(v);
    else if (a == "--warmup")
      o.warmup = std::stod(v);
    else if (a == "--threads")
      o.threads = std::stoi(v);
    else if (a == "--fund")
      o.fund = std::stoll(v);
    else if (a == "--currency")
      o.currency = v;
    else if (a == "--half-duration")
      o.half_duration = std::stod(v);
    else if (a == "--cpu-pids")
      o.cpu_pids = v;
    else
      Usage(("unknown option " + a).c_str());
  }
  if (o.url.empty() || o.auth_url.empty() || o.secret.empty()) {
    Usage("--url, --auth-url and --secret are required");
  }
  if (o.accounts < 2 || o.clients < 1 || o.threads < 1) Usage("bad counts");
  return o;
}

struct User {
  std::string id;
  std::string token;
};

std::string MethodFor(const std::string& currency) {
  if (currency == "THB") return "promptpay";
  if (currency == "SGD") return "paynow";
  if (currency == "PHP") return "gcash";
  if (currency == "USD") return "card";
  Usage("--currency must be THB, SGD, PHP or USD");
}

// Runs `worker` on `parallel` coroutines of one io_context until each returns.
template <class Worker>
void RunParallel(asio::io_context& io, int parallel, Worker worker) {
  int running = parallel;
  for (int w = 0; w < parallel; ++w) {
    asio::co_spawn(
        io,
        [&]() -> tchat::Task<void> {
          co_await worker();
          --running;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  while (running > 0) io.run_one();
}

// Signs `n` new users up through auth's development OTP (sign-in with a new
// number), a few at a time. Numbers: +668 and eight digits from a random start.
bool SignUpAll(const Options& o, int n, std::vector<User>& users) {
  asio::io_context io;
  tc::ApiClient auth(io.get_executor(), o.auth_url, {}, 16);
  std::mt19937 rng(std::random_device{}());
  const std::uint32_t base = 10'000'000 + rng() % 80'000'000;
  users.assign(static_cast<std::size_t>(n), User{});
  std::atomic<bool> ok{true};
  std::size_t next = 0;
  auto fail = [&](const char* what, const auto& r) {
    std::fprintf(stderr, "payment-load: %s failed: %s\n", what,
                 r ? r->raw.c_str() : r.error().message.c_str());
    ok = false;
  };
  RunParallel(io, 16, [&]() -> tchat::Task<void> {
    while (next < users.size() && ok) {
      User& u = users[next];
      const std::string phone = "+668" + std::to_string(base + next++);
      auto code =
          co_await auth.Send({"POST", "/v1/auth/otp/request", "{\"phone\":\"" + phone + "\"}"});
      if (!code || code->status != 202) co_return fail("OTP request", code);
      const std::string body = "{\"phone\":\"" + phone + "\",\"code\":\"" +
                               std::string(code->body.at("dev_code").as_string()) +
                               "\",\"device_name\":\"payment-load\",\"platform\":\"web\"}";
      auto s = co_await auth.Send({"POST", "/v1/auth/otp/verify", body});
      if (!s || s->status != 200) co_return fail("OTP verify", s);
      u.id = std::string(s->body.at("user").at("id").as_string());
      u.token = std::string(s->body.at("access_token").as_string());
    }
  });
  return ok;
}

// Funds every user (top-up + signed webhook), a few at a time.
bool FundAll(const Options& o, std::vector<User>& users) {
  asio::io_context io;
  tc::ApiClient api(io.get_executor(), o.url, {}, 16);
  std::atomic<bool> ok{true};
  std::size_t next = 0;
  int running = 16;
  for (int w = 0; w < 16; ++w) {
    asio::co_spawn(
        io,
        [&]() -> tchat::Task<void> {
          while (next < users.size() && ok) {
            const User& u = users[next++];
            const std::string body = "{\"amount\":" + std::to_string(o.fund) + ",\"currency\":\"" +
                                     o.currency + "\",\"method\":\"" + MethodFor(o.currency) +
                                     "\"}";
            tc::ApiRequest topup("POST", "/v1/topups", body);
            topup.bearer = u.token;
            auto t = co_await api.Send(std::move(topup));
            if (!t || t->status != 201) {
              std::fprintf(stderr, "payment-load: top-up failed: %s\n",
                           t ? t->raw.c_str() : t.error().message.c_str());
              ok = false;
              break;
            }
            const std::string ref(t->body.at("provider_reference").as_string());
            const std::string event = "{\"id\":\"evt_" + tchat::NewUuidV7() +
                                      "\",\"type\":\"topup.succeeded\",\"reference\":\"" + ref +
                                      "\",\"amount\":" + std::to_string(o.fund) +
                                      ",\"currency\":\"" + o.currency + "\"}";
            tc::ApiRequest webhook(
                "POST", "/v1/webhooks/psp", event,
                {{"Tchat-Signature", tc::SignWebhook(o.secret, tc::UnixNow(), event)}});
            auto w2 = co_await api.Send(std::move(webhook));
            if (!w2 || w2->status != 200) {
              std::fprintf(stderr, "payment-load: webhook failed: %s\n",
                           w2 ? w2->raw.c_str() : w2.error().message.c_str());
              ok = false;
              break;
            }
          }
          --running;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  while (running > 0) io.run_one();
  return ok;
}

struct ThreadStats {
  std::vector<double> latencies_ms;  // acknowledged transfers in the measured window
  std::int64_t acknowledged = 0;
  std::int64_t refused = 0;  // 4xx
  std::int64_t errors = 0;   // transport errors and 5xx
};

// The measured window of a phase; per_second > 0 makes it open loop: the
// thread's clients take turns at transfers due every 1/per_second from `from`.
struct Phase {
  Clock::time_point from, measure_from, stop;
  double per_second = 0;
};

void RunThread(const Options& o, const std::vector<User>& users, int clients, unsigned seed,
               const Phase& phase, ThreadStats& stats) {
  asio::io_context io;
  tc::ApiClient api(io.get_executor(), o.url, {}, static_cast<std::size_t>(clients) + 4);
  int running = clients;
  std::uint64_t next_due = 0;  // open loop: the thread's next scheduled transfer
  const auto& [from_time, measure_from, stop, per_second] = phase;
  for (int c = 0; c < clients; ++c) {
    asio::co_spawn(
        io,
        [&, c]() -> tchat::Task<void> {
          std::mt19937 rng(seed * 1000u + static_cast<unsigned>(c));
          std::uniform_int_distribution<std::size_t> pick(0, users.size() - 1);
          std::uint64_t n = 0;
          const std::string key_prefix = tchat::NewUuidV7() + "-";
          asio::steady_timer timer(io);
          while (Clock::now() < stop) {
            auto due = Clock::time_point{};
            if (per_second > 0) {
              due = from_time +
                    std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                        static_cast<double>(next_due++) / per_second));
              if (due >= stop) break;
              timer.expires_at(due);
              co_await timer.async_wait(asio::use_awaitable);
            }
            const std::size_t from = pick(rng);
            std::size_t to = pick(rng);
            if (to == from) to = (to + 1) % users.size();
            const std::string body = "{\"to_user_id\":\"" + users[to].id +
                                     "\",\"amount\":1,\"currency\":\"" + o.currency + "\"}";
            tc::ApiRequest transfer("POST", "/v1/transfers", body,
                                    {{"Idempotency-Key", key_prefix + std::to_string(n++)}});
            transfer.bearer = users[from].token;
            const auto start = per_second > 0 ? due : Clock::now();
            auto r = co_await api.Send(std::move(transfer));
            const auto end = Clock::now();
            if (per_second > 0 ? start < measure_from : (end < measure_from || end > stop))
              continue;
            if (!r || r->status >= 500) {
              ++stats.errors;
            } else if (r->status == 201) {
              ++stats.acknowledged;
              stats.latencies_ms.push_back(
                  std::chrono::duration<double, std::milli>(end - start).count());
            } else {
              ++stats.refused;
            }
          }
          --running;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  while (running > 0) io.run_one();
}

// One phase on o.threads threads: closed loop (per_second 0) or open loop at
// per_second in total. Returns the statistics of the measured window.
// CPU and run-queue wait of the server processes over a phase's measured window.
struct ServerTime {
  double cpu = 0, wait = 0;
  tchat::bench::TreeCpu detail{{}};  // per process tree
};

ThreadStats RunPhase(const Options& o, const std::vector<User>& users, double warmup,
                     double duration, double per_second, ServerTime& server) {
  Phase phase;
  phase.from = Clock::now();
  phase.measure_from = phase.from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(warmup));
  phase.stop = phase.measure_from +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  phase.per_second = per_second / o.threads;
  tchat::bench::TreeCpu cpu(tchat::bench::ParsePids(o.cpu_pids));
  std::thread cpu_window([&] {  // the measured window only, not the warm-up
    std::this_thread::sleep_until(phase.measure_from);
    cpu.Start();
    std::this_thread::sleep_until(phase.stop);
    server.cpu = cpu.Stop();
    server.wait = cpu.wait_seconds();
    server.detail = cpu;
  });
  std::vector<ThreadStats> stats(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    const int share = o.clients / o.threads + (t < o.clients % o.threads ? 1 : 0);
    threads.emplace_back([&, t, share] {
      RunThread(o, users, share, static_cast<unsigned>(t + 1), phase,
                stats[static_cast<std::size_t>(t)]);
    });
  }
  for (auto& th : threads) th.join();
  cpu_window.join();
  ThreadStats all;
  for (auto& s : stats) {
    all.acknowledged += s.acknowledged;
    all.refused += s.refused;
    all.errors += s.errors;
    all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
  }
  std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
  return all;
}

// "p50_ms":..,"p99_ms":..,"p999_ms":..,"cpu_us_per_op":.. of a phase.
std::string Figures(const ThreadStats& s, const ServerTime& server) {
  auto pct = [&](double p) {
    if (s.latencies_ms.empty()) return 0.0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(s.latencies_ms.size() - 1));
    return s.latencies_ms[i];
  };
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"cpu_us_per_op\":%.1f,"
                "\"runq_wait_us_per_op\":%.1f,\"cpu_us_by_process\":\"%s\",\"acknowledged\":%lld,"
                "\"refused\":%lld,\"errors\":%lld",
                pct(0.50), pct(0.99), pct(0.999),
                tchat::bench::TreeCpu::UsPerOp(server.cpu, static_cast<double>(s.acknowledged)),
                tchat::bench::TreeCpu::UsPerOp(server.wait, static_cast<double>(s.acknowledged)),
                server.detail.PerRootUs(static_cast<double>(s.acknowledged)).c_str(),
                static_cast<long long>(s.acknowledged), static_cast<long long>(s.refused),
                static_cast<long long>(s.errors));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::vector<User> users;
  if (!SignUpAll(o, o.accounts, users)) return 1;
  if (!FundAll(o, users)) return 1;

  ServerTime cpu;
  const ThreadStats peak = RunPhase(o, users, o.warmup, o.duration, 0, cpu);
  const double tps = static_cast<double>(peak.acknowledged) / o.duration;
  std::string half;
  if (o.half_duration > 0 && tps > 0) {
    ServerTime half_cpu;
    const ThreadStats h =
        RunPhase(o, users, o.half_duration / 4, o.half_duration, tps / 2, half_cpu);
    char buf[128];
    std::snprintf(buf, sizeof buf, ",\"half\":{\"rate\":%.1f,\"tps\":%.1f,", tps / 2,
                  static_cast<double>(h.acknowledged) / o.half_duration);
    half = buf + Figures(h, half_cpu) + "}";
  }
  std::printf("{\"tps\":%.1f,%s,\"clients\":%d,\"accounts\":%d,\"duration_s\":%.1f%s}\n", tps,
              Figures(peak, cpu).c_str(), o.clients, o.accounts, o.duration, half.c_str());
  return peak.errors > 0 && peak.acknowledged == 0 ? 1 : 0;
}
