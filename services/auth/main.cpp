// tchat-auth: the auth service (SPEC §3). Wiring only: configuration, keys,
// shared components, one AuthService per worker, routes and background loops
// are composed here and served by the shared App.
//
//   tchat-auth                     serve (configuration from the environment)
//   tchat-auth --generate-key      print a new key file for TCHAT_JWT_KEY_FILE
//   tchat-auth --rotate-key FILE   print FILE rotated: a new active key, FILE's
//                                  active key kept as "previous"
//   tchat-auth --jwks FILE         print the public JWKS of a key file
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>
#include <tchat/core/service/app.hpp>

#include "src/auth_config.hpp"
#include "src/auth_metrics.hpp"
#include "src/auth_service.hpp"
#include "src/handlers.hpp"
#include "src/signing_keys.hpp"

namespace {

using namespace tchat;
using namespace tchat::auth_service;

Result<KeyFile> LoadKeys(const AuthConfig& cfg) {
  if (!cfg.key_file.empty()) return LoadKeyFile(cfg.key_file);
  log::Warn(
      "TCHAT_JWT_KEY_FILE is not set: signing with an ephemeral key that dies with this process "
      "(fine for a local run, never for production; create one with tchat-auth --generate-key)");
  return KeyFile{jwt::Ed25519KeyPair::Generate(NewKid()), std::nullopt};
}

Status Setup(App& app) {
  const CommonConfig& common = app.config();
  auto cfg = LoadAuthConfig(app.reader(), common);
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
  }
  AuthMetrics::Get();  // export the series from the first scrape on
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

int KeyTool(int argc, char** argv) {
  const std::string cmd = argv[1];
  if (cmd == "--generate-key" && argc == 2) {
    std::fputs(NewKeyFileJson(std::nullopt).c_str(), stdout);
    return 0;
  }
  if ((cmd == "--rotate-key" || cmd == "--jwks") && argc == 3) {
    auto file = LoadKeyFile(argv[2]);
    if (!file) {
      std::fprintf(stderr, "tchat-auth: %s\n", file.error().message.c_str());
      return 2;
    }
    if (cmd == "--rotate-key") {
      std::fputs(NewKeyFileJson(file->active).c_str(), stdout);
    } else {
      SigningKeys keys(std::move(*file));
      std::printf("%s\n", keys.jwks().c_str());
    }
    return 0;
  }
  std::fprintf(stderr,
               "usage: tchat-auth                    serve (configured by the environment)\n"
               "       tchat-auth --generate-key     print a new key file (TCHAT_JWT_KEY_FILE)\n"
               "       tchat-auth --rotate-key FILE  print FILE with a new active key\n"
               "       tchat-auth --jwks FILE        print the public JWKS of a key file\n");
  return cmd == "--help" || cmd == "-h" ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) return KeyTool(argc, argv);
  return tchat::RunService("auth", 8081, Setup);
}
