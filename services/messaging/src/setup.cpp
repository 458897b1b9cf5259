#include "setup.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/blocking_pool.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/service/app.hpp>
#include <tchat/core/uuid.hpp>

#include "account_deletion_consumer.hpp"
#include "config.hpp"
#include "handlers.hpp"
#include "media_handlers.hpp"
#include "media_process.hpp"
#include "messaging_worker.hpp"
#include "payment_consumer.hpp"
#include "revocation_watcher.hpp"

namespace tchat::messaging {
namespace {

namespace asio = boost::asio;

// Keeps this worker's presence entries alive until shutdown.
Task<void> PresenceHeartbeat(App& app, MessagingWorker& mw, asio::any_io_executor ex) {
  asio::steady_timer timer(ex);
  while (!app.stopping()) {
    timer.expires_after(mw.presence->heartbeat_interval());
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (app.stopping()) break;
    co_await mw.presence->HeartbeatOnce();
  }
}

// Closes this worker's sockets whose access token expired, once a second.
Task<void> ExpirySweep(App& app, MessagingWorker& mw, asio::any_io_executor ex) {
  asio::steady_timer timer(ex);
  while (!app.stopping()) {
    timer.expires_after(std::chrono::seconds(1));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (app.stopping()) break;
    mw.guard->CloseExpired(std::chrono::system_clock::now());
  }
}

// Worker 0's revocation watcher: every revocation goes to every worker's guard.
std::shared_ptr<RevocationWatcher> StartRevocationWatcher(App& app, Worker& w) {
  const auto workers = app.workers();
  auto watcher = std::make_shared<RevocationWatcher>(
      w.Get<redis::RedisClient>(), kRememberRevoked,
      [workers](const Revocation& r) {
        for (Worker* each : workers) {
          asio::post(each->io(), [each, r] {
            each->Get<MessagingWorker>().guard->Apply(r, std::chrono::system_clock::now());
          });
        }
      },
      [&app] { return app.stopping(); });
  asio::co_spawn(
      w.io(), [watcher]() -> Task<void> { co_await watcher->Run(); }, asio::detached);
  return watcher;
}

// Worker 0's sweeper: unattached uploads past their life and media no message
// carries any more go, with their files once no upload names their bytes.
Task<void> MediaSweeper(App& app, MessagingWorker& mw, asio::any_io_executor ex,
                        std::chrono::milliseconds every) {
  asio::steady_timer timer(ex);
  while (!app.stopping()) {
    timer.expires_after(every);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (app.stopping()) break;
    auto n = co_await mw.media->SweepOnce();
    if (!n) {
      log::Warn("media sweep failed", {{"error", n.error().message}});
    } else if (*n > 0) {
      log::Info("media swept", {{"media", *n}});
    }
  }
}

// The media store and each worker's MediaService (their blocking pool shared).
Status AttachMedia(App& app, const Config& cfg) {
  MediaOptions mo;
  mo.dir = cfg.media_dir;
  mo.url_key = cfg.media_url_key;
  if (mo.url_key.empty()) {
    mo.url_key = RandomHex(32);
    log::Warn(
        "TCHAT_MEDIA_URL_KEY is not set: signed media URLs use a key of this process and "
        "work only on it (set the key on every replica)");
  }
  mo.limits = cfg.media_limits;
  mo.quota_bytes = cfg.media_quota_bytes;
  mo.unattached_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.media_unattached_ttl);
  mo.url_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.media_url_ttl);
  if (Status st = MediaDir(mo.dir).Prepare(); !st) return st;
  if (Status st = media::InitMediaProcessing(); !st) return st;
  // Two threads: file syncs and renames (image work joins them).
  static BlockingPool blocking(2);
  for (Worker* w : app.workers()) {
    auto& mw = w->Get<MessagingWorker>();
    mw.media_store = std::make_unique<MediaStore>(w->Get<pg::Pool>());
    mw.media = std::make_unique<MediaService>(*mw.media_store, *mw.limits, blocking, mo);
  }
  return Ok();
}

using Relays = std::vector<std::shared_ptr<events::OutboxRelay>>;

// One outbox relay per worker: they share the rows with SKIP LOCKED. Empty
// slots when messaging_outbox_relay is off.
Relays MakeRelays(const Config& cfg, const std::vector<Worker*>& workers) {
  Relays relays(workers.size());
  if (cfg.outbox_relay) {
    events::OutboxRelayOptions ro;
    ro.service = "messaging";
    ro.batch_size = 1000;
    // At most 40 passes a second per worker: each pass is a transaction and a
    // Redis round trip, and the stream's readers (notifications) do not need
    // events sooner. At 18k messages/s, 25 instead of 5 ms cut the median
    // send->delivered latency by ~0.7 ms (3 runs each side by side).
    ro.min_interval = std::chrono::milliseconds(25);
    for (std::size_t i = 0; i < workers.size(); ++i) {
      relays[i] = events::OutboxRelay::Create(workers[i]->io().get_executor(), ro);
    }
  }
  return relays;
}

// One MessagingWorker per worker; their send batchers form one group commit.
void CreateWorkers(App& app, const Config& cfg, const std::string& instance, const Relays& relays) {
  const auto workers = app.workers();
  const auto redis_options = redis::RedisOptions::FromConfig(app.config());
  std::vector<SendBatcher*> batchers;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    Worker* w = workers[i];
    auto mw = std::make_shared<MessagingWorker>(*w, cfg, redis_options, instance, relays[i]);
    mw->verifier = app.verifier();
    batchers.push_back(mw->batcher.get());
    w->Set(std::move(mw));
  }
  SendBatcher::Connect(batchers);
}

// Per worker: the hub, the presence heartbeat and the relay; on worker 0 the
// payment-event consumer. Shutdown stops them.
void StartLoops(App& app, const Config& cfg, const std::string& instance, const Relays& relays) {
  const auto workers = app.workers();
  const bool consume_payments = cfg.payment_consumer;
  const auto sweep_every = cfg.media_sweep_interval;
  // Worker 0's payment consumer and revocation watcher, for shutdown to stop.
  auto consumer_slot = std::make_shared<std::shared_ptr<PaymentConsumer>>();
  auto watcher_slot = std::make_shared<std::shared_ptr<RevocationWatcher>>();
  auto deletions_slot = std::make_shared<std::shared_ptr<AccountDeletionConsumer>>();
  app.OnWorkerStart([&app, relays, consume_payments, instance, consumer_slot, watcher_slot,
                     deletions_slot, sweep_every](Worker& w) -> Task<void> {
    auto& mw = w.Get<MessagingWorker>();
    auto ex = w.io().get_executor();
    mw.hub->Start();
    asio::co_spawn(ex, PresenceHeartbeat(app, mw, ex), asio::detached);
    asio::co_spawn(ex, ExpirySweep(app, mw, ex), asio::detached);
    if (auto& relay = relays[static_cast<std::size_t>(w.index())]) {
      asio::co_spawn(ex, relay->Run(w.Get<pg::Pool>(), w.Get<redis::RedisClient>()),
                     asio::detached);
    }
    if (w.index() == 0) {
      asio::co_spawn(ex, MediaSweeper(app, mw, ex, sweep_every), asio::detached);
      *watcher_slot = StartRevocationWatcher(app, w);
      auto deletions = std::make_shared<AccountDeletionConsumer>(
          w.Get<redis::RedisClient>(), *mw.conversations, "messaging-" + instance,
          [&app] { return app.stopping(); });
      *deletions_slot = deletions;
      asio::co_spawn(
          ex, [deletions]() -> Task<void> { co_await deletions->Run(); }, asio::detached);
      if (consume_payments) {
        auto consumer = std::make_shared<PaymentConsumer>(w.Get<redis::RedisClient>(), *mw.batcher,
                                                          "messaging-" + instance,
                                                          [&app] { return app.stopping(); });
        *consumer_slot = consumer;
        asio::co_spawn(
            ex, [consumer]() -> Task<void> { co_await consumer->Run(); }, asio::detached);
      }
    }
    co_return;
  });
  app.OnShutdown([relays, workers, consumer_slot, watcher_slot, deletions_slot] {
    for (const auto& relay : relays) {
      if (relay) relay->Stop();
    }
    asio::post(workers.front()->io(), [consumer_slot, watcher_slot, deletions_slot] {
      if (*consumer_slot) (*consumer_slot)->Stop();
      if (*deletions_slot) (*deletions_slot)->Stop();
      if (*watcher_slot) (*watcher_slot)->Stop();
    });
    for (Worker* w : workers) {
      asio::post(w->io(), [w] { w->Get<MessagingWorker>().hub->Stop(); });
    }
  });
}

}  // namespace

Status Setup(App& app) {
  auto cfg = LoadConfig(app.reader(), app.config());
  if (!cfg) return std::move(cfg).error();
  if (app.config().database_url.empty()) {
    return Error::InvalidArgument("config DATABASE_URL: the messaging service needs it");
  }
  if (app.config().redis_url.empty()) {
    return Error::InvalidArgument("config REDIS_URL: the messaging service needs it");
  }
  const std::string instance = RandomHex(8);
  const Relays relays = MakeRelays(*cfg, app.workers());
  CreateWorkers(app, *cfg, instance, relays);
  if (Status st = AttachMedia(app, *cfg); !st) return st;
  RegisterRoutes(app.router());
  RegisterMediaRoutes(app.router(), *cfg);
  StartLoops(app, *cfg, instance, relays);
  return Ok();
}

}  // namespace tchat::messaging
