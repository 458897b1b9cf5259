#pragma once

#include <string>
#include <string_view>

// Digests and secret comparison (libsodium). Pure functions; thread-safe.
namespace tchat {

// SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// HMAC-SHA256(key, data): the 32 raw bytes, and as 64 lower-case hex digits.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Compares two secrets in time independent of where they differ (both are
// hashed first, so their lengths leak nothing either). An empty `b` matches
// only an empty `a`: callers check that a secret is configured.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tchat
