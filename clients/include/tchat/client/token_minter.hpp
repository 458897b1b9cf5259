#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <tchat/core/result.hpp>

namespace tchat::jwt {
class Ed25519KeyPair;
class JwtSigner;
}  // namespace tchat::jwt

namespace tchat::client {

// Issues access tokens from a signing key file ({"keys":[{"kid","seed"}]}, as
// written by tchat-keygen; the first key signs) — for tests, the load generator and
// local tools only: in production tokens come from the auth service. Immutable;
// any thread may call Mint.
class TokenMinter {
 public:
  static Result<TokenMinter> FromKeyFile(const std::string& path);
  // A minter signing with `key` (e.g. a key a test generated for services it starts).
  static TokenMinter FromKeyPair(const jwt::Ed25519KeyPair& key);

  // An access token for `user_id` of `session_id` (a fresh one when empty).
  std::string Mint(const std::string& user_id, std::chrono::seconds ttl = std::chrono::minutes(15),
                   const std::string& session_id = {}) const;
  // The public JWKS of the signing key (what a service loads with JWKS_FILE).
  std::string Jwks() const;

 private:
  explicit TokenMinter(std::shared_ptr<const jwt::JwtSigner> signer) : signer_(std::move(signer)) {}
  std::shared_ptr<const jwt::JwtSigner> signer_;
};

}  // namespace tchat::client
