#include "setup.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/service/app.hpp>

#include "config.hpp"
#include "handlers.hpp"
#include "metrics.hpp"
#include "payment_wallets.hpp"
#include "service.hpp"
#include "signing_keys.hpp"

namespace tchat::auth {
namespace {

Result<KeyFile> LoadKeys(const Config& cfg) {
  if (!cfg.key_file.empty()) return LoadKeyFile(cfg.key_file);
  log::Warn(
      "TCHAT_JWT_KEY_FILE is not set: signing with an ephemeral key that dies with this process "
      "(fine for a local run, never for production; create one with tchat-auth --generate-key)");
  return KeyFile{jwt::Ed25519KeyPair::Generate(NewKid()), std::nullopt};
}

}  // namespace

Status Setup(App& app) {
  const CommonConfig& common = app.config();
  auto cfg = LoadConfig(app.reader(), common);
  if (!cfg) return std::move(cfg).error();
  if (common.database_url.empty()) {
    return Error::InvalidArgument("config DATABASE_URL: auth needs its database (tchat_auth)");
  }
  if (common.redis_url.empty()) {
    return Error::InvalidArgument("config REDIS_URL: auth keeps OTP and rate-limit state in Redis");
  }

  auto key_file = LoadKeys(*cfg);
  if (!key_file) return std::move(key_file).error();
  // Events: one relay per process, on worker 0.
  Worker* first = app.workers().front();
  auto relay = events::OutboxRelay::Create(
      first->io().get_executor(),
      events::OutboxRelayOptions{.service = "auth",
                                 .poll_interval = cfg->outbox_poll_interval,
                                 .retention = cfg->outbox_retention});
  auto deps =
      MakeAuthDeps(*cfg, std::move(*key_file), common.jwt_issuer, common.jwt_audience, relay);
  if (!deps) return std::move(deps).error();
  const SigningKeys& keys = *(*deps)->keys;

  std::shared_ptr<const AuthDeps> shared = *deps;
  for (Worker* w : app.workers()) {
    w->Set(std::make_shared<AuthService>(shared, w->Get<pg::Pool>(), w->Get<redis::RedisClient>()));
    w->Set(std::make_shared<PaymentWallets>(w->io().get_executor(), cfg->payment_url,
                                            cfg->payment_timeout));
  }
  Metrics::Get();  // export the series from the first scrape on
  RegisterRoutes(app.router(), *shared);

  app.OnWorkerStart([relay](Worker& w) -> Task<void> {
    if (w.index() != 0) co_return;
    co_await relay->Run(w.Get<pg::Pool>(), w.Get<redis::RedisClient>());
  });
  app.OnWorkerStart([&app](Worker& w) -> Task<void> {
    if (w.index() != 0) co_return;
    boost::asio::steady_timer timer(w.io());
    while (!app.stopping()) {
      timer.expires_after(std::chrono::minutes(10));
      (void)co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (app.stopping()) break;
      auto n = co_await w.Get<AuthService>().Cleanup();
      if (!n) log::Warn("session clean-up failed", {{"error", n.error().message}});
    }
  });
  app.OnShutdown([relay] { relay->Stop(); });

  log::Info("auth configured", {{"kid", keys.signer().kid()},
                                {"keys_published", static_cast<int>(keys.public_keys().size())},
                                {"dev_otp", cfg->dev_otp},
                                {"otp_per_ip_per_hour", cfg->otp_per_ip.count},
                                {"max_sessions_per_user", cfg->max_sessions_per_user}});
  if (cfg->dev_otp) {
    log::Warn("development OTP is on: sign-in codes are returned in API answers (TCHAT_DEV_OTP=1)");
  }
  return Ok();
}

}  // namespace tchat::auth
