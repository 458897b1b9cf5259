#include "payment_wallets.hpp"

#include <utility>

#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>

namespace tchat::auth {

namespace {

Error PaymentUnavailable(std::string detail) {
  return Error(ErrorCode::kUnavailable, std::move(detail), "dependency_unavailable");
}

}  // namespace

PaymentWallets::PaymentWallets(boost::asio::any_io_executor executor, std::string payment_url,
                               std::chrono::milliseconds timeout)
    : http_(std::move(executor), httpclient::HttpClientOptions{.timeout = timeout,
                                                               .max_idle_conns = 4,
                                                               .max_conns_per_host = 4,
                                                               .max_body_bytes = 64 << 10,
                                                               .user_agent = "tchat-auth"}),
      url_(std::move(payment_url)) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
}

Task<Status> PaymentWallets::Close(std::string_view authorization) {
  if (url_.empty()) co_return PaymentUnavailable("TCHAT_PAYMENT_URL is not set");
  httpclient::HttpRequest request("POST", url_ + "/v1/wallets/close");
  request.headers.Set("Authorization", std::string(authorization));
  request.headers.Set("Accept", "application/json");
  auto response = co_await http_.Send(std::move(request));
  if (!response) {
    log::Warn("payment did not answer a wallet closure", {{"error", response.error().message}});
    co_return PaymentUnavailable("payment: " + response.error().message);
  }
  if (response->status == 204 || response->status == 200) co_return Ok();
  if (response->status == 401) {
    co_return Error::Unauthenticated("the payment service refused the token; sign in again");
  }
  if (response->status == 409) {
    // payment's own code and message: the client shows them ("withdraw first").
    auto body = ParseJsonObject(response->body);
    std::string code = "wallet_not_empty";
    std::string message = "the wallet still holds money: withdraw it before deleting the account";
    if (body) {
      if (const json::value* e = body->if_contains("error"); e != nullptr && e->is_object()) {
        const std::string c(StringValue(e->get_object(), "code"));
        const std::string m(StringValue(e->get_object(), "message"));
        if (!c.empty()) code = c;
        if (!m.empty()) message = m;
      }
    }
    co_return Error(ErrorCode::kConflict, std::move(message), std::move(code));
  }
  log::Warn("payment refused a wallet closure", {{"status", response->status}});
  co_return PaymentUnavailable("payment answered " + std::to_string(response->status));
}

}  // namespace tchat::auth
