#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Wall-clock time as the services exchange it: Unix milliseconds inside, RFC 3339
// UTC with milliseconds ("2026-01-31T12:34:56.789Z", docs/api/openapi.yaml) on the
// wire and in PostgreSQL parameters. Every function is pure or reads the system
// clock only; all are thread-safe.
namespace tchat {

using SysTime = std::chrono::system_clock::time_point;

// Milliseconds / whole seconds since the Unix epoch (truncated toward zero).
std::int64_t UnixMillis(SysTime t);
std::int64_t UnixSeconds(SysTime t);
SysTime FromUnixMillis(std::int64_t unix_ms);
// UnixMillis of the system clock's now.
std::int64_t NowUnixMs();

// "2026-01-31T12:34:56.789Z": always 24 bytes, UTC, milliseconds, 'Z'. Times
// before year 0000 or after 9999 are clamped to those years.
std::string FormatRfc3339Ms(std::int64_t unix_ms);
// The same for a time point (floored to the millisecond).
std::string FormatRfc3339Ms(SysTime t);
// Appends the same 24 bytes to `out` without allocating beyond `out`'s growth:
// for hand-written JSON on hot paths. One thread formats the date and time of
// day once per second and reuses it for the following calls in that second.
void AppendRfc3339Ms(std::string& out, std::int64_t unix_ms);

// RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" ('t', 'z' and ' '
// accepted for 'T' and 'Z'; fractions beyond nanoseconds ignored). nullopt for
// anything else or an impossible date.
std::optional<SysTime> ParseRfc3339(std::string_view text);

}  // namespace tchat
