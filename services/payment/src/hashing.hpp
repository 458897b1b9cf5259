#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace tchat::payment {

// SHA-256 over the parts, each framed by its length, so that no two different
// lists hash alike ("ab","c" vs "a","bc"). Used as the request fingerprint of an
// Idempotency-Key.
std::string FingerprintHex(std::initializer_list<std::string_view> parts);

}  // namespace tchat::payment
