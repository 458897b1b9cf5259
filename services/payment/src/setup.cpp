#include "setup.hpp"

#include <chrono>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/service/app.hpp>
#include <tchat/core/time.hpp>

#include "config.hpp"
#include "handlers.hpp"
#include "ledger_store.hpp"
#include "metrics.hpp"
#include "money_rate_limiter.hpp"
#include "service.hpp"
#include "transfer_batcher.hpp"
#include "user_directory.hpp"

namespace tchat::payment {
namespace {

namespace asio = boost::asio;

constexpr int kPruneBatch = 1000;
constexpr auto kPruneEvery = std::chrono::minutes(10);

// Deletes idempotency keys older than the TTL every few minutes, in small batches
// so that no transaction runs long. Ends when the app stops.
Task<void> PruneLoop(Worker& w, const App& app, std::chrono::milliseconds ttl) {
  LedgerStore& store = *w.Find<LedgerStore>();
  asio::steady_timer timer(w.io());
  auto next = std::chrono::steady_clock::now();
  while (!app.stopping()) {
    if (std::chrono::steady_clock::now() >= next) {
      next = std::chrono::steady_clock::now() + kPruneEvery;
      const std::int64_t cutoff = NowUnixMs() - ttl.count();
      for (;;) {
        auto n = co_await store.PruneIdempotencyKeys(cutoff, kPruneBatch);
        if (!n) {
          log::Warn("pruning idempotency keys failed", {{"error", n.error().message}});
          break;
        }
        if (*n < kPruneBatch || app.stopping()) break;
      }
    }
    timer.expires_after(std::chrono::seconds(1));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace

Status Setup(App& app) {
  if (app.config().database_url.empty()) {
    return Error::InvalidArgument("config DATABASE_URL: the payment service needs PostgreSQL");
  }
  auto loaded = LoadConfig(app.reader(), app.config());
  if (!loaded) return std::move(loaded).error();
  // Shared read-only by every worker's PaymentService.
  auto config = std::make_shared<const Config>(std::move(*loaded));
  if (config->webhook_secret.empty()) {
    log::Warn("TCHAT_PSP_WEBHOOK_SECRET is not set: provider webhooks are refused");
  }
  if (config->admin_token.empty()) {
    log::Warn("TCHAT_ADMIN_TOKEN is not set: the ledger verification endpoint is refused");
  }
  log::Info("transfers and payment requests check the other user at the auth service",
            {{"auth_url", config->auth_url}, {"timeout_ms", config->auth_timeout.count()}});
  Metrics::Get();  // the series exist from the start

  std::shared_ptr<events::OutboxRelay> relay;
  const auto workers = app.workers();
  if (!app.config().redis_url.empty()) {
    events::OutboxRelayOptions ro;
    ro.service = "payment";
    ro.poll_interval = config->outbox_poll_interval;
    ro.retention = config->outbox_retention;
    relay = events::OutboxRelay::Create(workers.front()->io().get_executor(), ro);
    log::Info("money requests are rate-limited per user",
              {{"per_minute", config->money_rate_limit.count}});
  } else {
    log::Warn(
        "REDIS_URL is not set: payment events stay in the outbox until a relay runs, and "
        "money requests are not rate-limited");
  }

  std::shared_ptr<TransferBatcher> batcher;
  for (Worker* w : workers) {
    auto store = std::make_shared<LedgerStore>(w->Get<pg::Pool>(), w->Find<pg::ReadPool>());
    if (!batcher) {
      // One batcher for the process, at home on worker 0 (see TransferBatcher).
      batcher = std::make_shared<TransferBatcher>(
          w->io().get_executor(), store, config->batch_max_size, config->batch_max_inflight,
          config->batch_min_fill, config->batch_linger);
    }
    auto service = std::make_shared<PaymentService>(store, batcher, config);
    if (relay) service->OnEventsCommitted([relay] { relay->Wake(); });
    w->Set(store);
    w->Set(service);
    // Per worker: its HTTP client is bound to the worker's event loop.
    w->Set(std::make_shared<UserDirectory>(
        w->io().get_executor(),
        UserDirectoryOptions{.auth_url = config->auth_url, .timeout = config->auth_timeout}));
    // Null Redis client without REDIS_URL: the limiter then admits everything.
    w->Set(std::make_shared<MoneyRateLimiter>(w->Find<redis::RedisClient>(),
                                              config->money_rate_limit));
  }

  RegisterRoutes(app.router());

  const App* app_ptr = &app;
  const auto ttl = config->idempotency_ttl;
  app.OnWorkerStart([relay, app_ptr, ttl](Worker& w) -> Task<void> {
    if (w.index() != 0) co_return;
    if (relay) {
      asio::co_spawn(
          w.io(),
          [relay, &w]() -> Task<void> {
            co_await relay->Run(w.Get<pg::Pool>(), w.Get<redis::RedisClient>());
          },
          asio::detached);
    }
    co_await PruneLoop(w, *app_ptr, ttl);
  });
  if (relay) app.OnShutdown([relay] { relay->Stop(); });
  return Ok();
}

}  // namespace tchat::payment
