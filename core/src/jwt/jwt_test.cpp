#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/http_jwks_key_source.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/jwt/key_set.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/jwt/token_verifier.hpp>

#include "test_http_server.hpp"

namespace tchat::jwt {
namespace {

using namespace std::chrono_literals;
using SysClock = std::chrono::system_clock;

const SysClock::time_point kNow = SysClock::time_point(std::chrono::seconds(1'750'000'000));

std::int64_t Unix(SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// ---------------------------------------------------------------------------
// base64url

TEST(Base64UrlTest, KnownVectorsAndRoundTrip) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  for (std::size_t n = 0; n < 70; ++n) {
    std::string bytes(n, '\0');
    randombytes_buf(bytes.data(), n);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes) << n;
  }
}

TEST(Base64UrlTest, DecodingIsStrict) {
  EXPECT_EQ(Base64UrlDecode("Zm9v"), "foo");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  for (std::string_view bad :
       {"Zg==", "Zg=", "Zm9v+", "Zm9/", "Z", "Zh", "Zm 9v", "Zm9v\n", "Zm.v"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
}

// ---------------------------------------------------------------------------
// Keys and JWKS

TEST(KeysTest, JwkExportAndSeedRoundTrip) {
  auto kp = Ed25519KeyPair::Generate("k1");
  const json::object jwk = ToJwk(kp.Public());
  EXPECT_EQ(jwk.at("kty"), "OKP");
  EXPECT_EQ(jwk.at("crv"), "Ed25519");
  EXPECT_EQ(jwk.at("alg"), "EdDSA");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid"), "k1");
  EXPECT_EQ(Base64UrlDecode(jwk.at("x").as_string())->size(), 32u);

  auto again = Ed25519KeyPair::FromSeed("k1", kp.SeedBase64Url());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Public(), kp.Public());
  EXPECT_FALSE(Ed25519KeyPair::FromSeed("k1", "c2hvcnQ").ok());
  EXPECT_NE(Ed25519KeyPair::Generate("k1").Public(), kp.Public());
}

TEST(KeysTest, JwksParsesTwoKeysAndSkipsOthers) {
  auto a = Ed25519KeyPair::Generate("a").Public();
  auto b = Ed25519KeyPair::Generate("b").Public();
  json::object doc = json::parse(BuildJwks({a, b})).as_object();
  auto& keys = doc["keys"].as_array();
  keys.push_back(json::object{{"kty", "RSA"}, {"kid", "r"}, {"n", "AQAB"}, {"e", "AQAB"}});
  keys.push_back(json::object{{"kty", "OKP"}, {"crv", "X25519"}, {"kid", "x"}, {"x", "AA"}});
  auto enc = ToJwk(a);
  enc["kid"] = "enc";
  enc["use"] = "enc";
  keys.push_back(enc);
  auto set = KeySet::ParseJwks(json::serialize(doc));
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->keys().size(), 2u);
  ASSERT_NE(set->Find("a"), nullptr);
  EXPECT_EQ(*set->Find("a"), a.key);
  EXPECT_EQ(*set->Find("b"), b.key);
  EXPECT_EQ(set->Find("r"), nullptr);
  EXPECT_EQ(set->Find("enc"), nullptr);
}

TEST(KeysTest, MalformedJwksIsRejected) {
  auto a = ToJwk(Ed25519KeyPair::Generate("a").Public());
  auto with = [](json::object k, std::string_view field, json::value v) {
    if (v.is_null()) {
      k.erase(field);
    } else {
      k[field] = v;
    }
    return json::serialize(json::object{{"keys", json::array{k}}});
  };
  for (const std::string& doc : {
           std::string("not json"), std::string("[]"), std::string(R"({"keys":{}})"),
           std::string(R"({"keys":[]})"), std::string(R"({"keys":[1]})"),
           with(a, "x", "AAAA"),                // 3 bytes
           with(a, "x", json::value(nullptr)),  // missing x
           with(a, "x", "not base64!"),         //
           with(a, "kid", json::value(nullptr)),
           json::serialize(json::object{{"keys", json::array{a, a}}}),  // duplicate kid
       }) {
    EXPECT_FALSE(KeySet::ParseJwks(doc).ok()) << doc;
  }
}

// ---------------------------------------------------------------------------
// TokenVerifier

// A key source the test swaps by hand.
class ManualKeySource : public KeySource {
 public:
  void Set(std::vector<PublicJwk> keys) {
    Publish(std::make_shared<const KeySet>(std::move(keys)));
  }
  void OnUnknownKid() override { ++unknown_kid_calls; }
  std::atomic<int> unknown_kid_calls{0};
};

std::string Compose(const json::object& header, const json::object& payload) {
  return Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(payload));
}

std::string SignEd25519(std::string input, const Ed25519KeyPair& kp) {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(), kp.secret().data());
  return input + "." + Base64UrlEncode({reinterpret_cast<const char*>(sig), sizeof sig});
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() { keys_->Set({k1_.Public()}); }

  Claims GoodClaims() const {
    return {"tchat-auth", "tchat", "user-42", "sess-7", kNow - 60s, kNow + 840s};
  }
  json::object GoodPayload() const {
    return {{"iss", "tchat-auth"}, {"aud", "tchat"},         {"sub", "user-42"},
            {"sid", "sess-7"},     {"iat", Unix(kNow) - 60}, {"exp", Unix(kNow) + 840}};
  }
  json::object Header(std::string_view alg = "EdDSA", std::string_view kid = "k1") const {
    return {{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
  }
  std::string SignPayload(const json::object& payload) const {
    return SignEd25519(Compose(Header(), payload), k1_);
  }
  // The reason, or "ok".
  std::string Reason(std::string_view token, SysClock::time_point now = kNow) {
    auto r = verifier_.Verify(token, now);
    if (r.ok()) return "ok";
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    if (token.size() >= 20) {
      EXPECT_EQ(r.error().message.find(token.substr(0, 20)), std::string::npos)
          << "error echoes the token";
    }
    return r.error().message;
  }

  Ed25519KeyPair k1_ = Ed25519KeyPair::Generate("k1");
  std::shared_ptr<ManualKeySource> keys_ = std::make_shared<ManualKeySource>();
  TokenVerifier verifier_{keys_, {.issuer = "tchat-auth", .audience = "tchat"}};
};

TEST_F(VerifierTest, ValidToken) {
  const std::string token = JwtSigner(k1_).Sign(GoodClaims());
  auto r = verifier_.Verify(token, kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user_id, "user-42");
  EXPECT_EQ(r->session_id, "sess-7");
  EXPECT_EQ(r->expires_at, kNow + 840s);
  // The header is exactly what docs/api/openapi.yaml says.
  auto header = json::parse(*Base64UrlDecode(token.substr(0, token.find('.'))));
  EXPECT_EQ(header, json::parse(R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})"));
}

TEST_F(VerifierTest, TimeClaims) {
  const std::string token = JwtSigner(k1_).Sign(GoodClaims());
  EXPECT_EQ(Reason(token, kNow + 840s + 20s), "ok");  // within leeway
  EXPECT_EQ(Reason(token, kNow + 840s + 31s), "token expired");
  auto p = GoodPayload();
  p["iat"] = Unix(kNow) + 120;
  p["exp"] = Unix(kNow) + 900;
  EXPECT_EQ(Reason(SignPayload(p)), "token issued in the future");
  p = GoodPayload();
  p["nbf"] = Unix(kNow) + 120;
  EXPECT_EQ(Reason(SignPayload(p)), "token not yet valid");
  p["nbf"] = Unix(kNow) - 1;
  EXPECT_EQ(Reason(SignPayload(p)), "ok");
  p = GoodPayload();
  p["exp"] = "soon";
  EXPECT_EQ(Reason(SignPayload(p)), "token has bad time claims");
  p = GoodPayload();
  p.erase("iat");
  EXPECT_EQ(Reason(SignPayload(p)), "token has bad time claims");
  p = GoodPayload();
  p["exp"] = 1.75e9 + 900.5;
  EXPECT_EQ(Reason(SignPayload(p)), "token has bad time claims");
}

TEST_F(VerifierTest, ExpiredToken) {
  Claims c = GoodClaims();
  c.issued_at = kNow - 960s;
  c.expires_at = kNow - 60s;
  EXPECT_EQ(Reason(JwtSigner(k1_).Sign(c)), "token expired");
}

TEST_F(VerifierTest, WrongKeyWithTheSameKid) {
  auto impostor = Ed25519KeyPair::Generate("k1");
  EXPECT_EQ(Reason(JwtSigner(impostor).Sign(GoodClaims())), "invalid token signature");
}

TEST_F(VerifierTest, TamperedPayload) {
  const std::string token = JwtSigner(k1_).Sign(GoodClaims());
  auto p = GoodPayload();
  p["sub"] = "admin";
  const auto dot2 = token.rfind('.');
  EXPECT_EQ(Reason(Compose(Header(), p) + token.substr(dot2)), "invalid token signature");
}

TEST_F(VerifierTest, UnknownKid) {
  auto other = Ed25519KeyPair::Generate("k9");
  EXPECT_EQ(Reason(JwtSigner(other).Sign(GoodClaims())), "unknown token key id");
  EXPECT_EQ(keys_->unknown_kid_calls, 1);
  EXPECT_EQ(Reason(SignEd25519(Compose({{"alg", "EdDSA"}}, GoodPayload()), k1_)),
            "token has no key id");
}

TEST_F(VerifierTest, AlgNoneIsRejected) {
  EXPECT_EQ(Reason(Compose(Header("none"), GoodPayload()) + "."), "unsupported token algorithm");
  EXPECT_EQ(Reason(SignEd25519(Compose(Header("none"), GoodPayload()), k1_)),
            "unsupported token algorithm");
  for (std::string_view alg : {"eddsa", "EdDSA ", "ES256", "Ed25519", ""}) {
    EXPECT_EQ(Reason(SignEd25519(Compose(Header(alg), GoodPayload()), k1_)),
              "unsupported token algorithm")
        << alg;
  }
  EXPECT_EQ(Reason(SignEd25519(Compose({{"alg", 1}, {"kid", "k1"}}, GoodPayload()), k1_)),
            "unsupported token algorithm");
}

TEST_F(VerifierTest, Hs256WithThePublicKeyAsSecretIsRejected) {
  const auto pub = k1_.Public();
  const std::string x = Base64UrlEncode({reinterpret_cast<const char*>(pub.key.data()), 32});
  // HMAC keyed with the raw public key bytes, and with its JWK "x" text.
  for (const std::string& secret : {std::string(pub.key.begin(), pub.key.end()), x}) {
    const std::string input = Compose(Header("HS256"), GoodPayload());
    const std::string token = input + "." + Base64UrlEncode(HmacSha256(secret, input));
    EXPECT_EQ(Reason(token), "unsupported token algorithm");
  }
  EXPECT_EQ(verifier_.CachedTokens(), 0u);
}

TEST_F(VerifierTest, IssuerAndAudience) {
  Claims c = GoodClaims();
  c.audience = "other";
  EXPECT_EQ(Reason(JwtSigner(k1_).Sign(c)), "invalid token audience");
  c = GoodClaims();
  c.issuer = "evil";
  EXPECT_EQ(Reason(JwtSigner(k1_).Sign(c)), "invalid token issuer");
  auto p = GoodPayload();
  p["aud"] = json::array{"x", "tchat"};
  EXPECT_EQ(Reason(SignPayload(p)), "ok");
  p["aud"] = json::array{"x", "y"};
  EXPECT_EQ(Reason(SignPayload(p)), "invalid token audience");
  p.erase("aud");
  EXPECT_EQ(Reason(SignPayload(p)), "invalid token audience");
  p = GoodPayload();
  p.erase("sub");
  EXPECT_EQ(Reason(SignPayload(p)), "token has no subject");
  p = GoodPayload();
  p["sid"] = "";
  EXPECT_EQ(Reason(SignPayload(p)), "token has no session");
}

TEST_F(VerifierTest, MalformedTokens) {
  const std::string good = JwtSigner(k1_).Sign(GoodClaims());
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const std::string header = good.substr(0, dot1);
  const std::string payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string sig = good.substr(dot2 + 1);
  for (const std::string& bad : {
           std::string(), std::string("abc"), header + "." + payload,  // 2 parts
           good + ".x", header + "=." + payload + "." + sig,           // padding
           header + "." + payload + "." + sig + "=", "!!." + payload + "." + sig,
           Base64UrlEncode("{not json") + "." + payload + "." + sig,
           Base64UrlEncode("[1,2]") + "." + payload + "." + sig,
           header + "." + payload + "." + sig.substr(0, 40),        // short signature
           header + "." + Base64UrlEncode("not json") + "." + sig,  // fails signature first
           header + "." + std::string(100'000, 'A') + "." + sig,    // huge
       }) {
    const std::string reason = Reason(bad);
    EXPECT_NE(reason, "ok") << bad.substr(0, 80);
  }
  EXPECT_EQ(Reason(header + "." + payload), "malformed token");
  EXPECT_EQ(Reason(header + "." + std::string(100'000, 'A') + "." + sig), "malformed token");
  EXPECT_EQ(Reason(good), "ok");
}

TEST_F(VerifierTest, CachedPathAndExpiry) {
  const std::string token = JwtSigner(k1_).Sign(GoodClaims());
  auto first = verifier_.Verify(token, kNow);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(verifier_.CachedTokens(), 1u);
  auto second = verifier_.Verify(token, kNow + 1s);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(verifier_.CachedTokens(), 1u);
  // The cached entry expires with the token.
  EXPECT_EQ(Reason(token, kNow + 2h), "token expired");
  EXPECT_EQ(verifier_.CachedTokens(), 0u);
  // Failures are not cached.
  EXPECT_EQ(Reason(JwtSigner(Ed25519KeyPair::Generate("k1")).Sign(GoodClaims())),
            "invalid token signature");
  EXPECT_EQ(verifier_.CachedTokens(), 0u);
}

TEST_F(VerifierTest, CacheIsBounded) {
  TokenVerifier small(keys_, {.cache_capacity = 16});
  JwtSigner signer(k1_);
  for (int i = 0; i < 200; ++i) {
    Claims c = GoodClaims();
    c.subject = "u" + std::to_string(i);
    ASSERT_TRUE(small.Verify(signer.Sign(c), kNow).ok());
  }
  EXPECT_LE(small.CachedTokens(), 16u);
  EXPECT_GT(small.CachedTokens(), 0u);
}

TEST_F(VerifierTest, RotationWithTwoKeys) {
  auto k2 = Ed25519KeyPair::Generate("k2");
  auto set = KeySet::ParseJwks(BuildJwks({k1_.Public(), k2.Public()}));
  ASSERT_TRUE(set.ok());
  keys_->Set(set->keys());
  const std::string t1 = JwtSigner(k1_).Sign(GoodClaims());
  const std::string t2 = JwtSigner(k2).Sign(GoodClaims());
  EXPECT_EQ(Reason(t1), "ok");
  EXPECT_EQ(Reason(t2), "ok");
  // k1 retired: its cached token must not survive the swap; k2's still works.
  keys_->Set({k2.Public()});
  EXPECT_EQ(Reason(t1), "unknown token key id");
  EXPECT_EQ(Reason(t2), "ok");
}

TEST_F(VerifierTest, NoKeysYet) {
  auto empty = std::make_shared<ManualKeySource>();
  TokenVerifier v(empty, {});
  auto r = v.Verify(JwtSigner(k1_).Sign(GoodClaims()), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "no token keys available");
}

TEST_F(VerifierTest, SharedAcrossThreads) {
  JwtSigner signer(k1_);
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    Claims c = GoodClaims();
    c.subject = "u" + std::to_string(i);
    tokens.push_back(signer.Sign(c));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const auto& token = tokens[(i + t) % tokens.size()];
        auto r = verifier_.Verify(token, kNow);
        if (r.ok() && r->user_id == "u" + std::to_string((i + t) % tokens.size())) ++ok;
        if (t == 0 && i % 100 == 0) keys_->Set({k1_.Public()});  // concurrent swaps
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4 * 500);
}

TEST(StaticKeySourceTest, FromFileAndFromJwks) {
  auto kp = Ed25519KeyPair::Generate("file-key");
  const std::string path = ::testing::TempDir() + "jwt_test_jwks.json";
  {
    std::ofstream out(path);
    out << BuildJwks({kp.Public()});
  }
  auto source = StaticKeySource::FromFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(source.ok()) << source.error().message;
  TokenVerifier v(*source, {.issuer = "i", .audience = "a"});
  auto r = v.Verify(JwtSigner(kp).Sign({"i", "a", "u", "s", kNow, kNow + 900s}), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user_id, "u");

  auto missing = StaticKeySource::FromFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
  EXPECT_FALSE(StaticKeySource::FromJwks(R"({"keys":[]})").ok());
}

// ---------------------------------------------------------------------------
// HttpJwksKeySource against an in-process JWKS endpoint.

TEST(HttpJwksKeySourceTest, FetchesRotatesAndSurvivesOutage) {
  namespace asio = boost::asio;
  asio::io_context io;
  auto k1 = Ed25519KeyPair::Generate("k1");
  auto k2 = Ed25519KeyPair::Generate("k2");
  std::string jwks = BuildJwks({k1.Public()});
  int status = 200;
  tchat::testing::TestHttpServer server(
      io,
      [&](tchat::testing::TestRequest req) -> Task<std::optional<tchat::testing::TestResponse>> {
        if (req.target != "/.well-known/jwks.json") co_return tchat::testing::TestResponse{404};
        co_return tchat::testing::TestResponse{.status = status, .body = jwks};
      });
  auto source =
      HttpJwksKeySource::Create(io.get_executor(), {.url = server.Url("/.well-known/jwks.json"),
                                                    .refresh_interval = 1h,
                                                    .retry_interval = 1h,
                                                    .unknown_kid_min_interval = 1h});
  TokenVerifier verifier(source, {.issuer = "i", .audience = "a"});
  const Claims claims{"i", "a", "u", "s", SysClock::now() - 1s, SysClock::now() + 900s};
  const std::string t1 = JwtSigner(k1).Sign(claims);
  const std::string t2 = JwtSigner(k2).Sign(claims);

  bool t1_before_start = true, t1_ok = false, t2_first = true, t2_after = false,
       t2_during_outage = false;
  std::uint64_t fetches_after_rotation = 0, fetches_at_end = 0;
  ASSERT_TRUE(tchat::testing::RunUntilDone(io, [&]() -> Task<void> {
    auto sleep = [](std::chrono::milliseconds d) -> Task<void> {
      asio::steady_timer t(co_await asio::this_coro::executor, d);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    t1_before_start = verifier.Verify(t1).ok();
    source->Start();
    for (int i = 0; i < 2000 && source->fetches() == 0; ++i) co_await sleep(5ms);
    t1_ok = verifier.Verify(t1).ok();
    // Auth rotates in k2; the first k2 token triggers a refresh.
    jwks = BuildJwks({k2.Public(), k1.Public()});
    t2_first = verifier.Verify(t2).ok();
    for (int i = 0; i < 2000 && source->fetches() < 2; ++i) co_await sleep(5ms);
    t2_after = verifier.Verify(t2).ok();
    fetches_after_rotation = source->fetches();
    // Auth goes down: the last good set stays.
    status = 503;
    const Status refresh = co_await source->Refresh();
    EXPECT_FALSE(refresh.ok());
    t2_during_outage = verifier.Verify(t2).ok();
    // Unknown kids within the rate limit do not cause fetches.
    for (int i = 0; i < 5; ++i) source->OnUnknownKid();
    co_await sleep(20ms);
    fetches_at_end = source->fetches() + source->failures();
    source->Stop();
  }()));
  EXPECT_FALSE(t1_before_start);
  EXPECT_TRUE(t1_ok);
  EXPECT_FALSE(t2_first);
  EXPECT_TRUE(t2_after);
  EXPECT_EQ(fetches_after_rotation, 2u);
  EXPECT_TRUE(t2_during_outage);
  EXPECT_EQ(fetches_at_end, 3u);
  EXPECT_EQ(server.state().connections, 1);  // keep-alive
}

}  // namespace
}  // namespace tchat::jwt
