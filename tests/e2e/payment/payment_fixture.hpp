#pragma once

// The payment end-to-end tests' fixture, on the e2e harness (tests/e2e/support):
// they talk HTTP to a running tchat-payment (TCHAT_TEST_PAYMENT_URL) and read its
// database directly for independent checks (TCHAT_TEST_PAYMENT_DATABASE_URL); their
// users sign up through the running auth service (TCHAT_TEST_AUTH_URL).
// Missing configuration fails the test; nothing is skipped.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/client/blocking.hpp>
#include <tchat/core/json.hpp>

#include "support/users.hpp"

namespace tchat::payment::e2e {

using client::ApiRequest;
using client::ApiResponse;
using client::HeaderList;
using tchat::e2e::User;

// The settings of the running service the tests need.
struct PaymentEnv {
  std::string url;
  std::string admin_token;
  std::string webhook_secret;
  std::string database_url;
  std::string auth_url;  // what tchat-payment instances the tests start are given

  // Reads the TCHAT_TEST_* variables; throws e2e::MissingEnv naming what is missing.
  static PaymentEnv Load();
};

// The top-up method used for a currency in tests.
std::string MethodFor(const std::string& currency);
// A random Idempotency-Key.
std::string NewKey();
// A request as the tests send it: `token` empty sends no credential.
ApiRequest PaymentRequest(std::string method, std::string path, std::string token,
                          std::string body = {}, HeaderList headers = {});

// Blocking helpers around a client of the service, on the test's io_context.
class PaymentE2ETest : public ::testing::Test {
 protected:
  void SetUp() override;

  // A new user signed up through auth (TCHAT_TEST_AUTH_URL) with its access token:
  // payment asks auth whether the other user of a transfer or request exists, with
  // the caller's token, so both must be real.
  User NewUser() { return tchat::e2e::SignUpUser(io_); }
  // Makes api_ talk to another instance (one the test started).
  void UseService(const std::string& url);

  ApiResponse Call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = {}, HeaderList headers = {});
  ApiResponse Get(const std::string& path, const User& u) { return Call("GET", path, u.token); }
  ApiResponse Post(const std::string& path, const User& u, const std::string& body = "{}",
                   HeaderList headers = {}) {
    return Call("POST", path, u.token, body, std::move(headers));
  }
  // POST /v1/transfers with a fresh key unless one is given.
  ApiResponse Transfer(const User& from, const std::string& to_id, std::int64_t amount,
                       const std::string& currency = "THB", std::string key = {},
                       json::object extra = {});
  // A pending top-up: returns its JSON (id, provider_reference).
  json::object CreateTopup(const User& u, std::int64_t amount, const std::string& currency);
  // The signed provider webhook.
  ApiResponse Webhook(const std::string& body, std::int64_t t = 0,
                      const std::string& secret_override = {});
  static std::string WebhookBody(const std::string& event_id, const std::string& type,
                                 const std::string& reference, std::int64_t amount,
                                 const std::string& currency);
  // Top-up + topup.succeeded webhook; asserts both worked.
  void Fund(const User& u, std::int64_t amount, const std::string& currency = "THB");
  std::int64_t Balance(const User& u, const std::string& currency = "THB");
  // GET /v1/admin/ledger/verify with the admin credential.
  ApiResponse Verify();
  // Polls GET /health/ready of api_'s service until 200 or `timeout` passes.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  PaymentEnv env_;
  boost::asio::io_context io_;
  std::unique_ptr<client::BlockingApi> api_;
};

// The independent SQL check of the ledger's invariants; returns the list of
// violations (empty when everything holds).
std::vector<std::string> IndependentLedgerCheck(const std::string& database_url);

}  // namespace tchat::payment::e2e
