#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "signing_keys.hpp"

namespace tchat::auth {

// A new opaque refresh token: 32 random bytes in base64url (43 characters).
std::string NewRefreshToken();
// What the database keeps of a refresh token: SHA-256, as 64 lower-case hex
// digits (the SQL decodes it into bytea).
std::string HashRefreshToken(std::string_view token);
// A refresh token's plausible shape (43 base64url characters), checked before
// any database work.
bool LooksLikeRefreshToken(std::string_view token);

// Issues access tokens (docs/api/openapi.yaml, auth claims: iss, aud, sub, sid, iat, exp; header
// kid). Immutable; any thread.
class TokenIssuer {
 public:
  TokenIssuer(std::shared_ptr<const SigningKeys> keys, std::string issuer, std::string audience,
              std::chrono::seconds ttl);

  std::string IssueAccessToken(std::string_view user_id, std::string_view session_id,
                               std::chrono::system_clock::time_point now) const;
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  std::shared_ptr<const SigningKeys> keys_;
  std::string issuer_;
  std::string audience_;
  std::chrono::seconds ttl_;
};

}  // namespace tchat::auth
