#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/task.hpp>

namespace tchat::jwt {

struct HttpJwksOptions {
  std::string url{};  // JWKS_URL, e.g. http://auth-service:8081/.well-known/jwks.json
  // Scheduled refresh period.
  std::chrono::milliseconds refresh_interval = std::chrono::minutes(5);
  // After a failed fetch (auth down or not deployed yet), try again this soon.
  std::chrono::milliseconds retry_interval = std::chrono::seconds(5);
  // At most one refresh per this period is triggered by unknown kids, so that
  // garbage tokens cannot make every request hit auth.
  std::chrono::milliseconds unknown_kid_min_interval = std::chrono::seconds(30);
  httpclient::HttpClientOptions http{.timeout = std::chrono::seconds(5)};
};

// Keys fetched from the auth service's JWKS endpoint and kept fresh: refreshed
// every refresh_interval, sooner after a failure, and (rate-limited) when a token
// names an unknown kid. A failed or bad fetch keeps the last good set, so a
// verifier goes on working while auth is down.
//
// Runs its own HttpClient on one executor, which must be single-threaded (one
// worker's io_context or a strand); Refresh() must be awaited there. Current(),
// Generation(), OnUnknownKid() and Stop() may be called from any thread. It holds
// Asio objects of that executor: destroy it (and the verifiers sharing it) before
// the io_context.
class HttpJwksKeySource final : public KeySource,
                                public std::enable_shared_from_this<HttpJwksKeySource> {
 public:
  static std::shared_ptr<HttpJwksKeySource> Create(boost::asio::any_io_executor executor,
                                                   HttpJwksOptions options);

  // Spawns the refresh loop (first fetch at once). Call once.
  void Start();
  // Ends the loop soon; the object lives until then. Any thread.
  void Stop();
  // Fetches now and publishes the set if it changed. On the executor only.
  Task<Status> Refresh();

  void OnUnknownKid() override;

  // Successful and failed fetches so far (tests, metrics).
  std::uint64_t fetches() const { return fetches_.load(); }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  HttpJwksKeySource(boost::asio::any_io_executor executor, HttpJwksOptions options);
  static Task<void> Loop(std::shared_ptr<HttpJwksKeySource> self);
  void Wake();

  boost::asio::any_io_executor executor_;
  HttpJwksOptions options_;
  httpclient::HttpClient client_;
  boost::asio::steady_timer timer_;  // the loop's sleep; cancelled to wake it
  std::atomic<bool> stopped_{false};
  bool wake_requested_ = false;  // executor only
  std::atomic<std::int64_t> next_unknown_kid_refresh_ns_{0};
  std::atomic<std::uint64_t> fetches_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace tchat::jwt
