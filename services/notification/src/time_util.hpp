#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tchat::notification {

using SysTime = std::chrono::system_clock::time_point;

// "2026-11-26T22:27:46.123Z" (SPEC §2: RFC 3339 UTC with milliseconds).
std::string FormatRfc3339(SysTime t);

// RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" ('t'/'z'/' ' accepted
// for 'T'/'Z'). nullopt for anything else or an impossible date.
std::optional<SysTime> ParseRfc3339(std::string_view s);

// Milliseconds since the Unix epoch.
std::int64_t UnixMillis(SysTime t);
SysTime FromUnixMillis(std::int64_t ms);

}  // namespace tchat::notification
