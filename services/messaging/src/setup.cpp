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

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/options.hpp>
#include <tchat/core/service/app.hpp>
#include <tchat/core/uuid.hpp>

#include "config.hpp"
#include "handlers.hpp"
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
  // Worker 0's payment consumer and revocation watcher, for shutdown to stop.
  auto consumer_slot = std::make_shared<std::shared_ptr<PaymentConsumer>>();
  auto watcher_slot = std::make_shared<std::shared_ptr<RevocationWatcher>>();
  app.OnWorkerStart([&app, relays, consume_payments, instance, consumer_slot,
                     watcher_slot](Worker& w) -> Task<void> {
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
      *watcher_slot = StartRevocationWatcher(app, w);
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
  app.OnShutdown([relays, workers, consumer_slot, watcher_slot] {
    for (const auto& relay : relays) {
      if (relay) relay->Stop();
    }
    asio::post(workers.front()->io(), [consumer_slot, watcher_slot] {
      if (*consumer_slot) (*consumer_slot)->Stop();
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
  RegisterRoutes(app.router());
  StartLoops(app, *cfg, instance, relays);
  return Ok();
}

}  // namespace tchat::messaging
