#pragma once

#include <cstdint>
#include <string>

namespace tchat::payment {

// Milliseconds since the Unix epoch, from the system clock.
std::int64_t NowUnixMs();

// RFC 3339 UTC with milliseconds, "2026-01-31T23:59:59.123Z" (SPEC §2). PostgreSQL
// reads the same text as a timestamptz, so it is also how times are sent to it.
std::string FormatTimestamp(std::int64_t unix_ms);

}  // namespace tchat::payment
