// Key files, the JWKS with two keys, and the shared verifier over auth's keys:
// what it accepts and every forgery it must refuse.
#include "signing_keys.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/key_set.hpp>
#include <tchat/core/jwt/token_verifier.hpp>

#include "tokens.hpp"

namespace tchat::auth {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr const char* kUser = "0190b4c2-7a1e-7c3d-9f0a-0123456789ab";
constexpr const char* kSession = "0190b4c2-7a1e-7c3d-9f0a-0123456789ac";

std::string B64(std::string_view s) {
  return jwt::Base64UrlEncode(s);
}

TEST(KeyFile, GenerateParseRotate) {
  const std::string text = NewKeyFileJson(std::nullopt);
  auto file = ParseKeyFile(text);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_FALSE(file->previous.has_value());
  EXPECT_EQ(file->active.kid().rfind("k-", 0), 0u);

  auto rotated = ParseKeyFile(NewKeyFileJson(file->active));
  ASSERT_TRUE(rotated.ok());
  ASSERT_TRUE(rotated->previous.has_value());
  EXPECT_EQ(rotated->previous->kid(), file->active.kid());
  EXPECT_EQ(rotated->previous->SeedBase64Url(), file->active.SeedBase64Url());
  EXPECT_NE(rotated->active.kid(), file->active.kid());
}

TEST(KeyFile, ReadsTheKeygenFormatAndTheActivePreviousForm) {
  auto a = jwt::Ed25519KeyPair::Generate("k-a");
  auto b = jwt::Ed25519KeyPair::Generate("k-b");
  auto c = jwt::Ed25519KeyPair::Generate("k-c");
  auto keygen = ParseKeyFile(R"({"keys":[{"kid":"k-a","seed":")" + a.SeedBase64Url() + R"("}]})");
  ASSERT_TRUE(keygen.ok()) << keygen.error().message;
  EXPECT_EQ(keygen->active.kid(), "k-a");
  EXPECT_EQ(keygen->active.Public(), a.Public());
  EXPECT_FALSE(keygen->previous.has_value());
  auto two = ParseKeyFile(R"({"keys":[{"kid":"k-a","seed":")" + a.SeedBase64Url() +
                          R"("},{"kid":"k-b","seed":")" + b.SeedBase64Url() + R"("}]})");
  ASSERT_TRUE(two.ok());
  ASSERT_TRUE(two->previous.has_value());
  EXPECT_EQ(two->previous->Public(), b.Public());
  auto three = ParseKeyFile(R"({"keys":[{"kid":"k-a","seed":")" + a.SeedBase64Url() +
                            R"("},{"kid":"k-b","seed":")" + b.SeedBase64Url() +
                            R"("},{"kid":"k-c","seed":")" + c.SeedBase64Url() + R"("}]})");
  EXPECT_FALSE(three.ok());
  auto named =
      ParseKeyFile(R"({"active":{"kid":"k-b","seed":")" + b.SeedBase64Url() +
                   R"("},"previous":{"kid":"k-a","seed":")" + a.SeedBase64Url() + R"("}})");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->active.kid(), "k-b");
  EXPECT_EQ(named->previous->kid(), "k-a");
}

TEST(KeyFile, BadFilesAreRefusedWithoutQuotingTheSeed) {
  EXPECT_FALSE(ParseKeyFile("").ok());
  EXPECT_FALSE(ParseKeyFile("[]").ok());
  EXPECT_FALSE(ParseKeyFile(R"({"previous":{}})").ok());
  EXPECT_FALSE(ParseKeyFile(R"({"active":{"kid":"","seed":"x"}})").ok());
  EXPECT_FALSE(ParseKeyFile(R"({"keys":[]})").ok());
  auto short_seed = ParseKeyFile(R"({"active":{"kid":"a","seed":"c2VjcmV0LXNlZWQ"}})");
  ASSERT_FALSE(short_seed.ok());
  EXPECT_EQ(short_seed.error().message.find("c2VjcmV0LXNlZWQ"), std::string::npos);
  auto k = jwt::Ed25519KeyPair::Generate("same");
  const std::string dup = R"({"active":{"kid":"same","seed":")" + k.SeedBase64Url() +
                          R"("},"previous":{"kid":"same","seed":")" + k.SeedBase64Url() + R"("}})";
  EXPECT_FALSE(ParseKeyFile(dup).ok());
  EXPECT_FALSE(LoadKeyFile("/nonexistent/key.json").ok());
}

TEST(SigningKeys, JwksPublishesActiveAndPreviousForRotation) {
  auto old_file = ParseKeyFile(NewKeyFileJson(std::nullopt));
  ASSERT_TRUE(old_file.ok());
  // Rotate: the new file keeps the old active key as previous.
  auto file = ParseKeyFile(NewKeyFileJson(old_file->active));
  ASSERT_TRUE(file.ok());
  const std::string old_kid = old_file->active.kid();
  SigningKeys keys(std::move(*file));
  auto set = jwt::KeySet::ParseJwks(keys.jwks());
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->keys()[0].kid, keys.signer().kid());
  EXPECT_EQ(set->keys()[1].kid, old_kid);
  // No private material in the JWKS.
  EXPECT_EQ(keys.jwks().find("\"d\""), std::string::npos);
  EXPECT_EQ(keys.jwks().find("seed"), std::string::npos);

  // A token signed by the previous key still verifies during the rotation.
  auto prev_only = std::make_shared<const SigningKeys>(KeyFile{old_file->active, std::nullopt});
  TokenIssuer old_issuer(prev_only, "tchat-auth", "tchat", 900s);
  jwt::TokenVerifier verifier(keys.key_source(), jwt::VerifierOptions{});
  EXPECT_TRUE(verifier.Verify(old_issuer.IssueAccessToken(kUser, kSession, Clock::now())).ok());
}

TEST(SigningKeys, DerivedSecretsAreStablePerKeyAndPurpose) {
  auto text = NewKeyFileJson(std::nullopt);
  SigningKeys a(std::move(*ParseKeyFile(text)));
  SigningKeys b(std::move(*ParseKeyFile(text)));
  SigningKeys c(std::move(*ParseKeyFile(NewKeyFileJson(std::nullopt))));
  EXPECT_EQ(a.DeriveSecret("otp"), b.DeriveSecret("otp"));
  EXPECT_NE(a.DeriveSecret("otp"), a.DeriveSecret("other"));
  EXPECT_NE(a.DeriveSecret("otp"), c.DeriveSecret("otp"));
  EXPECT_EQ(a.DeriveSecret("otp").size(), 32u);
}

class VerifierAttacks : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ =
        std::make_shared<const SigningKeys>(std::move(*ParseKeyFile(NewKeyFileJson(std::nullopt))));
    issuer_ = std::make_unique<TokenIssuer>(keys_, "tchat-auth", "tchat", 900s);
    verifier_ = std::make_unique<jwt::TokenVerifier>(keys_->key_source(), jwt::VerifierOptions{});
  }
  // A token with arbitrary header/payload and signature bytes.
  static std::string Forge(const std::string& header, const std::string& payload,
                           const std::string& sig) {
    return B64(header) + "." + B64(payload) + "." + B64(sig);
  }
  std::string Payload(Clock::time_point now, const char* aud = "tchat") const {
    const auto iat =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    return std::string(R"({"iss":"tchat-auth","aud":")") + aud + R"(","sub":")" + kUser +
           R"(","sid":")" + kSession + R"(","iat":)" + std::to_string(iat) + R"(,"exp":)" +
           std::to_string(iat + 900) + "}";
  }

  std::shared_ptr<const SigningKeys> keys_;
  std::unique_ptr<TokenIssuer> issuer_;
  std::unique_ptr<jwt::TokenVerifier> verifier_;
};

TEST_F(VerifierAttacks, OwnTokenVerifiesWithSpecClaims) {
  const auto now = Clock::now();
  const std::string t = issuer_->IssueAccessToken(kUser, kSession, now);
  auto p = verifier_->Verify(t);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, kUser);
  EXPECT_EQ(p->session_id, kSession);
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(p->expires_at - now).count();
  EXPECT_GE(exp, 899);
  EXPECT_LE(exp, 900);
  // Header names the key.
  const auto header = jwt::Base64UrlDecode(t.substr(0, t.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_NE(header->find("\"kid\":\"" + keys_->signer().kid() + "\""), std::string::npos);
  EXPECT_NE(header->find("\"alg\":\"EdDSA\""), std::string::npos);
}

TEST_F(VerifierAttacks, TokenSignedByAnotherKeyIsRejected) {
  // Same kid, different key: a stolen kid does not help.
  auto other = std::make_shared<const SigningKeys>(
      KeyFile{jwt::Ed25519KeyPair::Generate(keys_->signer().kid()), std::nullopt});
  TokenIssuer forger(other, "tchat-auth", "tchat", 900s);
  auto r = verifier_->Verify(forger.IssueAccessToken(kUser, kSession, Clock::now()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  // And an unknown kid.
  auto stranger = std::make_shared<const SigningKeys>(
      KeyFile{jwt::Ed25519KeyPair::Generate("k-unknown"), std::nullopt});
  TokenIssuer forger2(stranger, "tchat-auth", "tchat", 900s);
  EXPECT_FALSE(verifier_->Verify(forger2.IssueAccessToken(kUser, kSession, Clock::now())).ok());
}

TEST_F(VerifierAttacks, AlgNoneIsRejected) {
  const std::string h = R"({"alg":"none","typ":"JWT","kid":")" + keys_->signer().kid() + "\"}";
  EXPECT_FALSE(verifier_->Verify(Forge(h, Payload(Clock::now()), "")).ok());
  EXPECT_FALSE(verifier_->Verify(B64(h) + "." + B64(Payload(Clock::now())) + ".").ok());
  const std::string h2 = R"({"alg":"None","kid":")" + keys_->signer().kid() + "\"}";
  EXPECT_FALSE(verifier_->Verify(Forge(h2, Payload(Clock::now()), "")).ok());
}

TEST_F(VerifierAttacks, Hs256WithThePublicKeyAsSecretIsRejected) {
  const auto pub = keys_->public_keys().front();
  const std::string h = R"({"alg":"HS256","typ":"JWT","kid":")" + pub.kid + "\"}";
  const std::string signing_input = B64(h) + "." + B64(Payload(Clock::now()));
  // Try both secrets an alg-confusion attack would use: raw key bytes and the
  // JWKS "x" text.
  for (const std::string& secret :
       {std::string(reinterpret_cast<const char*>(pub.key.data()), pub.key.size()),
        B64(std::string_view(reinterpret_cast<const char*>(pub.key.data()), pub.key.size()))}) {
    const std::string token = signing_input + "." + B64(HmacSha256(secret, signing_input));
    auto r = verifier_->Verify(token);
    EXPECT_FALSE(r.ok());
  }
}

TEST_F(VerifierAttacks, ExpiredTokenIsRejected) {
  const auto long_ago = Clock::now() - 2h;
  const std::string t = issuer_->IssueAccessToken(kUser, kSession, long_ago);
  auto r = verifier_->Verify(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  // Fine just before its 15 minutes end, refused after (plus the 30 s leeway).
  const auto issued = Clock::now();
  const std::string fresh = issuer_->IssueAccessToken(kUser, kSession, issued);
  EXPECT_TRUE(verifier_->Verify(fresh, issued + 14min).ok());
  EXPECT_FALSE(verifier_->Verify(fresh, issued + 16min).ok());
}

TEST_F(VerifierAttacks, WrongAudienceOrIssuerIsRejected) {
  TokenIssuer wrong_aud(keys_, "tchat-auth", "someone-else", 900s);
  EXPECT_FALSE(verifier_->Verify(wrong_aud.IssueAccessToken(kUser, kSession, Clock::now())).ok());
  TokenIssuer wrong_iss(keys_, "evil-issuer", "tchat", 900s);
  EXPECT_FALSE(verifier_->Verify(wrong_iss.IssueAccessToken(kUser, kSession, Clock::now())).ok());
}

TEST_F(VerifierAttacks, TamperedClaimsAreRejected) {
  const std::string t = issuer_->IssueAccessToken(kUser, kSession, Clock::now());
  const auto dot1 = t.find('.'), dot2 = t.rfind('.');
  std::string payload = *jwt::Base64UrlDecode(t.substr(dot1 + 1, dot2 - dot1 - 1));
  payload.replace(payload.find(kUser), 36, "0190b4c2-7a1e-7c3d-9f0a-999999999999");
  const std::string forged = t.substr(0, dot1) + "." + B64(payload) + t.substr(dot2);
  EXPECT_FALSE(verifier_->Verify(forged).ok());
  EXPECT_FALSE(verifier_->Verify("").ok());
  EXPECT_FALSE(verifier_->Verify("a.b.c").ok());
  EXPECT_FALSE(verifier_->Verify(t + "x").ok());
}

}  // namespace
}  // namespace tchat::auth
