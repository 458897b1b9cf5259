#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/http/server.hpp>
#include <tchat/core/jwt/http_jwks_key_source.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/metrics.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/pg/read_pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/cluster.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/service/app.hpp>

#include "heap_profile.hpp"

namespace tchat {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct App::Impl {
  CommonConfig config;
  ConfigReader reader{ProcessEnv()};
  http::Router router;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<Worker>> workers;
  std::shared_ptr<jwt::TokenVerifier> verifier;
  std::shared_ptr<jwt::HttpJwksKeySource> jwks_source;
  std::vector<std::pair<std::string, ReadinessCheck>> checks;
  std::vector<std::function<Task<void>(Worker&)>> on_start;
  std::vector<std::function<void()>> on_shutdown;
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // The steps of App::Create, in order.
  void CreateWorkers();
  Status AddPostgres();
  Status AddRedis();
  Status CreateVerifier();
  void AddCommonRoutes();
  // GET /health/ready: every readiness check, run on the serving worker.
  Task<http::Response> Ready(http::Request& req);
};

namespace {

// "postgresql://user@host:5432/tchat_auth?sslmode=disable" -> "tchat_auth".
std::string DatabaseName(const std::string& url) {
  std::string_view u = url;
  auto q = u.find('?');
  if (q != std::string_view::npos) u = u.substr(0, q);
  auto scheme = u.find("://");
  if (scheme == std::string_view::npos) return "unknown";
  auto slash = u.find('/', scheme + 3);
  if (slash == std::string_view::npos || slash + 1 >= u.size()) return "postgres";
  return std::string(u.substr(slash + 1));
}

// The routes TCHAT_DEBUG_ENDPOINTS=1 turns on: a heap profile, and the registered
// routes for the contract test against docs/api/openapi.yaml (read when asked:
// by then the service has registered its own routes too). `router` outlives them.
void AddDebugRoutes(http::Router& router) {
  const http::RouteOptions open{.authenticated = false, .quiet = false};
  router.Get(
      "/debug/pprof/heap",
      [](http::Request&) -> Task<http::Response> {
        auto profile = HeapProfile();
        if (!profile) co_return http::Response::FromError(profile.error());
        co_return http::Response::Text(200, std::move(*profile), "application/octet-stream");
      },
      open);
  router.Get(
      "/debug/routes",
      [&router](http::Request&) -> Task<http::Response> {
        json::array routes;
        for (const auto& r : router.routes()) {
          routes.push_back(
              json::object{{"method", http::MethodName(r->method)}, {"path", r->pattern}});
        }
        co_return http::Response::Json(200, routes);
      },
      open);
}

}  // namespace

App::App() : impl_(std::make_unique<Impl>()) {}
App::~App() = default;

Result<std::unique_ptr<App>> App::Create(std::string_view service, std::uint16_t default_port,
                                         EnvSource env) {
  std::unique_ptr<App> app(new App());
  auto& s = *app->impl_;
  log::SetService(service);
  s.reader = ConfigReader(std::move(env));
  auto cfg = LoadCommonConfig(service, default_port, s.reader);
  if (!cfg) return std::move(cfg).error();
  s.config = std::move(*cfg);
  log::SetService(service);
  log::SetLevel(log::ParseLevel(s.config.log_level, log::Level::kInfo));

  s.CreateWorkers();
  metrics::RegisterProcessMetrics(metrics::Registry::Default());
  metrics::Registry::Default()
      .AddGauge("service_info", "Build and runtime information.", {"service", "version"})
      .With({s.config.service, s.config.version})
      .Set(1);
  if (Status st = s.AddPostgres(); !st) return std::move(st).error();
  if (Status st = s.AddRedis(); !st) return std::move(st).error();
  if (Status st = s.CreateVerifier(); !st) return std::move(st).error();
  s.AddCommonRoutes();
  return app;
}

void App::Impl::CreateWorkers() {
  int threads = config.threads > 0
                    ? config.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    // One thread per io_context, and every socket stays on its worker: the reactor
    // needs no locks (posting work from other threads stays safe).
    ios.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
    workers.push_back(std::make_unique<Worker>(i, *ios.back()));
  }
}

namespace {

// The read replica's settings (docs/operations/read-replica.md).
struct ReplicaSettings {
  std::string url;
  pg::ReplicaOptions options;
};
Result<ReplicaSettings> ReadReplicaSettings(const ConfigReader& r, const CommonConfig& c) {
  ReplicaSettings s;
  std::int64_t lag_ms = 1000;
  std::int64_t check_ms = 250;
  ConfigLoader load;
  load.Read(s.url, r.String("DATABASE_REPLICA_URL", ""));
  load.Read(lag_ms, r.Int("DATABASE_REPLICA_MAX_LAG_MS", lag_ms, 0, 3600000));
  load.Read(check_ms, r.Int("DATABASE_REPLICA_CHECK_INTERVAL_MS", check_ms, 10, 60000));
  load.Require(s.url.empty() || !c.database_url.empty(), "DATABASE_REPLICA_URL",
               "is set without DATABASE_URL (the primary)");
  s.options.max_lag = std::chrono::milliseconds(lag_ms);
  s.options.check_interval = std::chrono::milliseconds(check_ms);
  s.options.service = c.service;
  s.options.database = DatabaseName(c.database_url);
  return std::move(load).Finish(std::move(s));
}

}  // namespace

// Per-worker clients: the configured totals are shared out between workers. Each
// worker also gets a pg::ReadPool for the reads a replica may serve: with
// DATABASE_REPLICA_URL, a replica pool of the same size (and quick to give up on
// a replica that does not answer), whose lag worker 0 measures.
Status App::Impl::AddPostgres() {
  auto replica_settings = ReadReplicaSettings(reader, config);
  if (!replica_settings) return std::move(replica_settings).error();
  if (config.database_url.empty()) return Ok();
  const std::string replica_url = replica_settings->url;
  const int n = static_cast<int>(workers.size());
  const int total = std::min(config.db_max_open_conns, config.db_max_connections);
  const std::string db = DatabaseName(config.database_url);
  auto replica_state = std::make_shared<pg::ReplicaState>(replica_settings->options);
  for (auto& w : workers) {
    pg::PoolOptions o;
    o.conninfo = config.database_url;
    o.max_open = std::max(1, total / n);
    o.max_idle = std::max(1, config.db_max_idle_conns / n);
    o.max_lifetime = config.db_conn_max_lifetime;
    o.service = config.service;
    o.database = db;
    auto primary = std::make_shared<pg::Pool>(w->io().get_executor(), o);
    std::unique_ptr<pg::Pool> replica;
    if (!replica_url.empty()) {
      o.conninfo = replica_url;
      o.database = db + "_replica";
      o.connect_timeout = std::chrono::seconds(1);
      o.acquire_timeout = std::chrono::seconds(1);
      replica = std::make_unique<pg::Pool>(w->io().get_executor(), o);
    }
    w->Set(primary);
    w->Set(std::make_shared<pg::ReadPool>(*primary, std::move(replica), replica_state));
  }
  if (!replica_url.empty()) {
    on_start.push_back([this](Worker& w) -> Task<void> {
      if (w.index() != 0) co_return;
      co_await w.Get<pg::ReadPool>().RunChecks([this] { return stopping.load(); });
    });
  }
  checks.emplace_back("postgres",
                      [](Worker& w, std::chrono::milliseconds deadline) -> Task<Status> {
                        co_return co_await w.Get<pg::Pool>().Ping(deadline);
                      });
  return Ok();
}

Status App::Impl::AddRedis() {
  if (config.redis_url.empty()) return Ok();
  if (Status url = redis::ValidateRedisUrl(config.redis_url); !url) {
    return Error::InvalidArgument("config REDIS_URL: " + url.error().message);
  }
  const int n = static_cast<int>(workers.size());
  for (auto& w : workers) {
    redis::RedisOptions o = redis::RedisOptions::FromConfig(config);
    o.pool_size = std::max(1, config.redis_pool_size / n);
    o.min_idle = std::min(o.pool_size, std::max(0, config.redis_min_idle_conns / n));
    w->Set(std::make_shared<redis::RedisClient>(w->io().get_executor(), o));
  }
  checks.emplace_back("redis", [](Worker& w, std::chrono::milliseconds deadline) -> Task<Status> {
    co_return co_await w.Get<redis::RedisClient>().Ping(deadline);
  });
  return Ok();
}

// Token verification: a local JWKS file (bootstrapping, tests) or auth's JWKS URL.
Status App::Impl::CreateVerifier() {
  jwt::VerifierOptions vo;
  vo.issuer = config.jwt_issuer;
  vo.audience = config.jwt_audience;
  if (!config.jwks_file.empty()) {
    auto src = jwt::StaticKeySource::FromFile(config.jwks_file);
    if (!src) return Error::InvalidArgument("config JWKS_FILE: " + src.error().message);
    verifier = std::make_shared<jwt::TokenVerifier>(*src, vo);
  } else if (!config.jwks_url.empty()) {
    jwt::HttpJwksOptions jo;
    jo.url = config.jwks_url;
    jwks_source = jwt::HttpJwksKeySource::Create(workers.front()->io().get_executor(), jo);
    verifier = std::make_shared<jwt::TokenVerifier>(jwks_source, vo);
  }
  return Ok();
}

// /health, /health/ready, /metrics and, when enabled, /debug/pprof/heap.
void App::Impl::AddCommonRoutes() {
  Impl* impl = this;
  const http::RouteOptions probe{.authenticated = false, .quiet = true};
  // Liveness is probed often (kubelet, load balancers): the constant part of the
  // answer is serialised once, so a probe costs a number's formatting.
  const std::string health_prefix =
      R"({"status":"ok","service":)" + json::serialize(json::string(config.service)) +
      R"(,"version":)" + json::serialize(json::string(config.version)) + R"(,"uptime_seconds":)";
  router.Get(
      "/health",
      [impl, health_prefix](http::Request&) -> Task<http::Response> {
        const auto up = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - impl->started)
                            .count();
        std::string body;
        body.reserve(health_prefix.size() + 24);
        body += health_prefix;
        body += std::to_string(up);
        body += '}';
        co_return http::Response::Text(200, std::move(body), "application/json");
      },
      probe);
  router.Get(
      "/health/ready", [impl](http::Request& req) { return impl->Ready(req); }, probe);
  router.Get(
      "/metrics",
      [](http::Request&) -> Task<http::Response> {
        co_return http::Response::Text(200, metrics::Registry::Default().Expose(),
                                       "text/plain; version=0.0.4; charset=utf-8");
      },
      probe);
  if (config.debug_endpoints) AddDebugRoutes(router);
}

Task<http::Response> App::Impl::Ready(http::Request& req) {
  json::object results;
  bool all_ok = !stopping.load();
  for (auto& [name, check] : checks) {
    auto t0 = std::chrono::steady_clock::now();
    Status st = co_await check(*req.worker, config.readiness_timeout);
    // Whole microseconds as milliseconds with three decimals.
    const double latency =
        static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count()) /
        1000.0;
    json::object c{{"status", st.ok() ? "ok" : "unavailable"}, {"latency_ms", latency}};
    if (!st.ok()) {
      c["error"] = st.error().message;
      all_ok = false;
    }
    results[name] = std::move(c);
  }
  json::object body{{"status", all_ok ? "ok" : "unavailable"},
                    {"service", config.service},
                    {"checks", std::move(results)}};
  if (stopping.load()) body["draining"] = true;
  co_return http::Response::Json(all_ok ? 200 : 503, body);
}

const CommonConfig& App::config() const {
  return impl_->config;
}
const ConfigReader& App::reader() const {
  return impl_->reader;
}
http::Router& App::router() {
  return impl_->router;
}
std::shared_ptr<jwt::TokenVerifier> App::verifier() const {
  return impl_->verifier;
}
bool App::stopping() const {
  return impl_->stopping.load();
}

std::vector<Worker*> App::workers() const {
  std::vector<Worker*> out;
  for (auto& w : impl_->workers) out.push_back(w.get());
  return out;
}

void App::AddReadinessCheck(std::string name, ReadinessCheck check) {
  impl_->checks.emplace_back(std::move(name), std::move(check));
}
void App::OnWorkerStart(std::function<Task<void>(Worker&)> fn) {
  impl_->on_start.push_back(std::move(fn));
}
void App::OnShutdown(std::function<void()> fn) {
  impl_->on_shutdown.push_back(std::move(fn));
}

int App::Run() {
  auto& s = *impl_;
  http::ServerOptions so;
  so.service = s.config.service;
  so.address = s.config.listen_address;
  so.port = s.config.port;
  so.max_body_bytes = s.config.http_max_body_bytes;
  so.header_timeout = s.config.http_header_timeout;
  so.body_timeout = s.config.http_body_timeout;
  so.write_timeout = s.config.http_write_timeout;
  so.idle_timeout = s.config.http_idle_timeout;
  so.trusted_proxies = s.config.trusted_proxies;
  http::Authenticator authn;
  if (s.verifier) {
    authn = [v = s.verifier](std::string_view token) -> Result<http::AuthContext> {
      auto p = v->Verify(token);
      if (!p) return std::move(p).error();
      return http::AuthContext{p->user_id, p->session_id, p->expires_at};
    };
  }
  http::Server server(so, s.router, authn, workers());
  if (auto st = server.Listen(); !st) {
    log::Error("cannot listen", {{"error", st.error().message}});
    return 1;
  }

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& io : s.ios) guards.emplace_back(io->get_executor());
  server.Start();
  if (s.jwks_source) s.jwks_source->Start();
  for (auto& w : s.workers) {
    for (auto& fn : s.on_start) asio::co_spawn(w->io(), fn(*w), asio::detached);
  }
  std::vector<std::thread> threads;
  for (auto& io : s.ios) {
    threads.emplace_back([&io = *io] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          log::Error("uncaught exception on worker", {{"error", e.what()}});
        }
      }
    });
  }
  log::Info("listening", {{"port", server.port()},
                          {"threads", static_cast<int>(s.workers.size())},
                          {"version", s.config.version}});

  // The main thread waits for a signal, then drains.
  asio::io_context main_io(1);
  asio::signal_set signals(main_io, SIGTERM, SIGINT);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) received = sig;
  });
  main_io.run();
  log::Info("shutting down", {{"signal", received}});
  s.stopping.store(true);
  for (auto& fn : s.on_shutdown) fn();
  if (s.jwks_source) s.jwks_source->Stop();
  server.Shutdown();
  const auto deadline = std::chrono::steady_clock::now() + s.config.shutdown_timeout;
  while (server.active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const std::size_t left = server.active_connections();
  guards.clear();
  for (auto& io : s.ios) io->stop();
  for (auto& t : threads) t.join();
  log::Info("stopped", {{"unfinished_connections", static_cast<std::int64_t>(left)}});
  return 0;
}

int RunService(std::string_view service, std::uint16_t default_port,
               const std::function<Status(App&)>& setup) {
  std::signal(SIGPIPE, SIG_IGN);
  auto app = App::Create(service, default_port);
  if (!app) {
    std::fprintf(stderr, "tchat-%.*s: %s\n", static_cast<int>(service.size()), service.data(),
                 app.error().message.c_str());
    log::Error("configuration error", {{"error", app.error().message}});
    return 2;
  }
  if (auto st = setup(**app); !st) {
    std::fprintf(stderr, "tchat-%.*s: %s\n", static_cast<int>(service.size()), service.data(),
                 st.error().message.c_str());
    log::Error("set-up failed", {{"error", st.error().message}});
    return 2;
  }
  return (*app)->Run();
}

}  // namespace tchat
