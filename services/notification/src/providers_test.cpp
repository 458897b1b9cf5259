// The providers' request shapes and answer classification, against an
// in-process HTTP server (core's test server) standing in for the endpoints.
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <test_http_server.hpp>

#include <tchat/core/jwt/base64url.hpp>

#include "apns.hpp"
#include "dispatcher.hpp"
#include "fcm.hpp"
#include "webhook_provider.hpp"

namespace tchat::notification {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tchat::testing::RunUntilDone;
using tchat::testing::TestHttpServer;
using tchat::testing::TestRequest;
using tchat::testing::TestResponse;

RenderedPush Content() {
  RenderedPush c;
  c.kind = "message";
  c.title = "Somchai";
  c.body = "hello";
  c.collapse_key = "0190f8a0-0000-7000-8000-0000000000cc";
  c.data = {{"kind", "message"}, {"count", "2"}};
  c.ttl_seconds = 3600;
  return c;
}

PushMessage Msg(const RenderedPush& c, std::string token = "device-token-1") {
  return PushMessage{"q1.d1", "d1", "u1", "android", std::move(token), "e1", &c};
}

// A private key PEM and its public key.
struct KeyPair {
  std::string private_pem;
  EVP_PKEY* pkey = nullptr;
  ~KeyPair() { EVP_PKEY_free(pkey); }
};
void MakeKey(KeyPair& k, bool ec) {
  k.pkey = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  ASSERT_NE(k.pkey, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, k.pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  k.private_pem.assign(data, static_cast<std::size_t>(n));
  BIO_free(bio);
}
// Verifies a compact JWS with `key` (ES256 signatures converted back to DER).
bool VerifyJws(const std::string& jws, EVP_PKEY* key, bool es256) {
  const auto dot = jws.rfind('.');
  const std::string input = jws.substr(0, dot);
  auto sig = jwt::Base64UrlDecode(jws.substr(dot + 1));
  if (!sig) return false;
  std::string der = *sig;
  if (es256) {
    if (sig->size() != 64) return false;
    ECDSA_SIG* s = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(sig->data());
    ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
    unsigned char* out = nullptr;
    const int len = i2d_ECDSA_SIG(s, &out);
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    ECDSA_SIG_free(s);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  const int ok =
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  return ok == 1;
}
json::object JwsPart(const std::string& jws, int part) {
  std::size_t start = 0;
  for (int i = 0; i < part; ++i) start = jws.find('.', start) + 1;
  const auto end = jws.find('.', start);
  auto decoded = jwt::Base64UrlDecode(jws.substr(start, end - start));
  return ParseJsonObject(decoded.value_or("")).value();
}

class ProvidersTest : public ::testing::Test {
 protected:
  asio::io_context io_;
};

TEST_F(ProvidersTest, WebhookPushSendsJsonAndClassifiesAnswers) {
  std::vector<TestRequest> seen;
  std::vector<TestResponse> answers;
  auto answer = [](int status, std::vector<std::pair<std::string, std::string>> h = {}) {
    TestResponse r;
    r.status = status;
    r.headers = std::move(h);
    return r;
  };
  answers = {answer(200), answer(500), answer(429, {{"Retry-After", "7"}}),
             answer(400), answer(410), answer(404),
             answer(408)};
  std::size_t next = 0;
  bool hang = false;
  TestHttpServer server(io_, [&](TestRequest req) -> Task<std::optional<TestResponse>> {
    seen.push_back(req);
    if (hang) co_return std::nullopt;
    co_return answers.at(next++);
  });
  httpclient::HttpClient http(io_.get_executor());
  WebhookPushProvider p(http, server.Url("/push"), 300ms);
  const RenderedPush c = Content();
  std::vector<SendResult> results;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    for (std::size_t i = 0; i < answers.size(); ++i) results.push_back(co_await p.Send(Msg(c)));
    hang = true;
    results.push_back(co_await p.Send(Msg(c)));
  }()));
  ASSERT_EQ(results.size(), 8u);
  EXPECT_EQ(results[0].outcome, Outcome::kDelivered);
  EXPECT_EQ(results[1].outcome, Outcome::kRetryable);
  EXPECT_EQ(results[2].outcome, Outcome::kRetryable);
  EXPECT_EQ(results[2].retry_after, 7s);
  EXPECT_EQ(results[3].outcome, Outcome::kPermanent);
  EXPECT_EQ(results[4].outcome, Outcome::kUnregistered);
  EXPECT_EQ(results[5].outcome, Outcome::kPermanent) << "a wrong URL must not unregister devices";
  EXPECT_EQ(results[6].outcome, Outcome::kRetryable);
  EXPECT_EQ(results[7].outcome, Outcome::kRetryable);
  EXPECT_EQ(results[7].error, "timeout");

  const TestRequest& r = seen.at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/push");
  EXPECT_EQ(r.Header("Idempotency-Key"), "q1.d1");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  auto body = ParseJsonObject(r.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->at("id"), "q1.d1");
  EXPECT_EQ(body->at("token"), "device-token-1");
  EXPECT_EQ(body->at("title"), "Somchai");
  EXPECT_EQ(body->at("collapse_key"), json::value(c.collapse_key));
  EXPECT_EQ(body->at("data").as_object().at("count"), "2");
  EXPECT_EQ(body->at("priority"), "high");
}

// The body is written by hand: it must be exactly what serializing the
// equivalent json::object gives, awkward characters included.
TEST(WebhookBody, SameBytesAsBoostJson) {
  RenderedPush c = Content();
  c.title = std::string("quote \" back\\slash \b\f\n\r\t ctl \x01\x1f del \x7f /") +
            " \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \xf0\x9f\x98\x80";
  c.body = std::string("nul \0 inside", 13);
  c.data = {{"conversation_id", "c\"1"}, {"seq", "7"}, {"nested", json::object{{"a", 1}}}};
  for (bool high : {true, false}) {
    for (const std::string key : {"", "k\n1"}) {
      c.high_priority = high;
      c.collapse_key = key;
      const PushMessage m{"q1.d1", "d\"1", "u1", "android", "tok\\en", "e1", &c};
      json::object o{{"id", m.id},
                     {"event_id", m.event_id},
                     {"user_id", m.user_id},
                     {"device_id", m.device_id},
                     {"platform", m.platform},
                     {"token", m.token},
                     {"kind", c.kind},
                     {"title", c.title},
                     {"body", c.body},
                     {"data", c.data},
                     {"priority", c.high_priority ? "high" : "normal"},
                     {"ttl_seconds", c.ttl_seconds}};
      if (!c.collapse_key.empty()) o["collapse_key"] = c.collapse_key;
      EXPECT_EQ(WebhookPushProvider::Body(m), ToJson(o));
    }
  }
}

TEST_F(ProvidersTest, FcmUsesOAuthServiceAccountAndV1MessageShape) {
  KeyPair key;
  MakeKey(key, false);
  int token_requests = 0;
  int sends = 0;
  std::vector<TestRequest> seen;
  TestHttpServer server(io_, [&](TestRequest req) -> Task<std::optional<TestResponse>> {
    seen.push_back(req);
    TestResponse res;
    if (req.target == "/token") {
      ++token_requests;
      // grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<jws>
      const auto a = req.body.find("&assertion=");
      const std::string jws = req.body.substr(a + 11);
      const bool grant =
          req.body.rfind("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", 0) ==
          0;
      if (!grant || !VerifyJws(jws, key.pkey, false)) {
        res.status = 400;
        co_return res;
      }
      res.body = R"({"access_token":"ya29.token-)" + std::to_string(token_requests) +
                 R"(","expires_in":3600,"token_type":"Bearer"})";
      co_return res;
    }
    ++sends;
    if (sends == 2) {
      res.status = 404;
      res.body =
          R"({"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}})";
    } else if (sends == 3) {
      res.status = 401;
    } else if (sends == 4) {
      res.status = 429;
      res.headers = {{"Retry-After", "30"}};
      res.body =
          R"({"error":{"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}})";
    } else if (sends == 5) {
      res.status = 400;
      res.body = R"({"error":{"status":"INVALID_ARGUMENT","message":"Invalid JSON payload"}})";
    } else {
      res.body = R"({"name":"projects/p1/messages/1"})";
    }
    co_return res;
  });
  auto account = std::make_shared<ServiceAccount>();
  account->client_email = "push@p1.iam.gserviceaccount.com";
  account->private_key_pem = key.private_pem;
  account->private_key_id = "kid-1";
  account->token_uri = server.Url("/token");
  httpclient::HttpClient http(io_.get_executor());
  auto tokens = std::make_shared<ServiceAccountTokenSource>(http, account);
  FcmProvider fcm(http, tokens, "p1", server.Url(""), 2s);
  const RenderedPush c = Content();
  std::vector<SendResult> r;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    for (int i = 0; i < 6; ++i) r.push_back(co_await fcm.Send(Msg(c)));
  }()));
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].outcome, Outcome::kDelivered) << r[0].error;
  EXPECT_EQ(r[1].outcome, Outcome::kUnregistered);
  EXPECT_EQ(r[2].outcome, Outcome::kRetryable) << "401: our token, not the device";
  EXPECT_EQ(r[3].outcome, Outcome::kRetryable);
  EXPECT_EQ(r[3].retry_after, 30s);
  EXPECT_EQ(r[4].outcome, Outcome::kPermanent);
  EXPECT_EQ(r[5].outcome, Outcome::kDelivered);
  EXPECT_EQ(token_requests, 2) << "the token is cached, and fetched again after a 401";

  // The assertion's claims (checked on the first token request).
  const auto a = seen[0].body.find("&assertion=");
  const std::string jws = seen[0].body.substr(a + 11);
  EXPECT_EQ(JwsPart(jws, 0).at("alg"), "RS256");
  EXPECT_EQ(JwsPart(jws, 0).at("kid"), "kid-1");
  const auto claims = JwsPart(jws, 1);
  EXPECT_EQ(claims.at("iss"), "push@p1.iam.gserviceaccount.com");
  EXPECT_EQ(claims.at("scope"), "https://www.googleapis.com/auth/firebase.messaging");
  EXPECT_EQ(claims.at("aud"), json::value(server.Url("/token")));
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);

  const TestRequest& send = seen[1];
  EXPECT_EQ(send.target, "/v1/projects/p1/messages:send");
  EXPECT_EQ(send.Header("Authorization"), "Bearer ya29.token-1");
  auto body = ParseJsonObject(send.body);
  ASSERT_TRUE(body);
  const auto& m = body->at("message").as_object();
  EXPECT_EQ(m.at("token"), "device-token-1");
  EXPECT_EQ(m.at("notification").as_object().at("title"), "Somchai");
  EXPECT_EQ(m.at("notification").as_object().at("body"), "hello");
  EXPECT_EQ(m.at("data").as_object().at("count"), "2");
  const auto& android = m.at("android").as_object();
  EXPECT_EQ(android.at("priority"), "HIGH");
  EXPECT_EQ(android.at("ttl"), "3600s");
  EXPECT_EQ(android.at("collapse_key"), json::value(c.collapse_key));
  const auto& apns = m.at("apns").as_object().at("headers").as_object();
  EXPECT_EQ(apns.at("apns-collapse-id"), json::value(c.collapse_key));
  EXPECT_EQ(apns.at("apns-priority"), "10");
  EXPECT_EQ(m.at("webpush").as_object().at("headers").as_object().at("Urgency"), "high");
}

TEST(Apns, RequestShapeProviderTokenAndClassification) {
  KeyPair key;
  MakeKey(key, true);
  ApnsOptions o{"com.tchat.app", "KEY123ABCD", "TEAM123456", key.private_pem, false};
  const auto now = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
  auto token = ApnsProviderToken(o, now);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_TRUE(VerifyJws(*token, key.pkey, true)) << "ES256 signature does not verify";
  EXPECT_EQ(JwsPart(*token, 0).at("alg"), "ES256");
  EXPECT_EQ(JwsPart(*token, 0).at("kid"), "KEY123ABCD");
  EXPECT_EQ(JwsPart(*token, 1).at("iss"), "TEAM123456");
  EXPECT_EQ(JwsPart(*token, 1).at("iat"), 1767225600);

  const RenderedPush c = Content();
  PushMessage m = Msg(c, "abcdef0123");
  m.platform = "ios";
  Http2Request r = BuildApnsRequest(m, o, *token, now);
  EXPECT_EQ(r.authority, "api.push.apple.com");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/3/device/abcdef0123");
  auto header = [&](const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string("<missing>");
  };
  EXPECT_EQ(header("authorization"), "bearer " + *token);
  EXPECT_EQ(header("apns-topic"), "com.tchat.app");
  EXPECT_EQ(header("apns-push-type"), "alert");
  EXPECT_EQ(header("apns-priority"), "10");
  EXPECT_EQ(header("apns-expiration"), std::to_string(1767225600 + 3600));
  EXPECT_EQ(header("apns-collapse-id"), c.collapse_key);
  auto body = ParseJsonObject(r.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->at("aps").as_object().at("alert").as_object().at("title"), "Somchai");
  EXPECT_EQ(body->at("aps").as_object().at("thread-id"), json::value(c.collapse_key));
  EXPECT_EQ(body->at("count"), "2");

  auto resp = [](int status, std::string text) {
    httpclient::HttpResponse h;
    h.status = status;
    h.body = std::move(text);
    return h;
  };
  EXPECT_EQ(ClassifyApns(resp(200, "")).outcome, Outcome::kDelivered);
  EXPECT_EQ(ClassifyApns(resp(410, R"({"reason":"Unregistered"})")).outcome,
            Outcome::kUnregistered);
  EXPECT_EQ(ClassifyApns(resp(400, R"({"reason":"BadDeviceToken"})")).outcome,
            Outcome::kUnregistered);
  EXPECT_EQ(ClassifyApns(resp(400, R"({"reason":"PayloadEmpty"})")).outcome, Outcome::kPermanent);
  EXPECT_EQ(ClassifyApns(resp(403, R"({"reason":"ExpiredProviderToken"})")).outcome,
            Outcome::kRetryable);
  EXPECT_EQ(ClassifyApns(resp(429, R"({"reason":"TooManyRequests"})")).outcome,
            Outcome::kRetryable);
  EXPECT_EQ(ClassifyApns(resp(503, R"({"reason":"ServiceUnavailable"})")).outcome,
            Outcome::kRetryable);
}

TEST(Retry, ExponentialWithJitterCappedAndRetryAfterFloor) {
  std::minstd_rand rng(42);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const auto full = std::min<std::int64_t>(100LL << (attempt - 1), 5000);
    for (int i = 0; i < 50; ++i) {
      const auto d = RetryDelay(attempt, 100ms, 5000ms, std::nullopt, rng).count();
      EXPECT_GE(d, full / 2) << attempt;
      EXPECT_LE(d, full) << attempt;
    }
  }
  // Jitter: not always the same delay.
  std::set<std::int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(RetryDelay(5, 100ms, 60s, std::nullopt, rng).count());
  EXPECT_GT(seen.size(), 10u);
  EXPECT_GE(RetryDelay(1, 100ms, 5s, std::chrono::seconds(30), rng), 30s);
  EXPECT_LE(RetryDelay(60, 100ms, 5s, std::nullopt, rng), 5s);
}

TEST(Retry, ParsesRetryAfter) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  EXPECT_EQ(ParseRetryAfter("120", now), 120s);
  EXPECT_EQ(ParseRetryAfter("0", now), 0s);
  EXPECT_EQ(ParseRetryAfter("999999", now), 3600s);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now), 60s);
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_FALSE(ParseRetryAfter(std::nullopt, now));
  EXPECT_FALSE(ParseRetryAfter("-5", now));
}

}  // namespace
}  // namespace tchat::notification
