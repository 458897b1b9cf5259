#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/config.hpp>
#include <tchat/core/http/router.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>
#include <tchat/core/worker.hpp>

namespace tchat::jwt {
class TokenVerifier;
}

namespace tchat {

// A Tchat service process: configuration, worker threads (one io_context each),
// per-worker PostgreSQL pool and Redis client, token verification, the common
// endpoints (/health, /health/ready, /metrics, /debug/pprof/heap) and graceful
// SIGTERM. A service's main() creates an App, adds its routes and components,
// and calls Run(). All set-up calls happen on the main thread before Run().
class App {
 public:
  // Reads CommonConfig from `env`. A bad value is an error whose message names
  // the key; main() prints it and exits non-zero.
  static Result<std::unique_ptr<App>> Create(std::string_view service, std::uint16_t default_port,
                                             EnvSource env = ProcessEnv());
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  const CommonConfig& config() const;
  const ConfigReader& reader() const;
  http::Router& router();
  std::vector<Worker*> workers() const;
  // The shared verifier (null when neither JWKS_URL nor JWKS_FILE is set).
  std::shared_ptr<jwt::TokenVerifier> verifier() const;

  // A readiness check run by /health/ready on the worker serving the probe; it
  // must finish within `deadline` (the app enforces it too).
  using ReadinessCheck = std::function<Task<Status>(Worker&, std::chrono::milliseconds deadline)>;
  void AddReadinessCheck(std::string name, ReadinessCheck check);

  // Runs once per worker, on that worker's thread, when serving starts (after the
  // pg::Pool and redis::RedisClient components exist). For background loops:
  // they should end when stopping() turns true.
  void OnWorkerStart(std::function<Task<void>(Worker&)> fn);
  // Called on the main thread when SIGTERM/SIGINT arrives, before draining.
  void OnShutdown(std::function<void()> fn);
  bool stopping() const;

  // Listens, serves until SIGTERM/SIGINT, drains, and returns the exit code.
  int Run();

 private:
  App();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs a service main: creates the App, lets `setup` wire routes and components,
// runs it. Configuration and set-up errors are printed with the offending key and
// give exit code 2.
int RunService(std::string_view service, std::uint16_t default_port,
               const std::function<Status(App&)>& setup);

}  // namespace tchat
