#pragma once

#include <string_view>

namespace tchat::auth {

// Prefix of every Redis key auth owns (OTP codes and cooldowns, sign-in
// lock-outs, rate-limit windows).
inline constexpr std::string_view kKeyPrefix = "tchat:auth:";

}  // namespace tchat::auth
