// auth_loadgen: the measuring half of bench/auth_bench.sh.
//
//   auth_loadgen --mode otp     --url URL [--count N | --rate R --duration S]
//                               [--concurrency C] [--pid PID] [--cpu-pids P,Q,...]
//   auth_loadgen --mode refresh --url URL [--duration S] [--rate R] [--concurrency C]
//                               [--pid PID] [--cpu-pids P,Q,...]
//   auth_loadgen --mode login   --url URL [--duration S] [--concurrency C] [--pid PID]
//   auth_loadgen --mode verify  [--duration S]
//
// otp: requests N codes for N new numbers (untimed; dev_code), then verifies them
//   all with C in flight (timed): OTP verification + user creation + session +
//   token issue per operation.
// refresh: signs in C users (untimed), then each rotates its refresh token in a
//   loop for S seconds (timed).
// login: one user with a password, C clients log in for S seconds (Argon2id).
// verify: the shared verifier (tchat::jwt::TokenVerifier) on this thread, cached
//   (repeated tokens) and uncached (Ed25519 each time), S seconds each.
// With --rate R (otp and refresh), the timed phase is open loop: an operation is
// due every 1/R s (otp: R * S codes are asked for first), C clients take them
// in turn, and each latency runs from the operation's due time, so a late start
// counts (p50/p99/p99.9 at a fixed offered rate, not at saturation).
// With --pid, the CPU time tchat-auth used during the timed phase is read from
// /proc, giving operations per second of server CPU ("per core"). With
// --cpu-pids, the CPU of those processes' trees (tchat-auth, PostgreSQL, Redis)
// in the timed phase per operation is printed as cpu_us_per_op.
// Prints one line per figure: RESULT key=value ...
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <proc_cpu.hpp>
#include <unistd.h>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/jwt/token_verifier.hpp>

namespace {

namespace asio = boost::asio;
using namespace tchat;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string url;
  int count = 2000;
  int concurrency = 32;
  int duration = 10;
  int pid = 0;
  double rate = 0;  // > 0: open loop at this many operations per second
  std::string cpu_pids;
};

int Usage() {
  std::fprintf(stderr,
               "usage: auth_loadgen --mode otp|refresh|login|verify [--url URL] [--count N]\n"
               "                    [--concurrency C] [--duration S] [--rate R] [--pid PID]\n"
               "                    [--cpu-pids P,Q,...]\n");
  return 2;
}

// utime + stime of a process in seconds (0 when unreadable).
double CpuSeconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string Percentile(std::vector<double> v, double p) {
  if (v.empty()) return "0";
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v[i]);
  return buf;
}

// Thai mobile numbers, distinct within the run, random across runs.
class Numbers {
 public:
  Numbers() : rng_(std::random_device{}()) {}
  std::string Next() {
    for (;;) {
      std::string n = "+668";
      for (int i = 0; i < 8; ++i) n += static_cast<char>('0' + rng_() % 10);
      if (used_.insert(n).second) return n;
    }
  }

 private:
  std::mt19937_64 rng_;
  std::set<std::string> used_;
};

// A client address per number/worker so per-address limits never bind.
std::string IpFor(std::size_t i) {
  return "10." + std::to_string(i / 62500 % 250 + 1) + "." + std::to_string(i / 250 % 250) + "." +
         std::to_string(i % 250 + 1);
}

class Load {
 public:
  explicit Load(const Options& o)
      : o_(o),
        client_(io_.get_executor(),
                httpclient::HttpClientOptions{
                    .timeout = std::chrono::seconds(30),
                    .max_idle_conns = static_cast<std::size_t>(o.concurrency) * 2,
                    .max_conns_per_host = static_cast<std::size_t>(o.concurrency)}) {}

  // (Arguments are built by the callers as named locals: GCC 12 rejects some
  // braced and literal temporaries inside co_await expressions.)
  Task<Result<json::value>> Post(std::string_view path, const json::object& body, std::string ip,
                                 int want) {
    httpclient::HttpRequest req("POST", o_.url + std::string(path), json::serialize(body));
    req.headers.Set("Content-Type", "application/json");
    req.headers.Set("X-Real-IP", std::move(ip));
    auto r = co_await client_.Send(std::move(req));
    if (!r) co_return std::move(r).error();
    if (r->status != want) {
      co_return Error::Internal("HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200));
    }
    json::error_code ec;
    json::value v = json::parse(r->body, ec);
    if (ec) co_return Error::Internal("bad JSON");
    co_return v;
  }

  // Runs `n` coroutines made by make(i) with at most concurrency in flight.
  template <typename Make>
  void RunMany(std::size_t n, Make make) {
    std::size_t next = 0, running = 0, finished = 0;
    std::function<void()> launch = [&] {
      while (running < static_cast<std::size_t>(o_.concurrency) && next < n) {
        const std::size_t i = next++;
        ++running;
        asio::co_spawn(io_, make(i), [&](std::exception_ptr) {
          --running;
          ++finished;
          launch();
        });
      }
    };
    launch();
    io_.restart();
    while (finished < n) io_.run_one();
  }

  // Runs `workers` loops for the duration; each loop calls step(w) repeatedly.
  template <typename Step>
  void RunFor(int workers, std::chrono::seconds d, Step step) {
    const auto until = Clock::now() + d;
    int finished = 0;
    for (int w = 0; w < workers; ++w) {
      asio::co_spawn(
          io_,
          [&, w]() -> Task<void> {
            while (Clock::now() < until) {
              if (!co_await step(w)) break;
            }
          },
          [&](std::exception_ptr) { ++finished; });
    }
    io_.restart();
    while (finished < workers) io_.run_one();
  }

  // Open loop: an operation is due every 1/rate s from now until `d` has passed;
  // `workers` loops take them in turn, step(w, due) runs one. Returns when every
  // loop has returned.
  template <typename Step>
  void RunPaced(int workers, double rate, std::chrono::seconds d, Step step) {
    const auto t0 = Clock::now();
    const auto until = t0 + d;
    std::uint64_t next = 0;
    int finished = 0;
    for (int w = 0; w < workers; ++w) {
      asio::co_spawn(
          io_,
          [&, w]() -> Task<void> {
            asio::steady_timer timer(io_);
            for (;;) {
              const auto due =
                  t0 + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(static_cast<double>(next++) / rate));
              if (due >= until) break;
              timer.expires_at(due);
              co_await timer.async_wait(asio::use_awaitable);
              if (!co_await step(w, due)) break;
            }
          },
          [&](std::exception_ptr) { ++finished; });
    }
    io_.restart();
    while (finished < workers) io_.run_one();
  }

  const Options& o_;
  asio::io_context io_{1};
  httpclient::HttpClient client_;
  std::size_t errors_ = 0;
  std::string first_error_;
  std::vector<double> latencies_ms_;

  void Fail(const tchat::Error& e) {
    if (errors_++ == 0) first_error_ = e.message;
  }
};

// CPU of tchat-auth (--pid) and of all the server trees (--cpu-pids) in a phase.
struct PhaseCpu {
  explicit PhaseCpu(const Options& o)
      : pid(o.pid), all(bench::ParsePids(o.cpu_pids)), service0(CpuSeconds(o.pid)) {
    all.Start();
  }
  void Stop() {
    service = CpuSeconds(pid) - service0;
    everything = all.enabled() ? all.Stop() : 0;
    waiting = all.wait_seconds();
  }
  int pid;
  bench::TreeCpu all;
  double service0, service = 0, everything = 0, waiting = 0;
};

void Report(const std::string& mode, std::size_t ops, double secs, const PhaseCpu& cpu,
            const Load* l, const std::string& extra = "") {
  std::printf(
      "RESULT mode=%s ops=%zu seconds=%.3f rate=%.1f server_cpu_seconds=%.3f per_core=%.1f "
      "cpu_us_per_op=%.1f runq_wait_us_per_op=%.1f",
      mode.c_str(), ops, secs, static_cast<double>(ops) / secs, cpu.service,
      cpu.service > 0 ? static_cast<double>(ops) / cpu.service : 0.0,
      bench::TreeCpu::UsPerOp(cpu.everything, static_cast<double>(ops)),
      bench::TreeCpu::UsPerOp(cpu.waiting, static_cast<double>(ops)));
  std::printf(" cpu_us_by_process=%s", cpu.all.PerRootUs(static_cast<double>(ops)).c_str());
  if (l) {
    std::printf(" p50_ms=%s p99_ms=%s p999_ms=%s errors=%zu",
                Percentile(l->latencies_ms_, 0.5).c_str(),
                Percentile(l->latencies_ms_, 0.99).c_str(),
                Percentile(l->latencies_ms_, 0.999).c_str(), l->errors_);
    if (l->errors_ > 0) std::printf(" first_error=\"%s\"", l->first_error_.c_str());
  }
  std::printf("%s\n", extra.c_str());
  std::fflush(stdout);
}

int RunOtp(const Options& o) {
  Load l(o);
  Numbers numbers;
  const auto n = static_cast<std::size_t>(o.rate > 0 ? o.rate * o.duration + 1 : o.count);
  std::vector<std::string> phones(n), codes(n);
  for (auto& p : phones) p = numbers.Next();
  // Untimed: ask for the codes.
  l.RunMany(n, [&](std::size_t i) -> Task<void> {
    const json::object r_body{{"phone", phones[i]}};
    auto r = co_await l.Post("/v1/auth/otp/request", r_body, IpFor(i), 202);
    if (!r) {
      l.Fail(r.error());
      co_return;
    }
    if (const auto* c = r->as_object().if_contains("dev_code"))
      codes[i] = std::string(c->as_string());
  });
  if (l.errors_ > 0) {
    std::fprintf(stderr, "auth_loadgen: requesting codes failed: %s (is TCHAT_DEV_OTP=1?)\n",
                 l.first_error_.c_str());
    return 1;
  }
  // Timed: verify every code (sign-in of a new user).
  std::size_t ok = 0;
  auto verify = [&](std::size_t i, Clock::time_point s) -> Task<bool> {
    const json::object r_body{{"phone", phones[i]}, {"code", codes[i]}, {"device_name", "bench"}};
    auto r = co_await l.Post("/v1/auth/otp/verify", r_body, IpFor(i), 200);
    if (!r) {
      l.Fail(r.error());
      co_return false;
    }
    l.latencies_ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    ++ok;
    co_return true;
  };
  PhaseCpu cpu(o);
  const auto t0 = Clock::now();
  if (o.rate > 0) {
    std::size_t next = 0;
    l.RunPaced(o.concurrency, o.rate, std::chrono::seconds(o.duration),
               [&](int, Clock::time_point due) -> Task<bool> {
                 if (next >= n) co_return false;
                 co_return co_await verify(next++, due);
               });
  } else {
    l.RunMany(n, [&](std::size_t i) -> Task<void> { co_await verify(i, Clock::now()); });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  cpu.Stop();
  Report(o.rate > 0 ? "otp_signin_paced" : "otp_signin", ok, secs, cpu, &l);
  return l.errors_ == 0 ? 0 : 1;
}

int RunRefresh(const Options& o) {
  Load l(o);
  Numbers numbers;
  const auto c = static_cast<std::size_t>(o.concurrency);
  std::vector<std::string> tokens(c);
  l.RunMany(c, [&](std::size_t i) -> Task<void> {
    const std::string phone = numbers.Next();
    const json::object r_body{{"phone", phone}};
    auto r = co_await l.Post("/v1/auth/otp/request", r_body, IpFor(i), 202);
    if (!r) {
      l.Fail(r.error());
      co_return;
    }
    const std::string code(r->at("dev_code").as_string());
    const json::object v_body{{"phone", phone}, {"code", code}};
    auto v = co_await l.Post("/v1/auth/otp/verify", v_body, IpFor(i), 200);
    if (!v) {
      l.Fail(v.error());
      co_return;
    }
    tokens[i] = std::string(v->at("refresh_token").as_string());
  });
  if (l.errors_ > 0) {
    std::fprintf(stderr, "auth_loadgen: sign-in failed: %s\n", l.first_error_.c_str());
    return 1;
  }
  std::size_t ok = 0;
  auto rotate = [&](int w, Clock::time_point s) -> Task<bool> {
    auto& token = tokens[static_cast<std::size_t>(w)];
    const json::object r_body{{"refresh_token", token}};
    auto r = co_await l.Post("/v1/auth/refresh", r_body, IpFor(static_cast<std::size_t>(w)), 200);
    if (!r) {
      l.Fail(r.error());
      co_return false;
    }
    token = std::string(r->at("refresh_token").as_string());
    l.latencies_ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    ++ok;
    co_return true;
  };
  PhaseCpu cpu(o);
  const auto t0 = Clock::now();
  if (o.rate > 0) {
    l.RunPaced(o.concurrency, o.rate, std::chrono::seconds(o.duration), rotate);
  } else {
    l.RunFor(o.concurrency, std::chrono::seconds(o.duration),
             [&](int w) -> Task<bool> { co_return co_await rotate(w, Clock::now()); });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  cpu.Stop();
  Report(o.rate > 0 ? "refresh_paced" : "refresh", ok, secs, cpu, &l);
  return l.errors_ == 0 ? 0 : 1;
}

int RunLogin(const Options& o) {
  Load l(o);
  Numbers numbers;
  const std::string phone = numbers.Next();
  const std::string password = "benchmark password 1234";
  bool ready = false;
  const std::string setup_ip = "10.250.0.1";
  l.RunMany(1, [&](std::size_t) -> Task<void> {
    const json::object r_body{{"phone", phone}};
    auto r = co_await l.Post("/v1/auth/otp/request", r_body, setup_ip, 202);
    if (!r) {
      l.Fail(r.error());
      co_return;
    }
    const json::object v_body{{"phone", phone}, {"code", r->at("dev_code").as_string()}};
    auto v = co_await l.Post("/v1/auth/otp/verify", v_body, setup_ip, 200);
    if (!v) {
      l.Fail(v.error());
      co_return;
    }
    // The first password needs a code sent for that purpose.
    const json::object pw_body{{"phone", phone}, {"purpose", "password"}};
    auto pc = co_await l.Post("/v1/auth/otp/request", pw_body, setup_ip, 202);
    if (!pc) {
      l.Fail(pc.error());
      co_return;
    }
    httpclient::HttpRequest put(
        "PUT", o.url + "/v1/auth/password",
        json::serialize(json::object{{"password", password}, {"otp_code", pc->at("dev_code")}}));
    put.headers.Set("Authorization", "Bearer " + std::string(v->at("access_token").as_string()));
    put.headers.Set("X-Real-IP", "10.250.0.1");
    auto p = co_await l.client_.Send(std::move(put));
    ready = p && p->status == 204;
  });
  if (!ready) {
    std::fprintf(stderr, "auth_loadgen: could not set up the login user: %s\n",
                 l.first_error_.c_str());
    return 1;
  }
  std::size_t ok = 0;
  PhaseCpu cpu(o);
  const auto t0 = Clock::now();
  l.RunFor(o.concurrency, std::chrono::seconds(o.duration), [&](int w) -> Task<bool> {
    const auto s = Clock::now();
    const json::object r_body{{"phone", phone}, {"password", password}};
    auto r =
        co_await l.Post("/v1/auth/login", r_body, IpFor(static_cast<std::size_t>(w) + 1000), 200);
    if (!r) {
      l.Fail(r.error());
      co_return false;
    }
    l.latencies_ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    ++ok;
    co_return true;
  });
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  cpu.Stop();
  Report("password_login", ok, secs, cpu, &l);
  return l.errors_ == 0 ? 0 : 1;
}

int RunVerify(const Options& o) {
  auto key = jwt::Ed25519KeyPair::Generate("k-bench");
  jwt::JwtSigner signer(key);
  auto keys = std::make_shared<jwt::StaticKeySource>(jwt::KeySet({key.Public()}));
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.session_id = "0190b4c2-7a1e-7c3d-9f0a-0123456789ac";
  c.issued_at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  c.expires_at = c.issued_at + std::chrono::minutes(15);
  // 1000 users' tokens, verified round-robin (a realistic working set).
  std::vector<std::string> tokens;
  for (int i = 0; i < 1000; ++i) {
    c.subject = "0190b4c2-7a1e-7c3d-9f0a-" + std::to_string(100000000000 + i);
    tokens.push_back(signer.Sign(c));
  }
  for (bool cached : {true, false}) {
    jwt::VerifierOptions vo;
    vo.cache_capacity = cached ? 100'000 : 0;
    jwt::TokenVerifier verifier(keys, vo);
    std::size_t ops = 0, failures = 0;
    const auto t0 = Clock::now();
    const auto until = t0 + std::chrono::seconds(std::max(1, o.duration));
    while (Clock::now() < until) {
      for (int k = 0; k < 256; ++k) {
        if (!verifier.Verify(tokens[ops % tokens.size()])) ++failures;
        ++ops;
      }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    // One thread: the rate is the per-core figure.
    std::printf("RESULT mode=verify_%s ops=%zu seconds=%.3f rate=%.1f per_core=%.1f errors=%zu\n",
                cached ? "cached" : "uncached", ops, secs, static_cast<double>(ops) / secs,
                static_cast<double>(ops) / secs, failures);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--mode")
      o.mode = v;
    else if (a == "--url")
      o.url = v;
    else if (a == "--count")
      o.count = std::atoi(v.c_str());
    else if (a == "--concurrency")
      o.concurrency = std::atoi(v.c_str());
    else if (a == "--duration")
      o.duration = std::atoi(v.c_str());
    else if (a == "--pid")
      o.pid = std::atoi(v.c_str());
    else if (a == "--rate")
      o.rate = std::atof(v.c_str());
    else if (a == "--cpu-pids")
      o.cpu_pids = v;
    else
      return Usage();
  }
  if (argc % 2 == 0) return Usage();
  if (o.count < 1 || o.concurrency < 1 || o.concurrency > 1024 || o.duration < 1 ||
      o.duration > 600 || o.rate < 0 || o.rate > 100000) {
    return Usage();
  }
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  if (o.mode == "verify") return RunVerify(o);
  if (o.url.empty()) return Usage();
  if (o.mode == "otp") return RunOtp(o);
  if (o.mode == "refresh") return RunRefresh(o);
  if (o.mode == "login") return RunLogin(o);
  return Usage();
}
