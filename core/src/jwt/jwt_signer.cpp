#include <algorithm>

#include <sodium.h>

#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/sodium.hpp>
#include <tchat/core/time.hpp>

namespace tchat::jwt {

namespace {

std::string_view AsChars(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace

Ed25519KeyPair Ed25519KeyPair::Generate(std::string kid) {
  EnsureSodium();
  Ed25519KeyPair kp;
  kp.kid_ = std::move(kid);
  Ed25519PublicKey pk;
  crypto_sign_keypair(pk.data(), kp.secret_.data());
  return kp;
}

Result<Ed25519KeyPair> Ed25519KeyPair::FromSeed(std::string kid, std::string_view seed_base64url) {
  EnsureSodium();
  auto seed = Base64UrlDecode(seed_base64url);
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
    return Error::InvalidArgument("Ed25519 seed must be 32 bytes in base64url");
  }
  Ed25519KeyPair kp;
  kp.kid_ = std::move(kid);
  Ed25519PublicKey pk;
  crypto_sign_seed_keypair(pk.data(), kp.secret_.data(),
                           reinterpret_cast<const unsigned char*>(seed->data()));
  sodium_memzero(seed->data(), seed->size());
  return kp;
}

Ed25519KeyPair::~Ed25519KeyPair() {
  sodium_memzero(secret_.data(), secret_.size());
}

PublicJwk Ed25519KeyPair::Public() const {
  PublicJwk jwk{kid_, {}};
  crypto_sign_ed25519_sk_to_pk(jwk.key.data(), secret_.data());
  return jwk;
}

std::string Ed25519KeyPair::SeedBase64Url() const {
  return Base64UrlEncode(AsChars(secret_.data(), crypto_sign_SEEDBYTES));
}

JwtSigner::JwtSigner(Ed25519KeyPair key) : key_(std::move(key)) {
  EnsureSodium();
}

std::string JwtSigner::Sign(const Claims& c) const {
  json::object header{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key_.kid()}};
  json::object payload{{"iss", c.issuer},
                       {"aud", c.audience},
                       {"sub", c.subject},
                       {"sid", c.session_id},
                       {"iat", UnixSeconds(c.issued_at)},
                       {"exp", UnixSeconds(c.expires_at)}};
  std::string token = Base64UrlEncode(json::serialize(header));
  token += '.';
  token += Base64UrlEncode(json::serialize(payload));
  std::array<std::uint8_t, crypto_sign_BYTES> sig;
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(token.data()),
                       token.size(), key_.secret().data());
  token += '.';
  token += Base64UrlEncode(AsChars(sig.data(), sig.size()));
  return token;
}

json::object ToJwk(const PublicJwk& key) {
  return {{"kty", "OKP"},
          {"crv", "Ed25519"},
          {"x", Base64UrlEncode(AsChars(key.key.data(), key.key.size()))},
          {"kid", key.kid},
          {"alg", "EdDSA"},
          {"use", "sig"}};
}

std::string BuildJwks(const std::vector<PublicJwk>& keys) {
  json::array arr;
  for (const auto& k : keys) arr.emplace_back(ToJwk(k));
  return json::serialize(json::object{{"keys", std::move(arr)}});
}

}  // namespace tchat::jwt
