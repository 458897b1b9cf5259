// Load generator of bench/notification_bench.sh: events per second from the
// Redis stream to the provider sink, and event-to-sink latency.
//
//   notification_loadgen --service-bin BIN --pg-url ADMIN_URL --redis-url URL
//       [--rate EVENTS_PER_S] [--seconds N] [--users N] [--devices N] [--threads N]
//       [--collapse-window DUR] [--sink-threads N] [--cpu-pids P,Q,...]
//
// It creates a scratch database (migrated from the repository's migrations),
// registers --users users with --devices devices each, runs the service binary
// against it with the webhook push provider pointed at an in-process sink, and
// publishes message.created events (one offline recipient each, so one event is
// --devices notifications) at --rate for --seconds with pipelined XADDs. It
// prints notifications delivered per second, event-to-sink latency percentiles
// (first push of each event at the sink minus the XADD time) and the backlog
// left when publishing stopped. With --cpu-pids (PostgreSQL, Redis), the CPU
// of those process trees and of the service it started, from the first XADD
// until the last notification arrived, per notification delivered, is printed
// as cpu_us_per_notification (the load generator and its sink are not in it).
// Loopback only; bounded in time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <proc_cpu.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string service_bin, pg_url, redis_url;
  int rate = 2500;
  int seconds = 10;
  int users = 2000;
  int devices = 10;
  int threads = 2;
  int sink_threads = 1;
  std::string collapse_window = "0";
  std::string max_in_flight = "2048";
  std::string conns_per_host = "32";
  std::string cpu_pids;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "notification_loadgen: %s\n", msg.c_str());
  std::exit(1);
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Die("sql: " + err);
}

std::string ReplaceDb(const std::string& url, const std::string& db) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme + 3);
  const auto q = url.find('?', slash == std::string::npos ? 0 : slash);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  return base + "/" + db + (q == std::string::npos ? "" : url.substr(q));
}

// The sink: counts pushes and records the first arrival of each event.
struct SinkStats {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> first;  // event id → first push
  std::vector<Clock::time_point> arrivals;                   // every push, for the rate over time
};

asio::awaitable<void> Session(tcp::socket socket, SinkStats& stats) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  std::vector<std::pair<std::string, Clock::time_point>> local;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    auto [ec, n] =
        co_await bhttp::async_read(stream, buf, req, asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    const auto now = Clock::now();
    const std::string& body = req.body();
    const auto k = body.find("\"event_id\":\"");
    std::string event_id;
    if (k != std::string::npos) event_id = body.substr(k + 12, 36);
    {
      std::lock_guard lock(stats.mu);
      stats.arrivals.push_back(now);
      stats.first.try_emplace(std::move(event_id), now);
    }
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = "{}";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) break;
  }
}

asio::awaitable<void> Accept(tcp::acceptor& a, SinkStats& stats) {
  for (;;) {
    auto [ec, s] = co_await a.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(a.get_executor(), Session(std::move(s), stats), asio::detached);
  }
}

std::string RedisCmd(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r == nullptr) Die("redis connection lost");
  std::string out = r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
                        ? std::string(r->str, r->len)
                    : r->type == REDIS_REPLY_INTEGER ? std::to_string(r->integer)
                                                     : "";
  freeReplyObject(r);
  return out;
}

// XINFO GROUPS lag of group "notification" (entries not yet read), -1 if unknown.
long long GroupLag(redisContext* c, const std::string& stream) {
  const char* argv[] = {"XINFO", "GROUPS", stream.c_str()};
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, 3, argv, nullptr));
  long long lag = -1, pending = 0;
  if (r != nullptr && r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t g = 0; g < r->elements; ++g) {
      auto* grp = r->element[g];
      bool ours = false;
      for (std::size_t i = 0; i + 1 < grp->elements; i += 2) {
        const std::string k(grp->element[i]->str, grp->element[i]->len);
        auto* v = grp->element[i + 1];
        if (k == "name" && v->type == REDIS_REPLY_STRING)
          ours = std::string(v->str, v->len) == "notification";
        if (ours && k == "lag" && v->type == REDIS_REPLY_INTEGER) lag = v->integer;
        if (ours && k == "pending" && v->type == REDIS_REPLY_INTEGER) pending = v->integer;
      }
    }
  }
  if (r != nullptr) freeReplyObject(r);
  return lag < 0 ? -1 : lag + pending;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--service-bin")
      o.service_bin = v;
    else if (k == "--pg-url")
      o.pg_url = v;
    else if (k == "--redis-url")
      o.redis_url = v;
    else if (k == "--rate")
      o.rate = std::stoi(v);
    else if (k == "--seconds")
      o.seconds = std::stoi(v);
    else if (k == "--users")
      o.users = std::stoi(v);
    else if (k == "--devices")
      o.devices = std::stoi(v);
    else if (k == "--threads")
      o.threads = std::stoi(v);
    else if (k == "--sink-threads")
      o.sink_threads = std::stoi(v);
    else if (k == "--collapse-window")
      o.collapse_window = v;
    else if (k == "--max-in-flight")
      o.max_in_flight = v;
    else if (k == "--conns-per-host")
      o.conns_per_host = v;
    else if (k == "--cpu-pids")
      o.cpu_pids = v;
    else
      Die("unknown option " + k);
  }
  if (o.service_bin.empty() || o.pg_url.empty() || o.redis_url.empty()) {
    Die("--service-bin, --pg-url and --redis-url are required");
  }
  return o;
}

// The scratch database: its name and URL, connections to it and to the admin
// database (to drop it at the end).
struct ScratchDb {
  std::string name, url;
  PGconn* admin = nullptr;
  PGconn* conn = nullptr;
};

// Creates the scratch database and applies the service's migrations to it.
ScratchDb CreateScratchDb(const Options& o) {
  ScratchDb db;
  db.name = "tchat_notification_bench_" + std::to_string(getpid());
  db.admin = PQconnectdb(o.pg_url.c_str());
  if (PQstatus(db.admin) != CONNECTION_OK) Die(PQerrorMessage(db.admin));
  Exec(db.admin, "CREATE DATABASE " + db.name);
  db.url = ReplaceDb(o.pg_url, db.name);
  db.conn = PQconnectdb(db.url.c_str());
  if (PQstatus(db.conn) != CONNECTION_OK) Die(PQerrorMessage(db.conn));
  std::vector<std::filesystem::path> ups;
  for (const auto& f : std::filesystem::directory_iterator(TCHAT_NOTIFICATION_MIGRATIONS)) {
    if (f.path().string().ends_with(".up.sql")) ups.push_back(f.path());
  }
  std::sort(ups.begin(), ups.end());
  for (const auto& p : ups) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    Exec(db.conn, ss.str());
  }
  return db;
}

// --users users with --devices devices each; returns the user ids.
std::vector<std::string> RegisterDevices(const Options& o, PGconn* conn) {
  std::vector<std::string> users;
  for (int u = 0; u < o.users; ++u) users.push_back(tchat::NewUuidV7());
  for (int start = 0; start < o.users; start += 500) {
    std::string sql = "INSERT INTO devices (id, user_id, platform, token) VALUES ";
    bool first = true;
    for (int u = start; u < std::min(o.users, start + 500); ++u) {
      for (int d = 0; d < o.devices; ++d) {
        const std::string id = tchat::NewUuidV7();
        sql += (first ? "" : ",") + std::string("('") + id + "','" +
               users[static_cast<std::size_t>(u)] + "','android','tok-" + id + "')";
        first = false;
      }
    }
    Exec(conn, sql);
  }
  return users;
}

// Redis: a clean database.
redisContext* ConnectRedis(const Options& o) {
  const std::string rest = o.redis_url.substr(8);
  const std::string hostport = rest.substr(0, rest.find('/'));
  const int redis_db =
      rest.find('/') == std::string::npos ? 0 : std::stoi(rest.substr(rest.find('/') + 1));
  const std::string rhost = hostport.substr(0, hostport.find(':'));
  const int rport = std::stoi(hostport.substr(hostport.find(':') + 1));
  redisContext* redis = redisConnect(rhost.c_str(), rport);
  if (redis == nullptr || redis->err) Die("cannot connect to redis");
  RedisCmd(redis, {"SELECT", std::to_string(redis_db)});
  RedisCmd(redis,
           {"DEL", std::string(tchat::events::kMessagingStream),
            std::string(tchat::events::kAuthStream), std::string(tchat::events::kPaymentStream)});
  return redis;
}

// Runs the service binary against the scratch database, pushing to the sink, and
// waits until its consumer group exists. Returns its pid.
pid_t StartService(const Options& o, const ScratchDb& db, unsigned short svc_port,
                   unsigned short sink_port, redisContext* redis) {
  std::vector<std::string> env = {
      "PORT=" + std::to_string(svc_port),
      "DATABASE_URL=" + db.url,
      "REDIS_URL=" + o.redis_url,
      "TCHAT_PUSH_WEBHOOK_URL=http://127.0.0.1:" + std::to_string(sink_port) + "/push",
      "TCHAT_THREADS=" + std::to_string(o.threads),
      "LOG_LEVEL=warn",
      "NOTIFICATION_COLLAPSE_WINDOW=" + o.collapse_window,
      "NOTIFICATION_MAX_IN_FLIGHT=" + o.max_in_flight,
      "http_client_max_conns_per_host=" + o.conns_per_host,
      "http_client_max_idle_conns=256",
      "NOTIFICATION_BATCH_SIZE=256"};
  // The key that opens sealed OTP codes, which the service requires: passed on
  // from this program's environment (bench/notification_bench.sh makes one).
  if (const char* key = std::getenv("TCHAT_NOTIFICATION_SEAL_KEY")) {
    env.push_back(std::string("TCHAT_NOTIFICATION_SEAL_KEY=") + key);
  }
  const std::string log_path = "/tmp/" + db.name + ".log";
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string bin = o.service_bin;
    char* args[] = {bin.data(), nullptr};
    execve(bin.c_str(), args, envp.data());
    _exit(127);
  }
  // Ready when the consumer group exists.
  for (int i = 0; i < 200; ++i) {
    if (GroupLag(redis, std::string(tchat::events::kMessagingStream)) >= 0) break;
    std::this_thread::sleep_for(50ms);
  }
  if (GroupLag(redis, std::string(tchat::events::kMessagingStream)) < 0)
    Die("service did not start; see " + log_path);
  std::this_thread::sleep_for(300ms);
  return pid;
}

// What was published: each event's id and XADD time.
struct Published {
  std::vector<std::string> ids;
  std::vector<Clock::time_point> sent;
  Clock::time_point t0, end;
};

// Publish: pipelined XADDs in 10 ms ticks.
Published Publish(const Options& o, redisContext* redis, const std::vector<std::string>& users) {
  const int total = o.rate * o.seconds;
  Published p;
  p.ids.resize(static_cast<std::size_t>(total));
  p.sent.resize(static_cast<std::size_t>(total));
  p.t0 = Clock::now();
  int next = 0;
  while (next < total) {
    const auto tick =
        p.t0 + std::chrono::microseconds(static_cast<long long>(next) * 1000000LL / o.rate);
    std::this_thread::sleep_until(tick);
    const auto elapsed = Clock::now() - p.t0;
    const int due = std::min<int>(
        total,
        static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() *
                         o.rate / 1000000) +
            1);
    const int from = next;
    const std::string now_txt = tchat::FormatRfc3339Ms(std::chrono::system_clock::now());
    for (; next < due; ++next) {
      const std::string id = tchat::NewUuidV7();
      const std::string& to = users[static_cast<std::size_t>(next % o.users)];
      const std::string ev = R"({"id":")" + id + R"(","type":"message.created","occurred_at":")" +
                             now_txt + R"(","data":{"conversation_id":")" + tchat::NewUuidV7() +
                             R"(","message_id":")" + tchat::NewUuidV7() +
                             R"(","seq":1,"sender_id":")" + tchat::NewUuidV7() +
                             R"(","sender_name":"Bench","recipients":[")" + to +
                             R"("],"preview":"hello from the benchmark","type":"text"}})";
      redisAppendCommand(redis, "XADD %b * event %b", tchat::events::kMessagingStream.data(),
                         tchat::events::kMessagingStream.size(), ev.data(), ev.size());
      p.ids[static_cast<std::size_t>(next)] = id;
    }
    const auto at = Clock::now();
    for (int i = from; i < next; ++i) {
      p.sent[static_cast<std::size_t>(i)] = at;
      void* reply = nullptr;
      if (redisGetReply(redis, &reply) != REDIS_OK) Die("XADD failed");
      freeReplyObject(reply);
    }
  }
  p.end = Clock::now();
  return p;
}

// Drain: waits until everything arrived (or 60 s); the last arrival, or none.
Clock::time_point WaitDrained(SinkStats& stats, std::size_t want) {
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(stats.mu);
      if (stats.arrivals.size() >= want) return stats.arrivals.back();
    }
    std::this_thread::sleep_for(100ms);
  }
  return Clock::time_point{};
}

// Figures. Returns the events never delivered.
std::size_t Report(const Options& o, const SinkStats& stats, const Published& p,
                   long long backlog_at_end, Clock::time_point drained, double cpu_seconds,
                   double wait_seconds) {
  const std::size_t want = p.ids.size() * static_cast<std::size_t>(o.devices);
  std::vector<double> lat;
  lat.reserve(p.ids.size());
  std::size_t lost = 0;
  for (std::size_t i = 0; i < p.ids.size(); ++i) {
    auto it = stats.first.find(p.ids[i]);
    if (it == stats.first.end()) {
      ++lost;
      continue;
    }
    lat.push_back(std::chrono::duration<double, std::milli>(it->second - p.sent[i]).count());
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    return lat.empty()
               ? 0.0
               : lat[std::min(lat.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(lat.size())))];
  };
  const std::size_t got = stats.arrivals.size();
  // Steady-state delivery rate: the middle of the run (skip the first and last 20 %).
  double steady = 0;
  if (got > 10) {
    std::vector<Clock::time_point> a = stats.arrivals;
    std::sort(a.begin(), a.end());
    const std::size_t lo = a.size() / 5, hi = a.size() * 4 / 5;
    const double secs = std::chrono::duration<double>(a[hi] - a[lo]).count();
    steady = secs > 0 ? static_cast<double>(hi - lo) / secs : 0;
  }
  const int total = static_cast<int>(p.ids.size());
  const double publish_secs = std::chrono::duration<double>(p.end - p.t0).count();
  const double total_secs =
      drained == Clock::time_point{} ? -1 : std::chrono::duration<double>(drained - p.t0).count();
  std::printf("events published        %d in %.2f s (%.0f events/s offered)\n", total, publish_secs,
              total / publish_secs);
  std::printf("notifications at sink   %zu of %zu (%d devices per user)\n", got, want, o.devices);
  std::printf("delivered rate          %.0f notifications/s steady, %.0f events/s\n", steady,
              steady / o.devices);
  std::printf("all delivered after     %.2f s (publishing took %.2f s)\n", total_secs,
              publish_secs);
  std::printf("backlog at publish end  %lld entries (stream lag + pending)\n", backlog_at_end);
  std::printf(
      "event-to-sink latency   p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms\n",
      pct(0.5), pct(0.9), pct(0.99), pct(0.999), lat.empty() ? 0.0 : lat.back());
  std::printf("events never delivered  %zu\n", lost);
  const double cpu_us = tchat::bench::TreeCpu::UsPerOp(cpu_seconds, static_cast<double>(got));
  if (cpu_seconds > 0) {
    std::printf("server CPU              %.2f s, %.1f us per notification\n", cpu_seconds, cpu_us);
  }
  std::printf(
      "RESULT delivered_per_s=%.0f events_per_s=%.0f offered_events_per_s=%.0f p50_ms=%.1f "
      "p99_ms=%.1f p999_ms=%.1f cpu_us_per_notification=%.1f runq_wait_us_per_notification=%.1f "
      "lost=%zu backlog=%lld\n",
      steady, steady / o.devices, total / publish_secs, pct(0.5), pct(0.99), pct(0.999), cpu_us,
      tchat::bench::TreeCpu::UsPerOp(wait_seconds, static_cast<double>(got)), lost, backlog_at_end);
  return lost;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  ScratchDb db = CreateScratchDb(o);
  const std::vector<std::string> users = RegisterDevices(o, db.conn);
  redisContext* redis = ConnectRedis(o);

  // The sink.
  SinkStats stats;
  stats.arrivals.reserve(static_cast<std::size_t>(o.rate) * static_cast<std::size_t>(o.seconds) *
                             static_cast<std::size_t>(o.devices) +
                         1024);
  asio::io_context sink_io;
  tcp::acceptor acceptor(sink_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto sink_port = acceptor.local_endpoint().port();
  asio::co_spawn(sink_io, Accept(acceptor, stats), asio::detached);
  std::vector<std::thread> sink_threads;
  for (int i = 0; i < o.sink_threads; ++i) sink_threads.emplace_back([&] { sink_io.run(); });

  // The service, on a free port.
  tcp::acceptor probe(sink_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto svc_port = probe.local_endpoint().port();
  probe.close();
  const pid_t pid = StartService(o, db, svc_port, sink_port, redis);

  std::vector<int> cpu_roots = tchat::bench::ParsePids(o.cpu_pids);
  if (!cpu_roots.empty()) cpu_roots.push_back(pid);
  tchat::bench::TreeCpu cpu(cpu_roots);
  cpu.Start();
  const Published published = Publish(o, redis, users);
  const long long backlog_at_end = GroupLag(redis, std::string(tchat::events::kMessagingStream));
  const Clock::time_point drained =
      WaitDrained(stats, published.ids.size() * static_cast<std::size_t>(o.devices));
  const double cpu_seconds = cpu.enabled() ? cpu.Stop() : 0;
  const double wait_seconds = cpu.wait_seconds();

  ::kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  sink_io.stop();
  for (auto& t : sink_threads) t.join();

  const std::size_t lost =
      Report(o, stats, published, backlog_at_end, drained, cpu_seconds, wait_seconds);
  // PostgreSQL / Redis / the service, as --cpu-pids and the service were given.
  if (cpu.enabled()) {
    std::printf("RESULT2 cpu_us_by_process=%s\n",
                cpu.PerRootUs(static_cast<double>(stats.arrivals.size())).c_str());
  }
  PQfinish(db.conn);
  Exec(db.admin, "DROP DATABASE IF EXISTS " + db.name + " WITH (FORCE)");
  PQfinish(db.admin);
  redisFree(redis);
  return lost == 0 ? 0 : 1;
}
