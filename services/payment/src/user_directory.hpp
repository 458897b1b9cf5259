#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::payment {

struct UserDirectoryOptions {
  // Base URL of the auth service (TCHAT_AUTH_URL), e.g. http://127.0.0.1:8081.
  std::string auth_url;
  // Deadline of one question to auth (PAYMENT_AUTH_TIMEOUT): past it, the caller
  // gets 503 rather than wait.
  std::chrono::milliseconds timeout = std::chrono::seconds(2);
  // How long a user auth confirmed stays known without asking again; only
  // existence is cached. A user deleted meanwhile (DELETE /v1/users/me) is still
  // safe to name: their wallets were closed first, so a transfer to them answers
  // 409 wallet_closed and moves nothing.
  std::chrono::milliseconds positive_ttl = std::chrono::minutes(10);
  // Known users kept at most (the oldest go first).
  std::size_t max_entries = 100'000;
};

// Whether a user exists, as the auth service says (GET /v1/users/{id}, asked with
// the caller's own bearer token: no credential of payment's own). Positive answers
// are cached; "no such user" and failures are not, so a user who signs up a
// moment later can be paid at once. One per worker: NOT thread-safe (its
// HttpClient is bound to the worker's executor).
class UserDirectory {
 public:
  UserDirectory(boost::asio::any_io_executor executor, UserDirectoryOptions options);

  // Ok when user `id` (a canonical UUID) exists. Errors, for the client as they are:
  //   404 user_not_found           auth does not know the user;
  //   401 unauthenticated          auth refused the caller's token (e.g. a revoked session);
  //   503 dependency_unavailable   auth unreachable, too slow, or any other answer.
  // `authorization` is the caller's Authorization header value ("Bearer ...").
  Task<Status> RequireUser(std::string_view id, std::string_view authorization);

  // Users currently cached (tests and gauges).
  std::size_t cached() const { return expiry_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool Known(const std::string& id);
  void Remember(const std::string& id);

  httpclient::HttpClient http_;
  UserDirectoryOptions options_;
  std::unordered_map<std::string, Clock::time_point> expiry_;
  // Insertion order (= expiry order, one TTL for all): the eviction queue. An entry
  // whose map time differs was renewed or dropped and is skipped.
  std::deque<std::pair<std::string, Clock::time_point>> order_;
};

// The error a counterparty check fails with when auth cannot answer (503).
Error DependencyUnavailable(std::string detail);

}  // namespace tchat::payment
