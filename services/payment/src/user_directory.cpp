#include "user_directory.hpp"

#include <utility>

#include <tchat/core/log.hpp>

#include "metrics.hpp"

namespace tchat::payment {

Error DependencyUnavailable(std::string detail) {
  return Error(ErrorCode::kUnavailable, std::move(detail), "dependency_unavailable");
}

UserDirectory::UserDirectory(boost::asio::any_io_executor executor, UserDirectoryOptions options)
    : http_(std::move(executor), httpclient::HttpClientOptions{.timeout = options.timeout,
                                                               .max_idle_conns = 16,
                                                               .max_conns_per_host = 16,
                                                               .max_body_bytes = 64 << 10,
                                                               .user_agent = "tchat-payment"}),
      options_(std::move(options)) {
  while (!options_.auth_url.empty() && options_.auth_url.back() == '/') {
    options_.auth_url.pop_back();
  }
}

bool UserDirectory::Known(const std::string& id) {
  auto it = expiry_.find(id);
  if (it == expiry_.end()) return false;
  if (it->second > Clock::now()) return true;
  expiry_.erase(it);
  return false;
}

void UserDirectory::Remember(const std::string& id) {
  const auto now = Clock::now();
  while (!order_.empty() &&
         (order_.front().second <= now || expiry_.size() >= options_.max_entries ||
          order_.size() > 2 * options_.max_entries)) {
    auto it = expiry_.find(order_.front().first);
    if (it != expiry_.end() && it->second == order_.front().second) expiry_.erase(it);
    order_.pop_front();
  }
  const auto until = now + options_.positive_ttl;
  expiry_[id] = until;
  order_.emplace_back(id, until);
}

Task<Status> UserDirectory::RequireUser(std::string_view id_view, std::string_view authorization) {
  const std::string id(id_view);
  if (Known(id)) {
    Metrics::Get().UserLookup(Metrics::Lookup::kCached);
    co_return Ok();
  }
  if (options_.auth_url.empty()) {
    Metrics::Get().UserLookup(Metrics::Lookup::kUnavailable);
    co_return DependencyUnavailable("TCHAT_AUTH_URL is not set");
  }
  httpclient::HttpRequest request("GET", options_.auth_url + "/v1/users/" + id);
  request.headers.Set("Authorization", std::string(authorization));
  request.headers.Set("Accept", "application/json");
  auto response = co_await http_.Send(std::move(request));
  if (!response) {
    Metrics::Get().UserLookup(Metrics::Lookup::kUnavailable);
    log::Warn("auth did not answer a user lookup", {{"error", response.error().message}});
    co_return DependencyUnavailable("auth: " + response.error().message);
  }
  switch (response->status) {
    case 200:
      Metrics::Get().UserLookup(Metrics::Lookup::kFound);
      Remember(id);
      co_return Ok();
    case 404:
      Metrics::Get().UserLookup(Metrics::Lookup::kNotFound);
      co_return Error(ErrorCode::kNotFound, "user not found", "user_not_found");
    case 401:
      Metrics::Get().UserLookup(Metrics::Lookup::kRefused);
      co_return Error::Unauthenticated("the auth service refused the token; sign in again");
    default:
      Metrics::Get().UserLookup(Metrics::Lookup::kUnavailable);
      log::Warn("auth answered a user lookup with an error", {{"status", response->status}});
      co_return DependencyUnavailable("auth answered " + std::to_string(response->status));
  }
}

}  // namespace tchat::payment
