// The outgoing limits through real HTTP: every movement that leaves a wallet —
// transfers, paid payment requests, withdrawals — counts against the same daily
// and monthly limits per currency (docs/api/openapi.yaml, payment), atomically
// with its posting, also when they race.
#include <cstdint>
#include <string>
#include <vector>

#include "payment_fixture.hpp"

namespace tchat::payment::e2e {
namespace {

// USD: 3,000.00 per movement and per day by default.
constexpr std::int64_t kUsdDaily = 300'000;

class PaymentLimitsTest : public PaymentE2ETest {
 protected:
  std::string WithdrawalBody(std::int64_t amount) const {
    return json::serialize(
        json::object{{"amount", amount}, {"currency", "USD"}, {"destination", "card:4242"}});
  }
  ApiResponse Withdraw(const User& u, std::int64_t amount) {
    return Post("/v1/withdrawals", u, WithdrawalBody(amount));
  }
};

TEST_F(PaymentLimitsTest, WithdrawalsAndTransfersShareTheDailyLimit) {
  User rich = NewUser();
  User other = NewUser();
  Fund(rich, 500'000, "USD");
  ApiResponse first = Withdraw(rich, 250'000);
  ASSERT_EQ(first.status, 201) << first.raw;
  // What is left of the day's limit is 50,000: neither a withdrawal nor a
  // transfer may go beyond it.
  ApiResponse over = Withdraw(rich, 60'000);
  EXPECT_EQ(over.status, 422) << over.raw;
  EXPECT_EQ(over.error_code(), "limit_exceeded");
  ApiResponse transfer_over = Transfer(rich, other.id, 60'000, "USD");
  EXPECT_EQ(transfer_over.status, 422) << transfer_over.raw;
  EXPECT_EQ(transfer_over.error_code(), "limit_exceeded");
  EXPECT_EQ(Transfer(rich, other.id, 30'000, "USD").status, 201);
  ApiResponse rest = Withdraw(rich, 20'000);  // exactly up to the day's limit
  EXPECT_EQ(rest.status, 201) << rest.raw;
  EXPECT_EQ(Withdraw(rich, 1).error_code(), "limit_exceeded");
  EXPECT_EQ(Balance(rich, "USD"), 500'000 - kUsdDaily);

  // A paid payment request counts too: after paying one, a withdrawal beyond
  // what is left is refused.
  User payer = NewUser();
  Fund(payer, 400'000, "USD");
  ApiResponse asked =
      Post("/v1/payment-requests", other,
           json::serialize(
               json::object{{"from_user_id", payer.id}, {"amount", 280'000}, {"currency", "USD"}}));
  ASSERT_EQ(asked.status, 201) << asked.raw;
  const std::string request_id(asked.body.at("id").as_string());
  ASSERT_EQ(Post("/v1/payment-requests/" + request_id + "/pay", payer).status, 200);
  EXPECT_EQ(Withdraw(payer, 20'001).error_code(), "limit_exceeded");
  EXPECT_EQ(Withdraw(payer, 20'000).status, 201);
  EXPECT_EQ(Balance(payer, "USD"), 100'000);
  ApiResponse verify = Verify();
  EXPECT_TRUE(verify.body.at("ok").as_bool()) << verify.raw;
}

TEST_F(PaymentLimitsTest, RacingWithdrawalsAndTransfersNeverPassTheLimit) {
  User u = NewUser();
  User other = NewUser();
  Fund(u, 500'000, "USD");
  // Ten movements of 40,000 at once (400,000 in all): exactly seven fit the
  // day's 300,000, whichever win.
  constexpr int kEach = 5;
  constexpr std::int64_t kAmount = 40'000;
  const std::string transfer_body = json::serialize(
      json::object{{"to_user_id", other.id}, {"amount", kAmount}, {"currency", "USD"}});
  const std::string withdrawal_body = WithdrawalBody(kAmount);
  std::vector<ApiRequest> movements;
  for (int i = 0; i < 2 * kEach; ++i) {
    const bool transfer = i % 2 == 0;
    movements.push_back(PaymentRequest("POST", transfer ? "/v1/transfers" : "/v1/withdrawals",
                                       u.token, transfer ? transfer_body : withdrawal_body,
                                       {{"Idempotency-Key", NewKey()}}));
  }
  std::vector<ApiResponse> answers = api_->Concurrently(std::move(movements));
  int accepted = 0;
  for (const ApiResponse& r : answers) {
    if (r.status == 201) {
      ++accepted;
    } else {
      EXPECT_EQ(r.status, 422) << r.raw;
      EXPECT_EQ(r.error_code(), "limit_exceeded") << r.raw;
    }
  }
  EXPECT_EQ(accepted, static_cast<int>(kUsdDaily / kAmount));
  EXPECT_EQ(Balance(u, "USD"), 500'000 - accepted * kAmount);
  EXPECT_EQ(Withdraw(u, kUsdDaily - accepted * kAmount + 1).error_code(), "limit_exceeded");
  ApiResponse verify = Verify();
  EXPECT_TRUE(verify.body.at("ok").as_bool()) << verify.raw;
}

}  // namespace
}  // namespace tchat::payment::e2e
