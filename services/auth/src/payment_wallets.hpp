#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::auth {

// Asks the payment service to close a user's wallets before their account is
// deleted (POST {TCHAT_PAYMENT_URL}/v1/wallets/close), with the user's own bearer
// token: payment needs no credential of auth's, as payment's UserDirectory asks
// auth with the caller's token. The zero-balance rule is payment's (money is its
// domain): it closes only empty wallets with nothing pending. One per worker: NOT
// thread-safe (its HttpClient is bound to the worker's executor).
class PaymentWallets {
 public:
  PaymentWallets(boost::asio::any_io_executor executor, std::string payment_url,
                 std::chrono::milliseconds timeout);

  // Ok when the wallets are closed (or were). Errors, for the client as they are:
  //   409 wallet_not_empty / operation_pending   payment's refusal, its message;
  //   401 unauthenticated                        payment refused the token;
  //   503 dependency_unavailable                 payment unset, unreachable or other.
  // `authorization` is the caller's Authorization header value ("Bearer ...").
  Task<Status> Close(std::string_view authorization);

 private:
  httpclient::HttpClient http_;
  std::string url_;
};

}  // namespace tchat::auth
