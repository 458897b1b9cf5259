#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/result.hpp>

namespace tchat::jwt {

// Who a verified access token speaks for.
struct Principal {
  std::string user_id{};                               // sub
  std::string session_id{};                            // sid
  std::chrono::system_clock::time_point expires_at{};  // exp
  bool operator==(const Principal&) const = default;
};

struct VerifierOptions {
  std::string issuer = "tchat-auth";  // required iss
  std::string audience = "tchat";     // required in aud (string or array)
  // Clock skew tolerated on exp, iat and nbf.
  std::chrono::seconds leeway{30};
  // Verified tokens remembered (0 disables the cache).
  std::size_t cache_capacity = 100'000;
  // Longer tokens are rejected before any parsing.
  std::size_t max_token_bytes = 8 * 1024;
};

// Verifies EdDSA access tokens against a KeySource. Shared by all worker threads:
// Verify is thread-safe and never blocks on I/O.
//
// Checks: three base64url parts; header alg exactly "EdDSA" (no "none", no HMAC:
// alg confusion is impossible), no "crit", a kid present in the current key set,
// the Ed25519 signature, iss, aud, exp (with leeway), iat and nbf not in the
// future, sub and sid present. Every failure is kUnauthenticated with a short
// reason that never contains the token.
//
// Verified tokens are cached by a keyed 128-bit hash of the token (sharded, one
// mutex per shard, bounded) until they expire, so a repeated token costs one
// hash and a lookup. A key rotation (KeySource::Generation change) makes every
// cached token verify against the new set once before it is trusted again.
// Failures are never cached.
class TokenVerifier {
 public:
  TokenVerifier(std::shared_ptr<KeySource> keys, VerifierOptions options);
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  Result<Principal> Verify(std::string_view token, std::chrono::system_clock::time_point now) const;
  Result<Principal> Verify(std::string_view token) const {
    return Verify(token, std::chrono::system_clock::now());
  }

  // Cached tokens right now (tests).
  std::size_t CachedTokens() const;

 private:
  class Cache;
  std::shared_ptr<KeySource> keys_;
  VerifierOptions options_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace tchat::jwt
