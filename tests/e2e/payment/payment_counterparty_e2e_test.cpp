// The other user of a transfer or payment request must exist (issue 17): payment
// asks the auth service (GET /v1/users/{id}, with the caller's token). A user auth
// has never seen is 404 user_not_found and nothing changes; when auth cannot
// answer (down, or silent past PAYMENT_AUTH_TIMEOUT) the request is refused with
// 503 dependency_unavailable, and nothing changes either; without TCHAT_AUTH_URL
// the service does not start. The outage cases run private tchat-payment
// instances (TCHAT_TEST_PAYMENT_BIN) pointed at a closed port and at a listener
// that never answers.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include <tchat/core/uuid.hpp>

#include "payment_fixture.hpp"
#include "support/env.hpp"
#include "support/process.hpp"
#include "support/sql_probe.hpp"

namespace tchat::payment::e2e {
namespace {

using namespace std::chrono_literals;

class PaymentCounterpartyTest : public PaymentE2ETest {
 protected:
  void TearDown() override {
    svc_.reset();  // SIGTERM and wait
    if (!jwks_.empty()) std::remove(jwks_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }

  // Starts a private tchat-payment on the stack's database with `auth_url` as
  // TCHAT_AUTH_URL (none when empty) and makes api_ talk to it.
  void StartPrivate(const std::string& auth_url) {
    const std::string bin = tchat::e2e::RequireEnv("TCHAT_TEST_PAYMENT_BIN");
    if (dir_.empty()) {
      char dir_template[] = "/tmp/tchat-payment-counterparty-XXXXXX";
      ASSERT_NE(::mkdtemp(dir_template), nullptr);
      dir_ = dir_template;
      jwks_ = dir_ + "/jwks.json";
      std::ofstream(jwks_) << tchat::e2e::Minter().Jwks();
    }
    const int port = tchat::e2e::FreePort();
    std::vector<std::string> env{"PORT=" + std::to_string(port),
                                 "DATABASE_URL=" + env_.database_url,
                                 "JWKS_FILE=" + jwks_,
                                 "TCHAT_ADMIN_TOKEN=" + env_.admin_token,
                                 "TCHAT_PSP_WEBHOOK_SECRET=" + env_.webhook_secret,
                                 "PAYMENT_AUTH_TIMEOUT=500ms",
                                 "TCHAT_THREADS=1",
                                 "LOG_LEVEL=warn"};
    if (!auth_url.empty()) env.push_back("TCHAT_AUTH_URL=" + auth_url);
    svc_ = std::make_unique<tchat::e2e::ChildProcess>(std::vector<std::string>{bin}, env);
    UseService("http://127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(svc_->Start());
  }

  // The count of rows of `table` where `column` is `id`, read independently.
  std::string Rows(const char* table, const char* column, const std::string& id) {
    tchat::e2e::SqlProbe db(env_.database_url);
    return db.Scalar(std::string("SELECT count(*) FROM ") + table + " WHERE " + column + " = '" +
                     id + "'");
  }

  // A 503 dependency_unavailable answer, in the API's error shape.
  static void ExpectUnavailable(const ApiResponse& r, const std::string& what) {
    EXPECT_EQ(r.status, 503) << what << ": " << r.raw;
    EXPECT_EQ(r.error_code(), "dependency_unavailable") << what << ": " << r.raw;
  }

  std::unique_ptr<tchat::e2e::ChildProcess> svc_;
  std::string dir_;
  std::string jwks_;
};

TEST_F(PaymentCounterpartyTest, UnknownUserIsNotFoundAndNothingMoves) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 50'000);
  ASSERT_FALSE(HasFatalFailure());
  const std::string nobody = NewUuidV7();  // a well-formed id auth has never issued

  const std::string key = NewKey();
  ApiResponse t = Transfer(a, nobody, 10'000, "THB", key);
  EXPECT_EQ(t.status, 404) << t.raw;
  EXPECT_EQ(t.error_code(), "user_not_found") << t.raw;
  EXPECT_TRUE(t.body.is_object() && t.body.at("error").as_object().contains("message")) << t.raw;
  ApiResponse r = Post("/v1/payment-requests", a,
                       json::serialize(json::object{
                           {"from_user_id", nobody}, {"amount", 500}, {"currency", "THB"}}));
  EXPECT_EQ(r.status, 404) << r.raw;
  EXPECT_EQ(r.error_code(), "user_not_found") << r.raw;

  // Nothing changed: balance, ledger, requests, and the key is still free.
  EXPECT_EQ(Balance(a), 50'000);
  EXPECT_EQ(Rows("transfers", "to_user_id", nobody), "0");
  EXPECT_EQ(Rows("payment_requests", "from_user_id", nobody), "0");
  EXPECT_EQ(Rows("accounts", "user_id", nobody), "0");
  ApiResponse real = Transfer(a, b.id, 10'000, "THB", key);
  EXPECT_EQ(real.status, 201) << "the key of a refused transfer must stay unused: " << real.raw;
  EXPECT_EQ(Balance(a), 40'000);
  EXPECT_EQ(Balance(b), 10'000);
  // A request from a real user still works, and so does paying back a known user.
  ApiResponse ok = Post(
      "/v1/payment-requests", b,
      json::serialize(json::object{{"from_user_id", a.id}, {"amount", 700}, {"currency", "THB"}}));
  EXPECT_EQ(ok.status, 201) << ok.raw;
  EXPECT_TRUE(IndependentLedgerCheck(env_.database_url).empty());
}

TEST_F(PaymentCounterpartyTest, AuthDownOrSilentIsDependencyUnavailable) {
  User a = NewUser();
  User b = NewUser();
  Fund(a, 20'000);
  ASSERT_FALSE(HasFatalFailure());

  // Auth down: nothing listens where the instance looks for it.
  StartPrivate("http://127.0.0.1:" + std::to_string(tchat::e2e::FreePort()));
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(WaitReady()) << "private tchat-payment did not become ready";
  ExpectUnavailable(Transfer(a, b.id, 5'000), "transfer, auth down");
  ExpectUnavailable(Post("/v1/payment-requests", a,
                         json::serialize(json::object{
                             {"from_user_id", b.id}, {"amount", 500}, {"currency", "THB"}})),
                    "payment request, auth down");
  EXPECT_EQ(Balance(a), 20'000);
  EXPECT_EQ(Rows("transfers", "from_user_id", a.id), "0");
  EXPECT_EQ(Rows("payment_requests", "to_user_id", a.id), "0");

  // Auth silent: a listener that accepts and never answers. The short timeout
  // (PAYMENT_AUTH_TIMEOUT=500ms) answers 503 quickly instead of hanging.
  boost::asio::io_context silent_io;
  boost::asio::ip::tcp::acceptor silent(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  svc_.reset();
  StartPrivate("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()));
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(WaitReady()) << "private tchat-payment did not become ready";
  const auto start = std::chrono::steady_clock::now();
  ExpectUnavailable(Transfer(a, b.id, 5'000), "transfer, auth silent");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the refusal must not wait long";
  EXPECT_EQ(Balance(a), 20'000);
  EXPECT_EQ(Rows("transfers", "from_user_id", a.id), "0");
}

TEST_F(PaymentCounterpartyTest, WithoutAuthUrlTheServiceDoesNotStart) {
  StartPrivate("");
  ASSERT_FALSE(HasFatalFailure());
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!svc_->Reaped() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(svc_->Reaped()) << "tchat-payment kept running without TCHAT_AUTH_URL";
  EXPECT_FALSE(WaitReady(500ms));
}

}  // namespace
}  // namespace tchat::payment::e2e
