// The per-user rate limit on money requests, through real HTTP. The test stack
// runs tchat-payment with the limit raised (scripts/test.sh) so that the stress
// tests can hammer it; this test starts a private instance with a limit of
// kLimit per minute on the stack's database and Redis — a second replica, as in
// production — and shows that one user's (kLimit + 1)-th money request within
// the window is refused with 429 rate_limited and Retry-After before anything
// happens, on every money route, while reads, other users and non-money actions
// go on.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "payment_fixture.hpp"
#include "support/env.hpp"
#include "support/process.hpp"
#include "support/sql_probe.hpp"

namespace tchat::payment::e2e {
namespace {

constexpr int kLimit = 5;

std::string Str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

// The value of the sample `series` (name and labels exactly as exposed) in a
// Prometheus text body; -1 when absent.
double Sample(const std::string& body, const std::string& series) {
  const std::string prefix = series + " ";
  std::size_t at = 0;
  while ((at = body.find(prefix, at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') return std::stod(body.substr(at + prefix.size()));
    at += prefix.size();
  }
  return -1;
}

class PaymentRateLimitTest : public PaymentE2ETest {
 protected:
  void SetUp() override {
    PaymentE2ETest::SetUp();
    const std::string bin = tchat::e2e::RequireEnv("TCHAT_TEST_PAYMENT_BIN");
    const std::string redis_url = tchat::e2e::RequireEnv("TCHAT_TEST_REDIS_URL");
    char dir_template[] = "/tmp/tchat-payment-ratelimit-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    jwks_ = dir_ + "/jwks.json";
    std::ofstream(jwks_) << tchat::e2e::Minter().Jwks();
    const int port = tchat::e2e::FreePort();
    svc_ = std::make_unique<tchat::e2e::ChildProcess>(
        std::vector<std::string>{bin},
        std::vector<std::string>{
            "PORT=" + std::to_string(port), "DATABASE_URL=" + env_.database_url,
            "REDIS_URL=" + redis_url, "JWKS_FILE=" + jwks_, "TCHAT_ADMIN_TOKEN=" + env_.admin_token,
            "TCHAT_PSP_WEBHOOK_SECRET=" + env_.webhook_secret, "TCHAT_AUTH_URL=" + env_.auth_url,
            "TCHAT_THREADS=2", "LOG_LEVEL=warn",
            "PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE=" + std::to_string(kLimit)});
    // The whole test talks to the private instance.
    UseService("http://127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(svc_->Start());
    ASSERT_TRUE(WaitReady()) << "private tchat-payment did not become ready";
  }

  void TearDown() override {
    svc_.reset();  // SIGTERM and wait
    if (!jwks_.empty()) std::remove(jwks_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }

  // Asserts a refusal by the rate limit: 429, the API's error body, Retry-After
  // within the one-minute window.
  static void ExpectRateLimited(const ApiResponse& r, const std::string& what) {
    EXPECT_EQ(r.status, 429) << what << ": " << r.raw;
    EXPECT_EQ(r.error_code(), "rate_limited") << what << ": " << r.raw;
    EXPECT_TRUE(r.body.is_object() && r.body.at("error").as_object().contains("message")) << what;
    const auto retry = r.headers.Get("Retry-After");
    ASSERT_TRUE(retry.has_value()) << what << ": no Retry-After";
    const int seconds = std::stoi(std::string(*retry));
    EXPECT_GE(seconds, 1) << what;
    EXPECT_LE(seconds, 60) << what;
  }

  std::unique_ptr<tchat::e2e::ChildProcess> svc_;
  std::string dir_;
  std::string jwks_;
};

TEST_F(PaymentRateLimitTest, OneUsersExtraMoneyRequestsAreRefusedAndMoveNothing) {
  User funder = NewUser();
  User a = NewUser();  // the one who hits the limit
  User b = NewUser();
  User c = NewUser();
  // funder: 1 (top-up) + 2 transfers = 3 of its own kLimit.
  Fund(funder, 100'000);
  ASSERT_FALSE(HasFatalFailure());
  ApiResponse to_a = Transfer(funder, a.id, 50'000);
  ASSERT_EQ(to_a.status, 201) << to_a.raw;
  ASSERT_EQ(Transfer(funder, b.id, 10'000).status, 201);
  // b asks a for money (b's first): a will be unable to pay it.
  ApiResponse request = Post(
      "/v1/payment-requests", b,
      json::serialize(json::object{{"from_user_id", a.id}, {"amount", 700}, {"currency", "THB"}}));
  ASSERT_EQ(request.status, 201) << request.raw;

  // a's first kLimit money requests go through (receiving money does not count).
  for (int i = 0; i < kLimit; ++i) {
    ApiResponse t = Transfer(a, c.id, 100);
    ASSERT_EQ(t.status, 201) << "transfer " << i + 1 << ": " << t.raw;
  }
  // The next one is refused, and so is every other money route for a.
  const std::string refused_key = NewKey();
  ExpectRateLimited(Transfer(a, c.id, 100, "THB", refused_key), "transfer");
  ExpectRateLimited(Post("/v1/transfers/" + Str(to_a.body, "id") + "/refund", a), "refund");
  ExpectRateLimited(Post("/v1/payment-requests", a,
                         json::serialize(json::object{
                             {"from_user_id", b.id}, {"amount", 100}, {"currency", "THB"}})),
                    "payment request");
  ExpectRateLimited(Post("/v1/payment-requests/" + Str(request.body, "id") + "/pay", a),
                    "paying a request");
  ExpectRateLimited(
      Post("/v1/topups", a,
           json::serialize(
               json::object{{"amount", 1'000}, {"currency", "THB"}, {"method", MethodFor("THB")}})),
      "top-up");
  ExpectRateLimited(Post("/v1/withdrawals", a,
                         json::serialize(json::object{
                             {"amount", 1'000}, {"currency", "THB"}, {"destination", "bank-1"}})),
                    "withdrawal");
  // Bad input is refused by the limit too, before it is even read.
  ExpectRateLimited(Post("/v1/transfers", a, "not json", {{"Idempotency-Key", "k"}}),
                    "malformed transfer");

  // Nothing the refused requests asked for happened.
  EXPECT_EQ(Balance(a), 50'000 - kLimit * 100);
  EXPECT_EQ(Balance(c), kLimit * 100);
  EXPECT_EQ(Balance(b), 10'000);
  EXPECT_EQ(Balance(funder), 40'000);
  tchat::e2e::SqlProbe db(env_.database_url);
  ASSERT_TRUE(db.ok()) << db.error();
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM transfers WHERE from_user_id = '" + a.id + "'"),
            std::to_string(kLimit));
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM idempotency_keys WHERE user_id = '" + a.id +
                      "' AND key = '" + refused_key + "'"),
            "0");
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM topups WHERE user_id = '" + a.id + "'"), "0");
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM withdrawals WHERE user_id = '" + a.id + "'"), "0");
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM payment_requests WHERE to_user_id = '" + a.id + "'"),
            "0");
  EXPECT_EQ(Str(Get("/v1/transfers/" + Str(to_a.body, "id"), a).body, "status"), "completed");
  EXPECT_EQ(Str(Get("/v1/payment-requests/" + Str(request.body, "id"), a).body, "status"),
            "pending");

  // Reads and actions that move no money still work for a.
  EXPECT_EQ(Get("/v1/wallets", a).status, 200);
  EXPECT_EQ(Get("/v1/transactions", a).status, 200);
  ApiResponse declined = Post("/v1/payment-requests/" + Str(request.body, "id") + "/decline", a);
  EXPECT_EQ(declined.status, 200) << declined.raw;

  // Other users are unaffected: b and c each have their own window.
  ApiResponse by_b = Transfer(b, c.id, 1'000);
  EXPECT_EQ(by_b.status, 201) << by_b.raw;
  ApiResponse by_c = Transfer(c, a.id, 50);
  EXPECT_EQ(by_c.status, 201) << by_c.raw;
  EXPECT_EQ(Balance(c), kLimit * 100 + 1'000 - 50);
  EXPECT_EQ(Balance(a), 50'000 - kLimit * 100 + 50);

  // Refusals are counted per route.
  ApiResponse m = Call("GET", "/metrics", "");
  ASSERT_EQ(m.status, 200);
  for (const char* route : {"/v1/transfers", "/v1/transfers/{id}/refund", "/v1/payment-requests",
                            "/v1/payment-requests/{id}/pay", "/v1/topups", "/v1/withdrawals"}) {
    const double refused =
        Sample(m.raw, "payment_rate_limited_total{route=\"" + std::string(route) + "\"}");
    EXPECT_GE(refused, 1) << route;
  }
  EXPECT_EQ(Sample(m.raw, "payment_rate_limited_total{route=\"/v1/transfers\"}"), 2);
  EXPECT_EQ(Sample(m.raw, "payment_rate_limit_errors_total"), 0);

  const auto problems = IndependentLedgerCheck(env_.database_url);
  for (const auto& p : problems) ADD_FAILURE() << p;
}

}  // namespace
}  // namespace tchat::payment::e2e
