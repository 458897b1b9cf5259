#pragma once

// Test and load-generator support for the payment service, written independently
// of the service's code (OpenSSL HMAC, libpq, the core HTTP client): minting
// access tokens, signing provider webhooks, calling the API, running coroutines
// to completion, and reading the database directly for independent checks.

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

struct pg_conn;

namespace tchat::payment::testing {

// The value of an environment variable, or "" when unset.
std::string Env(const char* name);

// A random Idempotency-Key.
std::string NewKey();

// Mints access tokens like the auth service does, from the key file of
// tchat-keygen ({"keys":[{"kid","seed"}]}, first key signs). Immutable.
class TokenMinter {
 public:
  static Result<TokenMinter> FromKeyFile(const std::string& path);
  // A token for `user_id` valid for `ttl` (issuer tchat-auth, audience tchat).
  std::string Mint(const std::string& user_id,
                   std::chrono::seconds ttl = std::chrono::minutes(15)) const;
  // The public JWKS of the signing key (what a service loads with JWKS_FILE).
  std::string Jwks() const;

 private:
  explicit TokenMinter(jwt::JwtSigner signer) : signer_(std::move(signer)) {}
  jwt::JwtSigner signer_;
};

// The Tchat-Signature header for `body` sent at `unix_seconds`:
// "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" (OpenSSL).
std::string SignWebhook(const std::string& secret, std::int64_t unix_seconds,
                        const std::string& body);
std::int64_t UnixNow();

// One API answer: status, raw body and the body parsed as JSON (null when it is
// not JSON).
struct ApiResponse {
  int status = 0;
  std::string body;
  json::value json;
  httpclient::HttpHeaders headers;

  // The error code of an error body ("" otherwise).
  std::string ErrorCode() const;
};

// Calls the payment service over HTTP. Bound to one executor like HttpClient;
// not thread-safe.
class PaymentApi {
 public:
  PaymentApi(boost::asio::any_io_executor ex, std::string base_url, std::size_t max_conns = 64);

  // `token` empty: no Authorization header. `headers` are added as given.
  Task<Result<ApiResponse>> Call(std::string method, std::string path, std::string token,
                                 std::string body = {},
                                 std::vector<std::pair<std::string, std::string>> headers = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& base_url() const { return base_url_; }

 private:
  httpclient::HttpClient client_;
  std::string base_url_;
};

// Runs `task` on `io` until it completes (other work on `io`, such as idle
// keep-alive connections, does not keep this waiting) and returns its value.
template <typename T>
T RunSync(boost::asio::io_context& io, Task<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(
      io, [&]() -> Task<void> { out.emplace(co_await std::move(task)); },
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      });
  io.restart();
  while (!done) io.run_one();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

// A blocking libpq connection for independent checks of the database. Not
// thread-safe.
class SqlProbe {
 public:
  explicit SqlProbe(const std::string& url);
  ~SqlProbe();
  SqlProbe(const SqlProbe&) = delete;
  SqlProbe& operator=(const SqlProbe&) = delete;

  bool ok() const;
  std::string error() const;
  // Rows of text values (nullopt for NULL); an error sets error() and returns {}.
  std::vector<std::vector<std::optional<std::string>>> Query(const std::string& sql);
  // The single value of a one-row, one-column query ("" on error or NULL).
  std::string Scalar(const std::string& sql);

 private:
  pg_conn* conn_ = nullptr;
  std::string last_error_;
};

}  // namespace tchat::payment::testing
