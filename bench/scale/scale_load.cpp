// Load client of bench/scale_bench.sh (not a test): runs each named request of a
// plan file with a fixed number of concurrent readers for a fixed time and
// prints its latency percentiles.
//
// Usage: tchat-scale-load --key-file FILE --plan FILE [--concurrency 20]
//            [--duration 10] [--warmup 2] [--rate R] [--only NAME]
// Plan: one request per line, tab-separated:
//   name  method  base_url  user_id  path  [body]
// Lines of one name form one measurement; its `concurrency` readers take the
// lines in turn (so a name can spread over many users or conversations). "{n}"
// in the body becomes a number unique within the run (client_msg_id of a send).
// Every request carries an access token of its user, signed with the key file's
// key (as auth would sign it). A request that does not answer 2xx counts as an
// error; its first answer is printed. --rate R: R requests a second over all
// readers, evenly spaced (an open loop: the latencies of a service below its
// maximum); without it each reader sends again as soon as it has an answer (a
// closed loop: the rate is the service's maximum with that many in flight).
// Output, one line per name:
//   result <name> n=<count> errors=<count> rps=<per second> p50_ms=<> p99_ms=<> max_ms=<>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/client/token_minter.hpp>

namespace asio = boost::asio;
using tchat::Task;
using tchat::client::ApiClient;
using tchat::client::ApiRequest;
using tchat::client::TokenMinter;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "tchat-scale-load: %s\n", why.c_str());
  std::exit(2);
}

struct Options {
  std::string key_file, plan, only;
  int concurrency = 20;
  int duration = 10;
  int warmup = 2;
  double rate = 0;  // requests per second over all readers; 0: each reader sends at once again
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Die("missing value of " + a);
    const std::string v = argv[++i];
    if (a == "--key-file") {
      o.key_file = v;
    } else if (a == "--plan") {
      o.plan = v;
    } else if (a == "--only") {
      o.only = v;
    } else if (a == "--concurrency") {
      o.concurrency = std::atoi(v.c_str());
    } else if (a == "--duration") {
      o.duration = std::atoi(v.c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atoi(v.c_str());
    } else if (a == "--rate") {
      o.rate = std::atof(v.c_str());
    } else {
      Die("unknown option " + a);
    }
  }
  if (o.key_file.empty() || o.plan.empty()) Die("--key-file and --plan are required");
  if (o.concurrency < 1 || o.concurrency > 256) Die("--concurrency must be 1..256");
  if (o.duration < 1 || o.duration > 300) Die("--duration must be 1..300 (bounded)");
  if (o.warmup < 0 || o.warmup > 60) Die("--warmup must be 0..60");
  if (o.rate < 0 || o.rate > 100000) Die("--rate must be 0..100000");
  return o;
}

struct Line {
  std::string method, base, user, path, body, token;
};

std::vector<std::string> SplitTabs(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto tab = s.find('\t', start);
    out.push_back(s.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

// The plan's names in file order, with their lines.
std::vector<std::pair<std::string, std::vector<Line>>> ReadPlan(const Options& o,
                                                                const TokenMinter& minter) {
  std::ifstream in(o.plan);
  if (!in) Die("cannot read " + o.plan);
  std::vector<std::pair<std::string, std::vector<Line>>> plan;
  std::map<std::string, std::string> tokens;
  std::string s;
  while (std::getline(in, s)) {
    if (s.empty() || s[0] == '#') continue;
    auto f = SplitTabs(s);
    if (f.size() < 5) Die("plan line has fewer than 5 fields: " + s);
    if (!o.only.empty() && f[0] != o.only) continue;
    if (plan.empty() || plan.back().first != f[0]) plan.emplace_back(f[0], std::vector<Line>{});
    auto& tok = tokens[f[3]];
    if (tok.empty()) tok = minter.Mint(f[3], std::chrono::hours(2));
    plan.back().second.push_back(Line{f[1], f[2], f[3], f[4], f.size() > 5 ? f[5] : "", tok});
  }
  return plan;
}

std::string Expand(std::string body, std::uint64_t n) {
  const auto at = body.find("{n}");
  if (at != std::string::npos) body.replace(at, 3, std::to_string(n));
  return body;
}

struct Measurement {
  const std::vector<Line>* lines = nullptr;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> recording{false}, stop{false};
  std::atomic<int> running{0};
  std::mutex mu;
  std::vector<std::int64_t> us;  // latencies while recording
  std::uint64_t errors = 0;
  std::string first_error;
};

// One reader. With a rate, its requests are due every `interval` (readers
// staggered by `offset`) and a latency counts from when the request was due, so a
// slow answer also delays what should have been sent meanwhile (no coordinated
// omission); without one, it sends the next request as soon as an answer comes.
Task<void> Reader(asio::io_context& io, Measurement& m, std::uint64_t run_id,
                  std::chrono::nanoseconds interval, std::chrono::nanoseconds offset) {
  std::map<std::string, std::unique_ptr<ApiClient>> clients;  // one keep-alive client per base
  std::vector<std::int64_t> mine;
  std::uint64_t errors = 0;
  std::string first_error;
  asio::steady_timer timer(io);
  auto due = Clock::now() + offset;
  while (!m.stop.load()) {
    if (interval.count() > 0) {
      timer.expires_at(due);
      (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    const std::uint64_t n = m.next.fetch_add(1);
    const Line& l = (*m.lines)[n % m.lines->size()];
    auto& c = clients[l.base];
    if (!c) c = std::make_unique<ApiClient>(io.get_executor(), l.base, "", 1);
    ApiRequest req(l.method, l.path, l.body.empty() ? "" : Expand(l.body, run_id * 1000000000 + n));
    req.bearer = l.token;
    const bool rec = m.recording.load();
    const auto t0 = interval.count() > 0 ? due : Clock::now();
    due += interval;
    auto r = co_await c->Send(std::move(req));
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    if (!r || !r->ok()) {
      ++errors;
      if (first_error.empty()) {
        first_error =
            l.method + " " + l.path + ": " +
            (r ? std::to_string(r->status) + " " + r->raw.substr(0, 300) : r.error().message);
      }
      continue;
    }
    if (rec) mine.push_back(us.count());
  }
  {
    std::lock_guard lock(m.mu);
    m.us.insert(m.us.end(), mine.begin(), mine.end());
    m.errors += errors;
    if (m.first_error.empty()) m.first_error = first_error;
  }
  m.running.fetch_sub(1);
}

double Pct(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(k, sorted.size() - 1)]) / 1000.0;
}

void Measure(const Options& o, const std::string& name, const std::vector<Line>& lines,
             std::uint64_t run_id) {
  asio::io_context io(1);
  Measurement m;
  m.lines = &lines;
  m.running = o.concurrency;
  const auto interval =
      o.rate > 0 ? std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * o.concurrency / o.rate))
                 : std::chrono::nanoseconds(0);
  for (int i = 0; i < o.concurrency; ++i) {
    asio::co_spawn(io, Reader(io, m, run_id, interval, interval * i / o.concurrency),
                   asio::detached);
  }
  std::thread loop([&io] { io.run(); });
  std::this_thread::sleep_for(std::chrono::seconds(o.warmup));
  m.recording = true;
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.duration));
  m.recording = false;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  m.stop = true;
  while (m.running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  io.stop();
  loop.join();
  std::sort(m.us.begin(), m.us.end());
  std::printf("result %s n=%zu errors=%llu rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
              name.c_str(), m.us.size(), static_cast<unsigned long long>(m.errors),
              static_cast<double>(m.us.size()) / secs, Pct(m.us, 0.50), Pct(m.us, 0.99),
              m.us.empty() ? 0.0 : static_cast<double>(m.us.back()) / 1000.0);
  if (!m.first_error.empty())
    std::printf("first_error %s %s\n", name.c_str(), m.first_error.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  auto minter = TokenMinter::FromKeyFile(o.key_file);
  if (!minter) Die(minter.error().message);
  const auto plan = ReadPlan(o, *minter);
  if (plan.empty()) Die("the plan has no request");
  const auto run_id =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count() %
                                 1000000);
  for (const auto& [name, lines] : plan) Measure(o, name, lines, run_id);
  return 0;
}
