#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace tchat::payment {

// SHA-256 of `data` as lower-case hex.
std::string Sha256Hex(std::string_view data);

// SHA-256 over the parts, each framed by its length, so that no two different
// lists hash alike ("ab","c" vs "a","bc"). Used as the request fingerprint of an
// Idempotency-Key.
std::string FingerprintHex(std::initializer_list<std::string_view> parts);

// HMAC-SHA256(key, data) as lower-case hex.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Compares two secrets in time independent of where they differ (both are hashed
// first, so their lengths leak nothing either).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tchat::payment
