#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

namespace tchat::jwt {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;

// The access-token claims of docs/api/openapi.yaml, auth.
struct Claims {
  std::string issuer{};                                // iss
  std::string audience{};                              // aud
  std::string subject{};                               // sub: user id
  std::string session_id{};                            // sid
  std::chrono::system_clock::time_point issued_at{};   // iat (whole seconds)
  std::chrono::system_clock::time_point expires_at{};  // exp (whole seconds)
};

// One verification key as published in a JWKS.
struct PublicJwk {
  std::string kid;
  Ed25519PublicKey key{};
  bool operator==(const PublicJwk&) const = default;
};

// An Ed25519 signing key and its key id. The secret is wiped on destruction.
class Ed25519KeyPair {
 public:
  // A fresh random key pair.
  static Ed25519KeyPair Generate(std::string kid);
  // Derives the pair from a 32-byte seed given in base64url (how the auth service
  // keeps its keys in secrets). kInvalidArgument if the seed is malformed.
  static Result<Ed25519KeyPair> FromSeed(std::string kid, std::string_view seed_base64url);

  Ed25519KeyPair(const Ed25519KeyPair&) = default;
  Ed25519KeyPair& operator=(const Ed25519KeyPair&) = default;
  ~Ed25519KeyPair();

  const std::string& kid() const { return kid_; }
  PublicJwk Public() const;
  // The 32-byte seed in base64url (for writing a secret); handle with care.
  std::string SeedBase64Url() const;
  const std::array<std::uint8_t, 64>& secret() const { return secret_; }

 private:
  Ed25519KeyPair() = default;
  std::string kid_;
  std::array<std::uint8_t, 64> secret_{};  // libsodium layout: seed || public key
};

// Issues EdDSA (Ed25519) JWTs with header {"alg":"EdDSA","typ":"JWT","kid":...}.
// Immutable after construction; any thread may call Sign.
class JwtSigner {
 public:
  explicit JwtSigner(Ed25519KeyPair key);

  std::string Sign(const Claims& claims) const;
  const std::string& kid() const { return key_.kid(); }
  PublicJwk Public() const { return key_.Public(); }

 private:
  Ed25519KeyPair key_;
};

// {"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}
json::object ToJwk(const PublicJwk& key);
// {"keys":[...]} — publish the current key and the previous one during rotation.
std::string BuildJwks(const std::vector<PublicJwk>& keys);

}  // namespace tchat::jwt
