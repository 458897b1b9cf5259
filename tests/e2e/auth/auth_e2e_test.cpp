// Black-box end-to-end tests of tchat-auth over HTTP (docs/api/openapi.yaml, auth), against the
// running service with its real PostgreSQL and Redis. Environment:
//   TCHAT_TEST_AUTH_URL  base URL, e.g. http://127.0.0.1:8081 (required)
//   TCHAT_TEST_AUTH_LOG  the service's log file (the no-secrets test needs it)
// The service must run with TCHAT_DEV_OTP=1. Each test poses as a client
// address of its own (X-Real-IP, trusted from loopback) and uses fresh phone
// numbers, so tests do not share rate-limit state.
#include <cctype>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>

#include "support/env.hpp"
#include "support/fixture.hpp"
#include "support/users.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- helpers

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

std::string Digits(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + Rng()() % 10);
  return s;
}

// A mobile number of each country: national form, country, E.164.
struct Number {
  std::string national;
  std::string country;
  std::string e164;
};

// A Thai mobile number (08x xxx xxxx) not used before by this process.
Number ThaiNumber() {
  static std::set<std::string> used;
  for (;;) {
    const std::string rest = Digits(8);  // 8 + 8 digits: 10^8 numbers
    if (!used.insert(rest).second) continue;
    return {"08" + rest.substr(0, 1) + "-" + rest.substr(1, 3) + "-" + rest.substr(4), "TH",
            "+668" + rest};
  }
}

std::vector<Number> OneOfEachCountry() {
  const std::string th = Digits(7), sg = std::to_string(Rng()() % 9) + Digits(6), id = Digits(7),
                    my = Digits(7), ph = Digits(7), vn = Digits(7);
  return {
      {"081 " + th, "TH", "+6681" + th},   {"9" + sg, "SG", "+659" + sg},
      {"0812-" + id, "ID", "+62812" + id}, {"012-" + my, "MY", "+6012" + my},
      {"0917 " + ph, "PH", "+63917" + ph}, {"091 " + vn, "VN", "+8491" + vn},
  };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string B64(std::string_view s) {
  return jwt::Base64UrlEncode(s);
}

json::object DecodeJwtPart(const std::string& token, int part) {
  std::size_t start = 0;
  for (int i = 0; i < part; ++i) start = token.find('.', start) + 1;
  const std::size_t end = token.find('.', start);
  auto raw = jwt::Base64UrlDecode(token.substr(start, end - start));
  if (!raw) return {};
  json::error_code ec;
  json::value v = json::parse(*raw, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::int64_t Int(const json::value& v) {
  return v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.as_uint64());
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

// The auth service (TCHAT_TEST_AUTH_URL); every test poses as a client address of
// its own (X-Real-IP).
class AuthE2E : public ServiceTest {
 protected:
  AuthE2E() : ServiceTest("TCHAT_TEST_AUTH_URL") {}

  void SetUp() override {
    ServiceTest::SetUp();
    api_ = NewClient();
  }

  // A client of the service posing as a fresh client address.
  std::unique_ptr<BlockingApi> NewClient() {
    auto api = std::make_unique<BlockingApi>(io_, url_);
    api->set_header("X-Real-IP", FreshIp());
    return api;
  }

  // Requests a code; returns the dev_code (fails the test without one).
  std::string RequestCode(const std::string& phone, const std::string& country = "",
                          const std::string& purpose = "") {
    return RequestDevCode(*api_, phone, country, purpose);
  }

  Session SignIn(const std::string& phone, const std::string& device = "e2e") {
    return e2e::SignIn(*api_, phone, device);
  }

  Session NewUser() { return SignIn(ThaiNumber().e164); }

  std::unique_ptr<BlockingApi> api_;
};

// ---------------------------------------------------------------- basics

TEST_F(AuthE2E, HealthAndJwks) {
  ApiResponse h = api_->Get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(Str(h.body, "service"), "auth");
  ApiResponse ready = api_->Get("/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.raw;

  ApiResponse j = api_->Get("/.well-known/jwks.json");
  ASSERT_EQ(j.status, 200);
  EXPECT_NE(j.headers.Get("content-type").value_or("").find("application/json"), std::string::npos);
  json::value doc = j.body;
  ASSERT_TRUE(doc.is_object() && doc.at("keys").is_array());
  const auto& keys = doc.at("keys").as_array();
  ASSERT_GE(keys.size(), 1u);
  ASSERT_LE(keys.size(), 2u);
  for (const auto& k : keys) {
    EXPECT_EQ(Str(k, "kty"), "OKP");
    EXPECT_EQ(Str(k, "crv"), "Ed25519");
    EXPECT_EQ(Str(k, "alg"), "EdDSA");
    EXPECT_FALSE(Str(k, "kid").empty());
    EXPECT_EQ(jwt::Base64UrlDecode(Str(k, "x")).value_or("").size(), 32u);
    EXPECT_FALSE(k.as_object().contains("d")) << "private key material in the JWKS";
  }
}

TEST_F(AuthE2E, ProtectedRoutesNeedAToken) {
  for (const char* path : {"/v1/users/me", "/v1/auth/sessions", "/v1/users?phone=%2B66812345678"}) {
    ApiResponse r = api_->Get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.error_code(), "unauthenticated");
    EXPECT_EQ(r.headers.Get("www-authenticate").value_or(""), "Bearer");
  }
  EXPECT_EQ(api_->Post("/v1/auth/logout", json::object{}).status, 401);
  EXPECT_EQ(api_->Delete("/v1/auth/sessions/0190b4c2-7a1e-7c3d-9f0a-0123456789ab").status, 401);
  EXPECT_EQ(api_->Put("/v1/auth/password", json::object{{"password", "x"}}).status, 401);
}

// ---------------------------------------------------------------- OTP

TEST_F(AuthE2E, OtpRequestAnswersAsSpecified) {
  const Number n = ThaiNumber();
  ApiResponse r =
      api_->Post("/v1/auth/otp/request", json::object{{"phone", n.national}, {"country", "TH"}});
  ASSERT_EQ(r.status, 202) << r.raw;
  json::value v = r.body;
  EXPECT_EQ(Int(v.at("expires_in")), 300);
  EXPECT_EQ(Int(v.at("resend_after")), 60);
  const std::string code = Str(v, "dev_code");
  ASSERT_EQ(code.size(), 6u);
  for (char c : code) EXPECT_TRUE(c >= '0' && c <= '9');
}

TEST_F(AuthE2E, PhoneNumbersOfAllSixCountriesNormalise) {
  for (const Number& n : OneOfEachCountry()) {
    SCOPED_TRACE(n.country + " " + n.national);
    // Asked in national format with the country, verified in E.164: same number.
    const std::string code = RequestCode(n.national, n.country);
    ApiResponse v =
        api_->Post("/v1/auth/otp/verify", json::object{{"phone", n.e164}, {"code", code}});
    ASSERT_EQ(v.status, 200) << v.raw;
    EXPECT_EQ(Str(v.body.at("user"), "phone"), n.e164);
    EXPECT_EQ(Str(v.body.at("user"), "country"), n.country);
  }
}

TEST_F(AuthE2E, BadPhoneNumbersFailWithAReason) {
  struct Bad {
    json::object body;
    const char* why;
  };
  const std::vector<Bad> cases = {
      {{{"phone", "0812345678"}}, "international"},
      {{{"phone", "0812345678"}, {"country", "US"}}, "TH, SG, ID, MY, PH, VN"},
      {{{"phone", "+1 650 253 0000"}}, "not supported"},
      {{{"phone", "02 123 4567"}, {"country", "TH"}}, "mobile"},
      {{{"phone", "+66 81 234"}}, "valid"},
      {{{"phone", "081ABC5678"}, {"country", "TH"}}, "digits"},
      {{{"phone", ""}}, "required"},
      {{{"phone", 66812345678LL}}, "phone"},
      {{{"country", "TH"}}, "phone"},
  };
  for (const auto& c : cases) {
    ApiResponse r = api_->Post("/v1/auth/otp/request", c.body);
    EXPECT_EQ(r.status, 400) << json::serialize(c.body) << " → " << r.raw;
    EXPECT_EQ(r.error_code(), "invalid_argument");
    EXPECT_NE(r.error_message().find(c.why), std::string::npos)
        << json::serialize(c.body) << " → " << r.error_message();
  }
  ApiResponse not_json = api_->Send(ApiRequest{"POST", "/v1/auth/otp/request", "{not json", {}});
  EXPECT_EQ(not_json.status, 400);
  ApiResponse bad_locale = api_->Post("/v1/auth/otp/request",
                                      json::object{{"phone", ThaiNumber().e164}, {"locale", "zz"}});
  EXPECT_EQ(bad_locale.status, 400);
}

TEST_F(AuthE2E, ResendCooldownAnswers429WithRetryAfter) {
  const std::string phone = ThaiNumber().e164;
  RequestCode(phone);
  ApiResponse again = api_->Post("/v1/auth/otp/request", json::object{{"phone", phone}});
  ASSERT_EQ(again.status, 429) << again.raw;
  EXPECT_EQ(again.error_code(), "rate_limited");
  const int retry = std::stoi(std::string(again.headers.Get("retry-after").value_or("0")));
  EXPECT_GE(retry, 50);
  EXPECT_LE(retry, 60);
}

TEST_F(AuthE2E, PerAddressLimitAnswers429) {
  // Many numbers from one address (each asked once, in concurrent batches):
  // eventually refused for the address itself.
  int refused_for_address = 0, accepted = 0;
  std::string retry_after;
  for (int batch = 0; batch < 400 && refused_for_address == 0; ++batch) {
    std::vector<ApiRequest> calls;
    for (int i = 0; i < 50; ++i) {
      calls.push_back(ApiRequest{"POST",
                                 "/v1/auth/otp/request",
                                 json::serialize(json::object{{"phone", ThaiNumber().e164}}),
                                 {}});
    }
    for (const ApiResponse& r : api_->Concurrently(calls)) {
      if (r.status == 202) {
        ++accepted;
      } else if (r.status == 429 && r.error_message().find("address") != std::string::npos) {
        ++refused_for_address;
        retry_after = std::string(r.headers.Get("retry-after").value_or(""));
      } else {
        ADD_FAILURE() << "unexpected " << r.status << " " << r.raw;
        return;
      }
    }
  }
  EXPECT_GE(refused_for_address, 1) << "no address limit after " << accepted << " requests";
  EXPECT_GT(accepted, 0);
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GT(std::stoi(retry_after), 0);
  // Once refused, refused: the next request from the address is too.
  ApiResponse next = api_->Post("/v1/auth/otp/request", json::object{{"phone", ThaiNumber().e164}});
  EXPECT_EQ(next.status, 429);
  // Another address is not affected.
  api_->set_header("X-Real-IP", FreshIp());
  EXPECT_EQ(api_->Post("/v1/auth/otp/request", json::object{{"phone", ThaiNumber().e164}}).status,
            202);
}

TEST_F(AuthE2E, FirstVerificationCreatesTheUserWithTheSpecTokenResponse) {
  const std::string phone = ThaiNumber().e164;
  Session s = SignIn(phone, "Pixel 8");
  const json::value& v = s.reply;
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(Str(v, "token_type"), "Bearer");
  EXPECT_EQ(Int(v.at("expires_in")), 900);
  EXPECT_EQ(s.refresh.size(), 43u);
  EXPECT_TRUE(v.at("new_user").as_bool());
  const auto& user = v.at("user").as_object();
  for (const char* k : {"id", "phone", "display_name", "username", "avatar_url", "locale",
                        "country", "created_at"}) {
    EXPECT_TRUE(user.contains(k)) << k;
  }
  EXPECT_EQ(Str(v.at("user"), "phone"), phone);
  EXPECT_EQ(Str(v.at("user"), "locale"), "th");
  const std::string created = Str(v.at("user"), "created_at");
  EXPECT_EQ(created.size(), 24u) << created;  // RFC 3339 UTC with milliseconds
  EXPECT_EQ(created.back(), 'Z');

  // Access-token claims (docs/api/openapi.yaml, auth) and header.
  const json::object header = DecodeJwtPart(s.access, 0);
  const json::object claims = DecodeJwtPart(s.access, 1);
  EXPECT_EQ(Str(header, "alg"), "EdDSA");
  EXPECT_FALSE(Str(header, "kid").empty());
  EXPECT_EQ(Str(claims, "iss"), "tchat-auth");
  EXPECT_EQ(Str(claims, "aud"), "tchat");
  EXPECT_EQ(Str(claims, "sub"), s.user_id);
  EXPECT_FALSE(Str(claims, "sid").empty());
  EXPECT_EQ(Int(claims.at("exp")) - Int(claims.at("iat")), 900);
  ApiResponse jwks = api_->Get("/.well-known/jwks.json");
  EXPECT_NE(jwks.raw.find("\"" + Str(header, "kid") + "\""), std::string::npos);

  // The second sign-in finds the same user.
  Session again = SignIn(phone);
  EXPECT_FALSE(again.reply.at("new_user").as_bool());
  EXPECT_EQ(again.user_id, s.user_id);
}

TEST_F(AuthE2E, VerifyRejectsBadInput) {
  const std::string phone = ThaiNumber().e164;
  for (const char* code : {"12345", "1234567", "abcdef", ""}) {
    ApiResponse r =
        api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", code}});
    EXPECT_EQ(r.status, 400) << code;
  }
  EXPECT_EQ(api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}}).status, 400);
  ApiResponse never =
      api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", "123456"}});
  EXPECT_EQ(never.status, 401);
  EXPECT_EQ(never.error_code(), "unauthenticated");
}

TEST_F(AuthE2E, BruteForcingAnOtpStopsAtTheLimit) {
  const std::string phone = ThaiNumber().e164;
  const std::string code = RequestCode(phone);
  std::string wrong = code;
  wrong[0] = code[0] == '9' ? '0' : static_cast<char>(code[0] + 1);
  for (int i = 1; i <= 5; ++i) {
    ApiResponse r =
        api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", wrong}});
    EXPECT_EQ(r.status, 401) << r.raw;
  }
  // After five wrong tries the right code no longer works.
  ApiResponse right =
      api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", code}});
  EXPECT_EQ(right.status, 401) << right.raw;
  EXPECT_NE(right.error_message().find("request a new one"), std::string::npos);
}

TEST_F(AuthE2E, ACodeWorksOnce) {
  const std::string phone = ThaiNumber().e164;
  const std::string code = RequestCode(phone);
  json::object body{{"phone", phone}, {"code", code}};
  EXPECT_EQ(api_->Post("/v1/auth/otp/verify", body).status, 200);
  EXPECT_EQ(api_->Post("/v1/auth/otp/verify", body).status, 401);
}

TEST_F(AuthE2E, ConcurrentVerificationsOfOneCodeExactlyOneWins) {
  for (int racers : {2, 8}) {
    const std::string phone = ThaiNumber().e164;
    const std::string code = RequestCode(phone);
    const std::string body = json::serialize(json::object{{"phone", phone}, {"code", code}});
    std::vector<ApiRequest> calls(static_cast<std::size_t>(racers),
                                  ApiRequest{"POST", "/v1/auth/otp/verify", body, {}});
    auto replies = api_->Concurrently(calls);
    int ok = 0, refused = 0;
    std::set<std::string> users;
    for (const auto& r : replies) {
      if (r.status == 200) {
        ++ok;
        users.insert(Str(r.body.at("user"), "id"));
      } else if (r.status == 401) {
        ++refused;
      } else {
        ADD_FAILURE() << r.status << " " << r.raw;
      }
    }
    EXPECT_EQ(ok, 1) << racers << " racers";
    EXPECT_EQ(refused, racers - 1);
  }
}

// ---------------------------------------------------------------- tokens

TEST_F(AuthE2E, RefreshRotatesAndReuseRevokesTheSession) {
  Session s = NewUser();
  ApiResponse r1 = api_->Post("/v1/auth/refresh", json::object{{"refresh_token", s.refresh}});
  ASSERT_EQ(r1.status, 200) << r1.raw;
  const std::string second = Str(r1.body, "refresh_token");
  const std::string access2 = Str(r1.body, "access_token");
  EXPECT_NE(second, s.refresh);
  EXPECT_EQ(Str(r1.body, "token_type"), "Bearer");
  EXPECT_EQ(Int(r1.body.at("expires_in")), 900);
  EXPECT_EQ(DecodeJwtPart(access2, 1).at("sid"), DecodeJwtPart(s.access, 1).at("sid"));
  EXPECT_EQ(api_->Get("/v1/users/me", access2).status, 200);

  // The first token again: the whole session is revoked.
  ApiResponse replay = api_->Post("/v1/auth/refresh", json::object{{"refresh_token", s.refresh}});
  EXPECT_EQ(replay.status, 401);
  ApiResponse latest = api_->Post("/v1/auth/refresh", json::object{{"refresh_token", second}});
  EXPECT_EQ(latest.status, 401) << "the newest token of a revoked session must fail at once";
  EXPECT_EQ(api_->Get("/v1/users/me", access2).status, 401);
}

TEST_F(AuthE2E, RefreshRejectsGarbage) {
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{}).status, 400);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", 5}}).status, 400);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", "nope"}}).status, 401);
  EXPECT_EQ(
      api_->Post("/v1/auth/refresh", json::object{{"refresh_token", std::string(43, 'A')}}).status,
      401);
}

class ForgedTokens : public AuthE2E {
 protected:
  void SetUp() override {
    AuthE2E::SetUp();
    victim_ = NewUser();
    ASSERT_FALSE(victim_.access.empty());
    header_ = DecodeJwtPart(victim_.access, 0);
    claims_ = DecodeJwtPart(victim_.access, 1);
    ASSERT_EQ(api_->Get("/v1/users/me", victim_.access).status, 200);
  }
  std::string SigningInput(const json::object& header, const json::object& claims) const {
    return B64(json::serialize(header)) + "." + B64(json::serialize(claims));
  }
  void ExpectRejected(const std::string& token, const char* what) {
    ApiResponse r = api_->Get("/v1/users/me", token);
    EXPECT_EQ(r.status, 401) << what << ": " << r.raw;
    EXPECT_EQ(r.error_code(), "unauthenticated") << what;
  }
  Session victim_;
  json::object header_, claims_;
};

TEST_F(ForgedTokens, SignedByAnotherKeyWithTheServersKid) {
  jwt::JwtSigner forger(jwt::Ed25519KeyPair::Generate(Str(header_, "kid")));
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.subject = victim_.user_id;
  c.session_id = Str(claims_, "sid");
  c.issued_at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  c.expires_at = c.issued_at + 15min;
  ExpectRejected(forger.Sign(c), "another key");
}

TEST_F(ForgedTokens, AlgNone) {
  json::object h = header_;
  h["alg"] = "none";
  ExpectRejected(SigningInput(h, claims_) + ".", "alg none, empty signature");
  const std::string real_sig = victim_.access.substr(victim_.access.rfind('.'));
  ExpectRejected(SigningInput(h, claims_) + real_sig, "alg none, real signature");
}

TEST_F(ForgedTokens, Hs256WithThePublicKeyAsSecret) {
  ApiResponse j = api_->Get("/.well-known/jwks.json");
  std::string x;
  const json::value jwks = j.body;
  for (const auto& k : jwks.at("keys").as_array()) {
    if (Str(k, "kid") == Str(header_, "kid")) x = Str(k, "x");
  }
  ASSERT_FALSE(x.empty());
  json::object h = header_;
  h["alg"] = "HS256";
  const std::string input = SigningInput(h, claims_);
  for (const std::string& secret : {jwt::Base64UrlDecode(x).value_or(""), x}) {
    ExpectRejected(input + "." + B64(HmacSha256(secret, input)), "HS256 keyed with the public key");
  }
}

TEST_F(ForgedTokens, TamperedExpiryAudienceOrSubject) {
  const std::string sig = victim_.access.substr(victim_.access.rfind('.'));
  json::object later = claims_;
  later["exp"] = Int(claims_.at("exp")) + 86400;
  ExpectRejected(SigningInput(header_, later) + sig, "extended exp");
  json::object expired = claims_;
  expired["exp"] = Int(claims_.at("iat")) - 3600;
  ExpectRejected(SigningInput(header_, expired) + sig, "expired");
  json::object aud = claims_;
  aud["aud"] = "someone-else";
  ExpectRejected(SigningInput(header_, aud) + sig, "wrong aud");
  json::object sub = claims_;
  sub["sub"] = "0190b4c2-7a1e-7c3d-9f0a-0123456789ab";
  ExpectRejected(SigningInput(header_, sub) + sig, "other subject");
  ExpectRejected("not.a.token", "garbage");
  ExpectRejected(victim_.access + "x", "trailing byte");
}

// ---------------------------------------------------------------- sessions

TEST_F(AuthE2E, SessionsListRevokeAndLogout) {
  const std::string phone = ThaiNumber().e164;
  Session phone1 = SignIn(phone, "phone one");
  Session phone2 = SignIn(phone, "phone two");
  ApiResponse list = api_->Get("/v1/auth/sessions", phone2.access);
  ASSERT_EQ(list.status, 200) << list.raw;
  const json::value list_json = list.body;
  const auto& sessions = list_json.at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_TRUE(list.body.at("next_cursor").is_null());
  std::string other_id;
  int current = 0;
  for (const auto& s : sessions) {
    if (s.at("current").as_bool()) {
      ++current;
      EXPECT_EQ(Str(s, "device_name"), "phone two");
    } else {
      other_id = Str(s, "id");
      EXPECT_EQ(Str(s, "device_name"), "phone one");
    }
    EXPECT_FALSE(Str(s, "created_at").empty());
    EXPECT_FALSE(Str(s, "last_used_at").empty());
  }
  EXPECT_EQ(current, 1);
  ASSERT_FALSE(other_id.empty());
  EXPECT_EQ(Str(DecodeJwtPart(phone1.access, 1), "sid"), other_id);

  // Page of one.
  ApiResponse page = api_->Get("/v1/auth/sessions?limit=1", phone2.access);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.at("sessions").as_array().size(), 1u);
  EXPECT_FALSE(page.body.at("next_cursor").is_null());
  EXPECT_EQ(api_->Get("/v1/auth/sessions?limit=0", phone2.access).status, 400);
  EXPECT_EQ(api_->Get("/v1/auth/sessions?limit=201", phone2.access).status, 400);
  EXPECT_EQ(api_->Get("/v1/auth/sessions?cursor=nope", phone2.access).status, 400);

  // Revoke phone one from phone two: its refresh dies at once.
  EXPECT_EQ(api_->Delete("/v1/auth/sessions/" + other_id, phone2.access).status, 204);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", phone1.refresh}}).status,
            401);
  EXPECT_EQ(api_->Get("/v1/users/me", phone1.access).status, 401);
  EXPECT_EQ(
      api_->Delete("/v1/auth/sessions/0190b4c2-7a1e-7c3d-9f0a-0123456789ab", phone2.access).status,
      404);
  EXPECT_EQ(api_->Delete("/v1/auth/sessions/not-a-uuid", phone2.access).status, 404);

  // Log out: 204, then nothing of that session works.
  EXPECT_EQ(api_->Post("/v1/auth/logout", json::object{}, phone2.access).status, 204);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", phone2.refresh}}).status,
            401);
  EXPECT_EQ(api_->Get("/v1/auth/sessions", phone2.access).status, 401);
}

TEST_F(AuthE2E, OneUserCannotReadOrRevokeAnothersSessions) {
  Session alice = NewUser();
  Session bob = NewUser();
  const std::string alice_sid = Str(DecodeJwtPart(alice.access, 1), "sid");
  ApiResponse bobs = api_->Get("/v1/auth/sessions", bob.access);
  ASSERT_EQ(bobs.status, 200);
  EXPECT_EQ(bobs.raw.find(alice_sid), std::string::npos);
  EXPECT_EQ(api_->Delete("/v1/auth/sessions/" + alice_sid, bob.access).status, 404);
  // Alice's session is untouched.
  EXPECT_EQ(api_->Get("/v1/users/me", alice.access).status, 200);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", alice.refresh}}).status,
            200);
}

// ---------------------------------------------------------------- passwords

TEST_F(AuthE2E, PasswordSetLoginChangeAndLockout) {
  Session s = NewUser();
  const std::string pw = "correct horse battery staple";
  ApiResponse short_pw =
      api_->Put("/v1/auth/password", json::object{{"password", "elevenchars"}}, s.access);
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_NE(short_pw.error_message().find("12"), std::string::npos);
  // The signed-in session alone is no proof, even for the first password.
  EXPECT_EQ(api_->Put("/v1/auth/password", json::object{{"password", pw}}, s.access).status, 400);
  const std::string pw_code = RequestCode(s.phone, "", "password");
  EXPECT_EQ(api_->Put("/v1/auth/password", json::object{{"password", pw}, {"otp_code", pw_code}},
                      s.access)
                .status,
            204);
  ApiResponse me = api_->Get("/v1/users/me", s.access);
  EXPECT_TRUE(me.body.at("has_password").as_bool());

  // Login by phone (national form with country works too).
  ApiResponse login =
      api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}});
  ASSERT_EQ(login.status, 200) << login.raw;
  EXPECT_FALSE(login.body.at("new_user").as_bool());
  EXPECT_EQ(Str(login.body.at("user"), "id"), s.user_id);
  const std::string national = "0" + s.phone.substr(3);
  EXPECT_EQ(api_->Post("/v1/auth/login",
                       json::object{{"phone", national}, {"country", "TH"}, {"password", pw}})
                .status,
            200);
  // By username, any case.
  const std::string name = "user_" + Digits(10);
  ASSERT_EQ(api_->Patch("/v1/users/me", json::object{{"username", name}}, s.access).status, 200);
  std::string upper = name;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(
      api_->Post("/v1/auth/login", json::object{{"username", upper}, {"password", pw}}).status,
      200);
  // Bad requests.
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"password", pw}}).status, 400);
  EXPECT_EQ(api_->Post("/v1/auth/login",
                       json::object{{"phone", s.phone}, {"username", name}, {"password", pw}})
                .status,
            400);
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"phone", s.phone}}).status, 400);

  // Changing needs the current password.
  const std::string pw2 = "another long passphrase";
  EXPECT_EQ(api_->Put("/v1/auth/password", json::object{{"password", pw2}}, s.access).status, 400);
  EXPECT_EQ(
      api_->Put("/v1/auth/password",
                json::object{{"password", pw2}, {"current_password", "not the password"}}, s.access)
          .status,
      403);

  // An attacker address: wrong passwords answer 401, then 429 with Retry-After,
  // even for the right password; the owner's address still works.
  auto attacker_api = NewClient();
  BlockingApi& attacker = *attacker_api;
  int unauthorized = 0;
  ApiResponse locked;
  for (int i = 0; i < 20; ++i) {
    ApiResponse r = attacker.Post(
        "/v1/auth/login",
        json::object{{"phone", s.phone}, {"password", "guess " + std::to_string(i) + "!!!!!!"}});
    if (r.status == 401) {
      ++unauthorized;
      continue;
    }
    locked = r;
    break;
  }
  EXPECT_GE(unauthorized, 3);
  ASSERT_EQ(locked.status, 429) << locked.raw;
  EXPECT_EQ(locked.error_code(), "rate_limited");
  EXPECT_GT(std::stoi(std::string(locked.headers.Get("retry-after").value_or("0"))), 0);
  EXPECT_EQ(
      attacker.Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}}).status,
      429);
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}}).status,
            200);

  // The change itself ends the other sessions.
  ApiResponse changed = api_->Put(
      "/v1/auth/password", json::object{{"password", pw2}, {"current_password", pw}}, s.access);
  EXPECT_EQ(changed.status, 204) << changed.raw;
  EXPECT_EQ(api_->Post("/v1/auth/refresh",
                       json::object{{"refresh_token", Str(login.body, "refresh_token")}})
                .status,
            401);
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}}).status,
            401);
  EXPECT_EQ(
      api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw2}}).status,
      200);
}

// A stolen access token (or a refresh token, which mints fresh access tokens)
// must not take the account over: no password can be set, changed or reset
// without the current password or a code sent to the phone for that purpose.
TEST_F(AuthE2E, AStolenTokenCannotSetThePassword) {
  Session victim = NewUser();
  Session other_device = SignIn(victim.phone, "tablet");
  // The thief refreshes (a "fresh" session by refresh token alone) and tries.
  ApiResponse r = api_->Post("/v1/auth/refresh", json::object{{"refresh_token", victim.refresh}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string stolen = Str(r.body, "access_token");
  const std::string pw = "the thief's own password";
  ApiResponse bare = api_->Put("/v1/auth/password", json::object{{"password", pw}}, stolen);
  EXPECT_EQ(bare.status, 400) << bare.raw;
  ApiResponse guessed = api_->Put("/v1/auth/password",
                                  json::object{{"password", pw}, {"otp_code", "000000"}}, stolen);
  EXPECT_EQ(guessed.status, 403) << guessed.raw;
  ApiResponse nopw =
      api_->Put("/v1/auth/password",
                json::object{{"password", pw}, {"current_password", "anything at all"}}, stolen);
  EXPECT_EQ(nopw.status, 400) << nopw.raw;
  // A sign-in code is no password proof.
  const std::string signin_code = RequestCode(victim.phone);
  EXPECT_EQ(api_->Put("/v1/auth/password",
                      json::object{{"password", pw}, {"otp_code", signin_code}}, stolen)
                .status,
            403);
  // Nothing changed: the other device is still signed in, no password works.
  EXPECT_EQ(api_->Get("/v1/users/me", other_device.access).status, 200);
  EXPECT_FALSE(api_->Get("/v1/users/me", other_device.access).body.at("has_password").as_bool());
  EXPECT_EQ(
      api_->Post("/v1/auth/login", json::object{{"phone", victim.phone}, {"password", pw}}).status,
      401);
}

TEST_F(AuthE2E, PasswordResetByCodeEndsEverySession) {
  Session s = NewUser();
  Session other = SignIn(s.phone, "phone 2");
  const std::string pw = "reset by a code " + Digits(6);
  ApiResponse unknown = api_->Post(
      "/v1/auth/password/reset",
      json::object{{"phone", ThaiNumber().e164}, {"otp_code", "123456"}, {"password", pw}});
  EXPECT_EQ(unknown.status, 401) << unknown.raw;
  const std::string code = RequestCode(s.phone, "", "password");
  ApiResponse short_pw =
      api_->Post("/v1/auth/password/reset",
                 json::object{{"phone", s.phone}, {"otp_code", code}, {"password", "x"}});
  EXPECT_EQ(short_pw.status, 400);
  ApiResponse ok =
      api_->Post("/v1/auth/password/reset",
                 json::object{{"phone", s.phone}, {"otp_code", code}, {"password", pw}});
  ASSERT_EQ(ok.status, 204) << ok.raw;
  EXPECT_EQ(api_->Get("/v1/users/me", s.access).status, 401);
  EXPECT_EQ(api_->Get("/v1/users/me", other.access).status, 401);
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", other.refresh}}).status,
            401);
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}}).status,
            200);
  // The code is used up.
  EXPECT_EQ(api_->Post("/v1/auth/password/reset",
                       json::object{{"phone", s.phone}, {"otp_code", code}, {"password", pw}})
                .status,
            401);
}

// DELETE /v1/auth/password (issue 17): the same fresh proof as a change, then
// the other sessions end as after a change.
TEST_F(AuthE2E, RemovingThePasswordNeedsAProof) {
  Session s = NewUser();
  auto remove = [&](const json::object& proof, const std::string& bearer) {
    ApiRequest req("DELETE", "/v1/auth/password", json::serialize(proof));
    req.bearer = bearer;
    return api_->Send(std::move(req));
  };
  // (At most five codes an hour go to one number: this test asks for five.)
  // Nothing to remove yet: 409 (with a proof), 400 (without one).
  EXPECT_EQ(remove({}, s.access).status, 400);
  ApiResponse none = remove({{"current_password", "anything at all"}}, s.access);
  EXPECT_EQ(none.status, 409) << none.raw;

  const std::string pw = "to be removed " + Digits(6);
  ApiResponse set = api_->Put(
      "/v1/auth/password",
      json::object{{"password", pw}, {"otp_code", RequestCode(s.phone, "", "password")}}, s.access);
  ASSERT_EQ(set.status, 204) << set.raw;
  Session other = SignIn(s.phone, "tablet");
  EXPECT_EQ(remove({}, s.access).status, 400) << "a session alone is no proof";
  EXPECT_EQ(api_->Delete("/v1/auth/password", s.access).status, 400);  // no body at all
  EXPECT_EQ(remove({{"current_password", "not the password"}}, s.access).status, 403);
  EXPECT_EQ(remove({{"otp_code", "000000"}}, s.access).status, 403);
  EXPECT_EQ(remove({{"current_password", pw}}, "").status, 401);
  EXPECT_TRUE(api_->Get("/v1/users/me", s.access).body.at("has_password").as_bool());
  EXPECT_EQ(api_->Get("/v1/users/me", other.access).status, 200);

  ApiResponse ok = remove({{"current_password", pw}}, s.access);
  ASSERT_EQ(ok.status, 204) << ok.raw;
  EXPECT_FALSE(api_->Get("/v1/users/me", s.access).body.at("has_password").as_bool());
  EXPECT_EQ(api_->Get("/v1/users/me", other.access).status, 401) << "other sessions end";
  EXPECT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", other.refresh}}).status,
            401);
  EXPECT_EQ(api_->Post("/v1/auth/login", json::object{{"phone", s.phone}, {"password", pw}}).status,
            401);
  EXPECT_EQ(remove({{"current_password", pw}}, s.access).status, 409);

  // A code of purpose "password" proves a removal too.
  const std::string pw2 = "set again " + Digits(6);
  ASSERT_EQ(
      api_->Put("/v1/auth/password",
                json::object{{"password", pw2}, {"otp_code", RequestCode(s.phone, "", "password")}},
                s.access)
          .status,
      204);
  ApiResponse by_code = remove({{"otp_code", RequestCode(s.phone, "", "password")}}, s.access);
  EXPECT_EQ(by_code.status, 204) << by_code.raw;
  EXPECT_FALSE(api_->Get("/v1/users/me", s.access).body.at("has_password").as_bool());
}

TEST_F(AuthE2E, LoginOfUnknownOrPasswordlessAccountsLooksTheSame) {
  Session s = NewUser();  // no password set
  ApiResponse a = api_->Post("/v1/auth/login",
                             json::object{{"phone", s.phone}, {"password", "whatever password"}});
  ApiResponse b = api_->Post("/v1/auth/login", json::object{{"phone", ThaiNumber().e164},
                                                            {"password", "whatever password"}});
  ApiResponse c = api_->Post("/v1/auth/login", json::object{{"username", "nobody_" + Digits(8)},
                                                            {"password", "whatever password"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(b.status, 401);
  EXPECT_EQ(c.status, 401);
  EXPECT_EQ(a.raw, b.raw);
  EXPECT_EQ(b.raw, c.raw);
}

// ---------------------------------------------------------------- users

TEST_F(AuthE2E, MeAndProfileUpdates) {
  Session s = NewUser();
  ApiResponse me = api_->Get("/v1/users/me", s.access);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Str(me.body, "phone"), s.phone);
  const std::string name = "Name_" + Digits(8);
  ApiResponse p = api_->Patch("/v1/users/me",
                              json::object{{"display_name", "  สมชาย ใจดี "},
                                           {"username", name},
                                           {"locale", "en"},
                                           {"avatar_url", "https://cdn.example.com/a.png"}},
                              s.access);
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(Str(p.body, "display_name"), "สมชาย ใจดี");
  EXPECT_EQ(Str(p.body, "username"), name);
  EXPECT_EQ(Str(p.body, "locale"), "en");
  EXPECT_EQ(Str(p.body, "avatar_url"), "https://cdn.example.com/a.png");
  // null clears.
  ApiResponse cleared =
      api_->Patch("/v1/users/me", json::object{{"avatar_url", nullptr}}, s.access);
  ASSERT_EQ(cleared.status, 200);
  EXPECT_TRUE(cleared.body.at("avatar_url").is_null());
  EXPECT_EQ(Str(cleared.body, "username"), name);

  for (const json::object& bad :
       {json::object{{"username", "9starts_with_digit"}}, json::object{{"username", "ab"}},
        json::object{{"username", "admin"}}, json::object{{"locale", "fr"}},
        json::object{{"locale", nullptr}}, json::object{{"display_name", std::string(65, 'x')}},
        json::object{{"display_name", ""}}, json::object{{"avatar_url", "javascript:alert(1)"}},
        json::object{{"phone", "+66812345678"}}, json::object{{"display_name", 5}}}) {
    ApiResponse r = api_->Patch("/v1/users/me", bad, s.access);
    EXPECT_EQ(r.status, 400) << json::serialize(bad) << " → " << r.raw;
  }

  // Usernames are unique regardless of case.
  Session other = NewUser();
  std::string lower = name;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ApiResponse taken = api_->Patch("/v1/users/me", json::object{{"username", lower}}, other.access);
  EXPECT_EQ(taken.status, 409) << taken.raw;
  EXPECT_EQ(taken.error_code(), "conflict");
}

TEST_F(AuthE2E, PublicProfileHasNoPhone) {
  Session a = NewUser();
  Session b = NewUser();
  ApiResponse r = api_->Get("/v1/users/" + a.user_id, b.access);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Str(r.body, "id"), a.user_id);
  EXPECT_FALSE(r.body.as_object().contains("phone"));
  EXPECT_EQ(r.raw.find(a.phone), std::string::npos);
  EXPECT_TRUE(r.body.as_object().contains("display_name"));
  EXPECT_EQ(api_->Get("/v1/users/0190b4c2-7a1e-7c3d-9f0a-0123456789ab", b.access).status, 404);
  EXPECT_EQ(api_->Get("/v1/users/not-a-uuid", b.access).status, 404);
}

TEST_F(AuthE2E, ContactLookupByUsernameIgnoresCaseAndHidesPhones) {
  Session a = NewUser();
  Session b = NewUser();
  const std::string name = "Find_" + Digits(10);
  ASSERT_EQ(api_->Patch("/v1/users/me", json::object{{"username", name}}, b.access).status, 200);
  std::string lower = name;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& q : {name, lower}) {
    ApiResponse found = api_->Get("/v1/users?username=" + q, a.access);
    ASSERT_EQ(found.status, 200) << found.raw;
    const json::value j = found.body;
    const auto& users = j.at("users").as_array();
    ASSERT_EQ(users.size(), 1u) << q;
    EXPECT_EQ(Str(users[0], "id"), b.user_id);
    EXPECT_EQ(Str(users[0], "username"), name);
    EXPECT_FALSE(users[0].as_object().contains("phone"));
    EXPECT_EQ(found.raw.find(b.phone), std::string::npos);
    EXPECT_TRUE(j.at("next_cursor").is_null());
  }
  // Not found: an empty list, as for phone numbers.
  ApiResponse none = api_->Get("/v1/users?username=nobody_" + Digits(10), a.access);
  ASSERT_EQ(none.status, 200) << none.raw;
  EXPECT_TRUE(none.body.at("users").as_array().empty());
  ApiResponse prefix = api_->Get("/v1/users?username=" + name.substr(0, name.size() - 1), a.access);
  ASSERT_EQ(prefix.status, 200);
  EXPECT_TRUE(prefix.body.at("users").as_array().empty()) << "not an exact match";
  // Exactly one of phone and username; a name no username can have.
  for (const std::string& bad :
       {"/v1/users?username=" + name + "&phone=%2B" + b.phone.substr(1), std::string("/v1/users"),
        std::string("/v1/users?username="), std::string("/v1/users?username=9lives"),
        std::string("/v1/users?username=%40") + name, std::string("/v1/users?username=ab")}) {
    ApiResponse r = api_->Get(bad, a.access);
    EXPECT_EQ(r.status, 400) << bad << " → " << r.raw;
    EXPECT_EQ(r.error_code(), "invalid_argument") << bad;
  }
  EXPECT_EQ(api_->Get("/v1/users?username=" + name).status, 401);
}

TEST_F(AuthE2E, ContactLookupByPhoneIsLimitedAndHidesPhones) {
  Session a = NewUser();
  Session b = NewUser();
  const std::string q = "/v1/users?phone=" + std::string("%2B") + b.phone.substr(1);
  ApiResponse found = api_->Get(q, a.access);
  ASSERT_EQ(found.status, 200) << found.raw;
  const json::value found_json = found.body;
  const auto& users = found_json.at("users").as_array();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(Str(users[0], "id"), b.user_id);
  EXPECT_FALSE(users[0].as_object().contains("phone"));
  // National form: the caller's country applies.
  ApiResponse national = api_->Get("/v1/users?phone=0" + b.phone.substr(3), a.access);
  ASSERT_EQ(national.status, 200);
  EXPECT_EQ(national.body.at("users").as_array().size(), 1u);
  ApiResponse none = api_->Get("/v1/users?phone=%2B" + ThaiNumber().e164.substr(1), a.access);
  ASSERT_EQ(none.status, 200);
  EXPECT_TRUE(none.body.at("users").as_array().empty());
  EXPECT_EQ(api_->Get("/v1/users", a.access).status, 400);
  EXPECT_EQ(api_->Get("/v1/users?phone=12", a.access).status, 400);

  // Enumeration is capped: one caller soon gets 429 with Retry-After.
  ApiResponse limited;
  int answered = 0;
  for (int i = 0; i < 20000; ++i) {
    ApiResponse r = api_->Get("/v1/users?phone=%2B" + ThaiNumber().e164.substr(1), a.access);
    if (r.status != 200) {
      limited = r;
      break;
    }
    ++answered;
  }
  ASSERT_EQ(limited.status, 429) << "no limit after " << answered << " lookups";
  EXPECT_FALSE(limited.headers.Get("retry-after").value_or("").empty());
}

// ---------------------------------------------------------------- operations

TEST_F(AuthE2E, MetricsCountSignInsAndRefreshes) {
  auto value = [&](const std::string& series) {
    ApiResponse m = api_->Get("/metrics");
    const auto pos = m.raw.find("\n" + series + " ");
    if (pos == std::string::npos) return -1.0;
    return std::stod(m.raw.substr(pos + series.size() + 2));
  };
  const double signins = value("auth_signins_total{method=\"otp\"}");
  const double sent = value("auth_otp_sent_total");
  const double refreshes = value("auth_token_refreshes_total{result=\"ok\"}");
  ASSERT_GE(signins, 0) << "auth_signins_total{method=\"otp\"} missing";
  ASSERT_GE(sent, 0);
  ASSERT_GE(refreshes, 0);
  Session s = NewUser();
  ASSERT_EQ(api_->Post("/v1/auth/refresh", json::object{{"refresh_token", s.refresh}}).status, 200);
  EXPECT_GE(value("auth_signins_total{method=\"otp\"}"), signins + 1);
  EXPECT_GE(value("auth_otp_sent_total"), sent + 1);
  EXPECT_GE(value("auth_token_refreshes_total{result=\"ok\"}"), refreshes + 1);
  ApiResponse m = api_->Get("/metrics");
  for (const char* name : {"auth_otp_verified_total", "auth_otp_failed_total",
                           "auth_lockouts_total", "outbox_events_published_total"}) {
    EXPECT_NE(m.raw.find(name), std::string::npos) << name;
  }
}

// Whether `needle` stands in `text` as a whole token: not inside a longer run of
// letters and digits. A 6-digit code also turns up, by chance, inside the random
// hex of request ids; that is not a leak.
bool ContainsToken(const std::string& text, const std::string& needle) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    const bool left = pos > 0 && alnum(text[pos - 1]);
    const bool right = pos + needle.size() < text.size() && alnum(text[pos + needle.size()]);
    if (!left && !right) return true;
  }
  return false;
}

TEST_F(AuthE2E, NoSecretOrOtpAppearsInTheLogs) {
  const std::string log_path = RequireEnv("TCHAT_TEST_AUTH_LOG");
  std::vector<std::string> secrets;
  const std::string phone = ThaiNumber().e164;
  const std::string code = RequestCode(phone);
  secrets.push_back(code);
  std::string wrong = code;
  wrong[5] = code[5] == '9' ? '0' : static_cast<char>(code[5] + 1);
  (void)api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", wrong}});
  ApiResponse v = api_->Post("/v1/auth/otp/verify", json::object{{"phone", phone}, {"code", code}});
  ASSERT_EQ(v.status, 200);
  const std::string access = Str(v.body, "access_token");
  secrets.push_back(access);
  secrets.push_back(Str(v.body, "refresh_token"));
  const std::string pw = "log canary password " + Digits(6);
  secrets.push_back(pw);
  const std::string pw_code = RequestCode(phone, "", "password");
  secrets.push_back(pw_code);
  ASSERT_EQ(
      api_->Put("/v1/auth/password", json::object{{"password", pw}, {"otp_code", pw_code}}, access)
          .status,
      204);
  (void)api_->Post("/v1/auth/login", json::object{{"phone", phone}, {"password", pw + "x"}});
  secrets.push_back(pw + "x");
  ApiResponse l = api_->Post("/v1/auth/login", json::object{{"phone", phone}, {"password", pw}});
  ASSERT_EQ(l.status, 200);
  secrets.push_back(Str(l.body, "refresh_token"));
  (void)api_->Post("/v1/auth/refresh",
                   json::object{{"refresh_token", Str(l.body, "refresh_token")}});
  (void)api_->Post("/v1/auth/refresh",
                   json::object{{"refresh_token", Str(l.body, "refresh_token")}});
  (void)api_->Get("/v1/users?phone=%2B" + phone.substr(1), access);
  std::this_thread::sleep_for(300ms);  // let the lines reach the file

  const std::string logs = ReadFile(log_path);
  ASSERT_NE(logs.find("otp requested"), std::string::npos)
      << "the log file shows no OTP request: is TCHAT_TEST_AUTH_LOG the service's log?";
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_FALSE(ContainsToken(logs, s)) << "logged secret starting " << s.substr(0, 3);
  }
  EXPECT_EQ(logs.find(phone), std::string::npos) << "a full phone number is in the logs";
  EXPECT_FALSE(ContainsToken(logs, phone.substr(1)));
}

}  // namespace
}  // namespace tchat::e2e
