// Hermetic tests of the payment domain code: money arithmetic, currencies and
// methods, webhook signatures, fingerprints, ids, timestamps, configuration and
// the rate limiter's failure policy.
#include <exception>
#include <functional>
#include <map>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/metrics.hpp>
#include <tchat/core/redis/client.hpp>

#include "config.hpp"
#include "hashing.hpp"
#include "metrics.hpp"
#include "money.hpp"
#include "money_rate_limiter.hpp"
#include "records.hpp"
#include "service.hpp"
#include "webhook_signature.hpp"

namespace tchat::payment {
namespace {

TEST(Money, CurrenciesHaveIso4217MinorUnits) {
  std::map<std::string, int> expected{{"THB", 2}, {"SGD", 2}, {"IDR", 2}, {"MYR", 2},
                                      {"PHP", 2}, {"VND", 0}, {"USD", 2}};
  ASSERT_EQ(Currencies().size(), expected.size());
  for (const auto& c : Currencies()) {
    ASSERT_TRUE(expected.count(std::string(c.code))) << c.code;
    EXPECT_EQ(c.minor_units, expected[std::string(c.code)]) << c.code;
    EXPECT_FALSE(c.methods.empty()) << c.code;
  }
  EXPECT_EQ(FindCurrency("thb"), nullptr);  // codes are upper case
  EXPECT_EQ(FindCurrency("EUR"), nullptr);
  EXPECT_EQ(FindCurrency(""), nullptr);
  ASSERT_NE(FindCurrency("VND"), nullptr);
}

TEST(Money, RegionalMethods) {
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("THB"), "promptpay"));
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("SGD"), "paynow"));
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("MYR"), "duitnow"));
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("PHP"), "gcash"));
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("IDR"), "qris"));
  EXPECT_TRUE(IsRegionalMethod(*FindCurrency("VND"), "vietqr"));
  EXPECT_FALSE(IsRegionalMethod(*FindCurrency("THB"), "gcash"));
  EXPECT_FALSE(IsRegionalMethod(*FindCurrency("THB"), "PromptPay"));
}

TEST(Money, CheckedArithmetic) {
  EXPECT_EQ(CheckedAdd(1, 2), 3);
  EXPECT_EQ(CheckedAdd(INT64_MAX, 1), std::nullopt);
  EXPECT_EQ(CheckedAdd(INT64_MIN, -1), std::nullopt);
  EXPECT_EQ(CheckedMul(INT64_MAX / 2, 3), std::nullopt);
  EXPECT_EQ(MajorToMinor(100'000, 2), 10'000'000);
  EXPECT_EQ(MajorToMinor(230'000'000, 0), 230'000'000);
  EXPECT_EQ(MajorToMinor(INT64_MAX / 10, 2), std::nullopt);
  EXPECT_EQ(MajorToMinor(-1, 2), std::nullopt);
}

TEST(WebhookSignature, KnownVector) {
  // HMAC-SHA256("secret", "1700000000.{}") computed independently (openssl dgst).
  EXPECT_EQ(ComputeWebhookSignature("secret", 1700000000, "{}"),
            "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163");
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(WebhookSignature, Verdicts) {
  const std::string body = R"({"id":"evt_1"})";
  const std::int64_t t = 1'700'000'000;
  const std::string sig = ComputeWebhookSignature("s3cret", t, body);
  const auto tol = std::chrono::seconds(300);
  const std::string header = "t=" + std::to_string(t) + ",v1=" + sig;
  EXPECT_EQ(VerifyWebhookSignature("s3cret", header, body, t, tol), SignatureVerdict::kValid);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", header, body, t + 300, tol), SignatureVerdict::kValid);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", header, body, t + 301, tol), SignatureVerdict::kStale);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", header, body, t - 301, tol), SignatureVerdict::kStale);
  EXPECT_EQ(VerifyWebhookSignature("other", header, body, t, tol), SignatureVerdict::kMismatch);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", header, body + " ", t, tol),
            SignatureVerdict::kMismatch);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "", body, t, tol), SignatureVerdict::kMissing);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "v1=" + sig, body, t, tol),
            SignatureVerdict::kMalformed);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "t=abc,v1=" + sig, body, t, tol),
            SignatureVerdict::kMalformed);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "t=" + std::to_string(t) + ",v1=zz", body, t, tol),
            SignatureVerdict::kMalformed);
  // Rotation: any matching v1 is enough, upper-case hex too.
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string two = "t=" + std::to_string(t) + ",v1=" + std::string(64, '0') + ",v1=" + upper;
  EXPECT_EQ(VerifyWebhookSignature("s3cret", two, body, t, tol), SignatureVerdict::kValid);
  // The signature binds the timestamp.
  const std::string moved = "t=" + std::to_string(t + 1) + ",v1=" + sig;
  EXPECT_EQ(VerifyWebhookSignature("s3cret", moved, body, t, tol), SignatureVerdict::kMismatch);
}

TEST(Hashing, FingerprintFramesParts) {
  EXPECT_NE(FingerprintHex({"ab", "c"}), FingerprintHex({"a", "bc"}));
  EXPECT_EQ(FingerprintHex({"a", "b"}), FingerprintHex({"a", "b"}));
  // SHA-256 of "1:a" (each part framed by its length).
  EXPECT_EQ(FingerprintHex({"a"}), Sha256Hex("1:a"));
}

TEST(Records, TransferJsonHasSpecFields) {
  Transfer t;
  t.id = "id";
  t.kind = "transfer";
  t.from_user_id = "a";
  t.to_user_id = "b";
  t.amount = 12345;
  t.currency = "THB";
  t.status = "completed";
  t.created_ms = 0;
  const json::object o = ToJson(t);
  for (const char* k : {"id", "from_user_id", "to_user_id", "amount", "currency", "note",
                        "conversation_id", "status", "created_at"}) {
    EXPECT_TRUE(o.contains(k)) << k;
  }
  EXPECT_TRUE(o.at("note").is_null());
  EXPECT_EQ(o.at("amount").as_int64(), 12345);
}

ConfigReader ReaderOf(std::map<std::string, std::string> env) {
  return ConfigReader([env](std::string_view k) -> std::optional<std::string> {
    auto it = env.find(std::string(k));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

// An idempotent replay answers with the record read back from its stored
// snapshot: rendering it again must give the snapshot's bytes.
TEST(Records, SnapshotsReadBackToTheSameBytes) {
  Transfer t;
  t.id = "0190a4f2-8e1b-7c3d-9f00-0123456789ab";
  t.kind = "refund";
  t.from_user_id = "0190a4f2-8e1b-7c3d-9f00-000000000001";
  t.to_user_id = "0190a4f2-8e1b-7c3d-9f00-000000000002";
  t.amount = 9'007'199'254'740'993;  // beyond a double's exact integers
  t.currency = "THB";
  t.note = "dinner \"split\"\n\u00e9";
  t.status = "completed";
  t.refund_of = "0190a4f2-8e1b-7c3d-9f00-000000000003";
  t.created_ms = 1'733'500'000'123;
  const std::string transfer = tchat::ToJson(ToJson(t));
  auto back = TransferFromJson(transfer);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(tchat::ToJson(ToJson(*back)), transfer);

  PaymentRequest r;
  r.id = t.id;
  r.from_user_id = t.from_user_id;
  r.to_user_id = t.to_user_id;
  r.amount = 1;
  r.currency = "USD";
  r.conversation_id = t.to_user_id;
  r.status = "pending";
  r.created_ms = 1;
  r.updated_ms = 1'733'500'000'999;
  const std::string request = tchat::ToJson(ToJson(r));
  auto request_back = PaymentRequestFromJson(request);
  ASSERT_TRUE(request_back.ok()) << request_back.error().message;
  EXPECT_EQ(tchat::ToJson(ToJson(*request_back)), request);

  ProviderOperation op;
  op.id = t.id;
  op.user_id = t.from_user_id;
  op.amount = 500;
  op.currency = "JPY";
  op.method_or_destination = "bank:0001";
  op.status = "pending";
  op.provider_reference = "psp_wd_00ff";
  op.created_ms = 1'733'500'000'000;
  op.updated_ms = 1'733'500'000'001;
  const std::string withdrawal = tchat::ToJson(WithdrawalJson(op));
  auto withdrawal_back = WithdrawalFromJson(withdrawal);
  ASSERT_TRUE(withdrawal_back.ok()) << withdrawal_back.error().message;
  EXPECT_EQ(tchat::ToJson(WithdrawalJson(*withdrawal_back)), withdrawal);
  const std::string topup = tchat::ToJson(TopupJson(op));
  auto topup_back = TopupFromJson(topup);
  ASSERT_TRUE(topup_back.ok()) << topup_back.error().message;
  EXPECT_EQ(tchat::ToJson(TopupJson(*topup_back)), topup);

  // A text that is not the record is an internal error, not a wrong record.
  EXPECT_EQ(TransferFromJson(withdrawal).error().code, ErrorCode::kInternal);
  EXPECT_FALSE(TopupFromJson(withdrawal).ok());
  EXPECT_FALSE(TransferFromJson("not json").ok());
}

// The one setting without a default.
constexpr std::pair<const char*, const char*> kAuthUrl{"TCHAT_AUTH_URL", "http://127.0.0.1:8081"};

TEST(Config, DefaultsFromSpec) {
  auto c = LoadConfig(ReaderOf({kAuthUrl}), CommonConfig{});
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto& thb = c->LimitsFor(*FindCurrency("THB"));
  EXPECT_EQ(thb.daily, 100'000LL * 100);
  EXPECT_EQ(thb.monthly, 3'000'000LL * 100);
  EXPECT_EQ(thb.per_transfer, thb.daily);
  const auto& vnd = c->LimitsFor(*FindCurrency("VND"));
  EXPECT_EQ(vnd.daily, 230'000'000LL);
  EXPECT_EQ(vnd.monthly, 6'900'000'000LL);
  EXPECT_EQ(c->LimitsFor(*FindCurrency("USD")).daily, 300'000);
  EXPECT_EQ(c->idempotency_ttl, std::chrono::hours(24));
  // A person never starts 120 money operations a minute; a script does.
  EXPECT_EQ(c->money_rate_limit.count, 120);
  EXPECT_EQ(c->money_rate_limit.window, std::chrono::minutes(1));
  EXPECT_EQ(c->auth_url, "http://127.0.0.1:8081");
  EXPECT_EQ(c->auth_timeout, std::chrono::seconds(2));
}

TEST(Config, WithoutTheAuthServiceThereIsNoStart) {
  // Transfers and payment requests check the other user at auth: no address, no service.
  for (const char* url : {"", "127.0.0.1:8081", "ftp://auth"}) {
    auto c = LoadConfig(ReaderOf({{"TCHAT_AUTH_URL", url}}), CommonConfig{});
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_NE(c.error().message.find("TCHAT_AUTH_URL"), std::string::npos) << c.error().message;
  }
  auto https = LoadConfig(ReaderOf({{"TCHAT_AUTH_URL", "https://auth-service:8081"},
                                    {"PAYMENT_AUTH_TIMEOUT", "500ms"}}),
                          CommonConfig{});
  ASSERT_TRUE(https.ok()) << https.error().message;
  EXPECT_EQ(https->auth_timeout, std::chrono::milliseconds(500));
}

TEST(Config, OverridesAndBadValuesNameTheKey) {
  auto c = LoadConfig(ReaderOf({kAuthUrl,
                                {"PAYMENT_TRANSFER_LIMIT_SGD", "100"},
                                {"PAYMENT_BATCH_MAX_SIZE", "8"},
                                {"PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE", "5"}}),
                      CommonConfig{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->LimitsFor(*FindCurrency("SGD")).per_transfer, 10'000);
  EXPECT_EQ(c->batch_max_size, 8);
  EXPECT_EQ(c->money_rate_limit.count, 5);
  EXPECT_EQ(c->money_rate_limit.window, std::chrono::minutes(1));
  for (const auto& [key, value] :
       std::map<std::string, std::string>{{"PAYMENT_DAILY_LIMIT_THB", "lots"},
                                          {"PAYMENT_MONTHLY_LIMIT_USD", "0"},
                                          {"PAYMENT_IDEMPOTENCY_TTL", "1h"},
                                          {"PAYMENT_BATCH_MAX_INFLIGHT", "-3"},
                                          {"PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE", "0"},
                                          {"PAYMENT_AUTH_TIMEOUT", "30s"}}) {
    auto bad = LoadConfig(ReaderOf({kAuthUrl, {key, value}}), CommonConfig{});
    ASSERT_FALSE(bad.ok()) << key;
    EXPECT_NE(bad.error().message.find(key), std::string::npos) << bad.error().message;
  }
}

TEST(DomainErrors, MapToSpecCodes) {
  EXPECT_EQ(PaymentService::DomainError("insufficient_funds").WireCode(), "insufficient_funds");
  EXPECT_EQ(PaymentService::DomainError("limit_exceeded").WireCode(), "limit_exceeded");
  EXPECT_EQ(PaymentService::DomainError("amount_overflow").WireCode(), "limit_exceeded");
  EXPECT_EQ(PaymentService::DomainError("idempotency_key_reused").WireCode(),
            "idempotency_key_reused");
  EXPECT_EQ(PaymentService::DomainError("insufficient_funds").code, ErrorCode::kUnprocessable);
  EXPECT_EQ(PaymentService::DomainError("nonsense").code, ErrorCode::kInternal);
}

// Runs `body` on a fresh io_context to completion.
void RunAsync(const std::function<Task<void>(boost::asio::any_io_executor)>& body) {
  boost::asio::io_context io;
  bool finished = false;
  boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await body(io.get_executor());
        finished = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_TRUE(finished);
}

double RateLimitErrors() {
  return metrics::Registry::Default()
      .AddCounter("payment_rate_limit_errors_total", "", {})
      .With(std::vector<std::string>{})
      .Value();
}

TEST(MoneyRateLimiter, KeyIsPerUserUnderThePaymentPrefix) {
  EXPECT_EQ(MoneyRateLimiter::Key("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            "tchat:payment:ratelimit:money:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
}

TEST(MoneyRateLimiter, WithoutRedisEverythingIsAdmitted) {
  RunAsync([](boost::asio::any_io_executor) -> Task<void> {
    MoneyRateLimiter limiter(nullptr, redis::RateLimit{1, std::chrono::minutes(1)});
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE((co_await limiter.Admit("u", "/v1/transfers")).ok());
    }
  });
}

TEST(MoneyRateLimiter, FailsOpenAndCountsWhenRedisIsUnreachable) {
  Metrics::Get();  // registers the series
  RunAsync([](boost::asio::any_io_executor ex) -> Task<void> {
    std::uint16_t closed_port = 0;
    {
      boost::asio::ip::tcp::acceptor probe(ex, {boost::asio::ip::make_address("127.0.0.1"), 0});
      closed_port = probe.local_endpoint().port();
    }
    redis::RedisOptions o;
    o.url = "redis://127.0.0.1:" + std::to_string(closed_port) + "/0";
    o.service = "payment_test";
    o.dial_timeout = std::chrono::seconds(2);
    redis::RedisClient down(ex, o);
    MoneyRateLimiter limiter(&down, redis::RateLimit{1, std::chrono::minutes(1)});
    const double before = RateLimitErrors();
    // Over the limit of 1 twice, yet admitted: the limit cannot be checked.
    for (int i = 0; i < 3; ++i) {
      auto admitted = co_await limiter.Admit("u", "/v1/transfers");
      EXPECT_TRUE(admitted.ok()) << admitted.error().message;
    }
    EXPECT_EQ(RateLimitErrors(), before + 3);
    down.Close();
  });
}

}  // namespace
}  // namespace tchat::payment
