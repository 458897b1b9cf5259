#include "tokens.hpp"

#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/jwt/base64url.hpp>

namespace tchat::auth {

std::string NewRefreshToken() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string token =
      jwt::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
  return token;
}

std::string HashRefreshToken(std::string_view token) {
  return Sha256Hex(token);
}

bool LooksLikeRefreshToken(std::string_view token) {
  if (token.size() != 43) return false;
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

TokenIssuer::TokenIssuer(std::shared_ptr<const SigningKeys> keys, std::string issuer,
                         std::string audience, std::chrono::seconds ttl)
    : keys_(std::move(keys)),
      issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      ttl_(ttl) {}

std::string TokenIssuer::IssueAccessToken(std::string_view user_id, std::string_view session_id,
                                          std::chrono::system_clock::time_point now) const {
  const auto iat = std::chrono::time_point_cast<std::chrono::seconds>(now);
  jwt::Claims c;
  c.issuer = issuer_;
  c.audience = audience_;
  c.subject = std::string(user_id);
  c.session_id = std::string(session_id);
  c.issued_at = iat;
  c.expires_at = iat + ttl_;
  return keys_->signer().Sign(c);
}

}  // namespace tchat::auth
