#pragma once

#include <string_view>

namespace tchat::auth {

// Prefix of every Redis key auth owns (OTP codes and cooldowns, sign-in
// lock-outs, rate-limit windows).
inline constexpr std::string_view kKeyPrefix = "tchat:auth:";

// The keys one Lua script touches must share a hash slot on a Redis Cluster, and
// the OTP scripts mix per-address and per-number keys (as do the sign-in guard's),
// so each family carries one fixed hash tag: all OTP state lives in the slot of
// "otp", all sign-in guard state in the slot of "guard" (each family on one shard;
// docs/RUNBOOK.md, Redis Cluster).
inline constexpr std::string_view kOtpKeyPrefix = "tchat:auth:{otp}:";
inline constexpr std::string_view kGuardKeyPrefix = "tchat:auth:{guard}:";

}  // namespace tchat::auth
