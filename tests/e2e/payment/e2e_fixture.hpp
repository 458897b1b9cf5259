#pragma once

// Shared set-up of the payment end-to-end tests: they talk HTTP to a running
// tchat-payment (TCHAT_TEST_PAYMENT_URL) and read its database directly for
// independent checks (TCHAT_TEST_PAYMENT_DATABASE_URL). Missing configuration
// fails the test; nothing is skipped.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <tchat/core/json.hpp>

#include "payment_client.hpp"

namespace tchat::payment::e2e {

using testing::ApiResponse;
using testing::PaymentApi;
using testing::RunSync;
using testing::TokenMinter;

// A made-up user with a fresh access token.
struct User {
  std::string id;
  std::string token;
};

// The environment every payment e2e test needs; FAILs (ASSERT) when incomplete.
struct E2EEnv {
  std::string url;
  std::string admin_token;
  std::string webhook_secret;
  std::string database_url;
  std::shared_ptr<TokenMinter> minter;

  // Reads the TCHAT_TEST_* variables; returns a message naming what is missing.
  static std::string Load(E2EEnv& out);
};

// The top-up method used for a currency in tests.
std::string MethodFor(const std::string& currency);

// Blocking helpers around PaymentApi on a private io_context.
class PaymentE2ETest : public ::testing::Test {
 protected:
  void SetUp() override;

  User NewUser();
  ApiResponse Call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {});
  ApiResponse Get(const std::string& path, const User& u) { return Call("GET", path, u.token); }
  ApiResponse Post(const std::string& path, const User& u, const std::string& body = "{}",
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
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

  E2EEnv env_;
  boost::asio::io_context io_;
  std::unique_ptr<PaymentApi> api_;
};

// The independent SQL check of the ledger's invariants; returns the list of
// violations (empty when everything holds).
std::vector<std::string> IndependentLedgerCheck(const std::string& database_url);

// A private tchat-payment (TCHAT_TEST_PAYMENT_BIN) started by a test with exactly
// the environment given ("KEY=value" entries), stdout discarded; stopped with
// SIGTERM when destroyed. Not thread-safe, except that one other thread may
// Stop() and Start() it while the test's event loop runs.
class ServiceProcess {
 public:
  ServiceProcess(std::string bin, std::vector<std::string> env)
      : bin_(std::move(bin)), env_(std::move(env)) {}
  ~ServiceProcess() { Stop(SIGTERM); }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  bool Start();
  // Sends `sig` and reaps the process (no-op when it is not running).
  void Stop(int sig);

 private:
  std::string bin_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
};

// A loopback port that was free a moment ago.
int FreePort();

}  // namespace tchat::payment::e2e
