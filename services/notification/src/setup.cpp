#include "setup.hpp"

#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>

#include "config.hpp"
#include "consumer.hpp"
#include "dispatcher.hpp"
#include "fcm.hpp"
#include "handlers.hpp"
#include "metrics.hpp"
#include "processor.hpp"
#include "webhook_provider.hpp"

namespace tchat::notification {

namespace asio = boost::asio;

namespace {

// Which providers serve this process (logged once at start-up).
struct ProviderChoice {
  std::string push;  // webhook, fcm, log
  std::string sms;   // webhook, log
};

ProviderChoice Choose(const Config& s) {
  ProviderChoice c;
  c.push = s.push_provider;
  if (c.push == "auto") {
    c.push = !s.push_webhook_url.empty()                                      ? "webhook"
             : (!s.fcm_project_id.empty() && !s.fcm_credentials_file.empty()) ? "fcm"
                                                                              : "log";
  }
  c.sms = s.sms_provider;
  if (c.sms == "auto") c.sms = s.sms_webhook_url.empty() ? "log" : "webhook";
  return c;
}

// The push provider chosen for this process, on `http`. An FCM token source is
// also registered with the worker (it refreshes the access token there).
std::shared_ptr<PushRouter> MakePushRouter(const ProviderChoice& choice, const Config& settings,
                                           httpclient::HttpClient& http,
                                           const std::shared_ptr<const ServiceAccount>& account,
                                           Worker& w) {
  if (choice.push == "webhook") {
    return std::make_shared<SinglePushRouter>(std::make_unique<WebhookPushProvider>(
        http, settings.push_webhook_url, settings.provider_timeout));
  }
  if (choice.push == "fcm") {
    auto tokens = std::make_shared<ServiceAccountTokenSource>(http, account);
    auto push = std::make_shared<SinglePushRouter>(std::make_unique<FcmProvider>(
        http, tokens, settings.fcm_project_id, settings.fcm_endpoint, settings.provider_timeout));
    w.Set(tokens);
    return push;
  }
  return std::make_shared<SinglePushRouter>(std::make_unique<LogPushProvider>());
}

std::shared_ptr<SmsProvider> MakeSmsProvider(const ProviderChoice& choice, const Config& settings,
                                             httpclient::HttpClient& http) {
  if (choice.sms == "webhook") {
    return std::make_shared<WebhookSmsProvider>(http, settings.sms_webhook_url,
                                                settings.provider_timeout);
  }
  return std::make_shared<LogSmsProvider>();
}

// One worker's components: HTTP client, providers, event processor, dispatcher
// and stream consumers, each registered with the worker.
void SetUpWorker(Worker& w, const CommonConfig& common, const std::shared_ptr<Config>& settings,
                 const ProviderChoice& choice,
                 const std::shared_ptr<const ServiceAccount>& account) {
  auto ex = w.io().get_executor();
  httpclient::HttpClientOptions ho;
  ho.timeout = common.http_client_timeout;
  ho.max_idle_conns = static_cast<std::size_t>(common.http_client_max_idle_conns);
  ho.max_conns_per_host = static_cast<std::size_t>(common.http_client_max_conns_per_host);
  auto http = std::make_shared<httpclient::HttpClient>(ex, ho);

  std::shared_ptr<PushRouter> push = MakePushRouter(choice, *settings, *http, account, w);
  std::shared_ptr<SmsProvider> sms = MakeSmsProvider(choice, *settings, *http);
  auto& pool = w.Get<pg::Pool>();
  auto& redis = w.Get<redis::RedisClient>();
  auto processor = std::make_shared<EventProcessor>(pool, redis, *settings);
  auto dispatcher = std::make_shared<Dispatcher>(ex, pool, *push, *sms, *settings);
  auto consumers =
      std::make_shared<StreamConsumers>(redis, *processor, *dispatcher, *settings, w.index());
  w.Set(settings);  // outlives every component that refers to it
  w.Set(http);
  w.Set(push);
  w.Set(sms);
  w.Set(processor);
  w.Set(dispatcher);
  w.Set(consumers);
}

// The worker's background loops: a consumer per stream, the claimer of stuck
// entries, the delivery poller; the maintenance loop on worker 0 only.
Task<void> StartLoops(App& app, const Config& settings, Worker& w) {
  auto stopping = [&app] { return app.stopping(); };
  auto& consumers = w.Get<StreamConsumers>();
  auto& dispatcher = w.Get<Dispatcher>();
  for (const std::string& stream : ConsumedStreams()) {
    asio::co_spawn(w.io(), consumers.Run(stream, stopping), asio::detached);
  }
  asio::co_spawn(w.io(), consumers.ClaimLoop(stopping), asio::detached);
  asio::co_spawn(w.io(), dispatcher.PollLoop(stopping), asio::detached);
  if (w.index() == 0) {
    asio::co_spawn(w.io(), consumers.MaintenanceLoop(w.Get<pg::Pool>(), stopping), asio::detached);
    log::Info("notification consumers started",
              {{"group", settings.group}, {"consumer", consumers.consumer()}});
  }
  co_return;
}

// SIGTERM: the loops stop reading (app.stopping()); let deliveries already
// handed to providers finish and be recorded, so that a rolling restart does
// not re-send them after their lease. Waits until no dispatcher has a Deliver
// running at two checks in a row, or the providers' timeout has passed.
void AwaitDeliveries(const std::vector<const Dispatcher*>& dispatchers, const Config& settings) {
  const auto deadline = std::chrono::steady_clock::now() + settings.provider_timeout +
                        settings.block + std::chrono::seconds(2);
  int quiet_checks = 0;
  while (std::chrono::steady_clock::now() < deadline && quiet_checks < 2) {
    int active = 0;
    for (const Dispatcher* d : dispatchers) active += d->active();
    quiet_checks = active == 0 ? quiet_checks + 1 : 0;
    std::this_thread::sleep_for(settings.block / 2 + std::chrono::milliseconds(100));
  }
}

}  // namespace

Status Setup(App& app) {
  const CommonConfig& common = app.config();
  if (common.database_url.empty()) return Error::InvalidArgument("config DATABASE_URL: required");
  if (common.redis_url.empty()) return Error::InvalidArgument("config REDIS_URL: required");
  auto loaded = LoadConfig(app.reader(), common);
  if (!loaded) return std::move(loaded).error();
  auto settings = std::make_shared<Config>(std::move(*loaded));
  const ProviderChoice choice = Choose(*settings);

  std::shared_ptr<const ServiceAccount> account;
  if (choice.push == "fcm") {
    auto a = LoadServiceAccount(settings->fcm_credentials_file);
    if (!a) return Error::InvalidArgument("config FCM_CREDENTIALS_FILE: " + a.error().message);
    account = std::make_shared<const ServiceAccount>(std::move(*a));
  }
  (void)Metrics::Get();  // the series exist from the first scrape on

  RegisterRoutes(app.router(), common.admin_token);

  for (Worker* w : app.workers()) SetUpWorker(*w, common, settings, choice, account);
  app.OnWorkerStart(
      [&app, settings](Worker& w) -> Task<void> { return StartLoops(app, *settings, w); });
  // (Workers and their components outlive the shutdown callbacks.)
  std::vector<const Dispatcher*> dispatchers;
  for (Worker* w : app.workers()) dispatchers.push_back(&w->Get<Dispatcher>());
  app.OnShutdown([dispatchers, settings] { AwaitDeliveries(dispatchers, *settings); });
  log::Info("notification providers", {{"push", choice.push}, {"sms", choice.sms}});
  return Ok();
}

}  // namespace tchat::notification
