#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace tchat::events {

// A new RFC 9562 version 7 UUID in canonical form ("0190b4c2-7a1e-7c3d-9f0a-...",
// lower-case hex with hyphens): 48 bits of Unix milliseconds, then a 12-bit
// counter and 62 random bits from libsodium's CSPRNG. Ids made by one thread are
// strictly increasing, even within one millisecond or when the clock steps back;
// ids of different threads and processes are ordered by millisecond only.
// Thread-safe (per-thread state, no locks).
std::string NewUuidV7();
// The same with an explicit clock reading (tests).
std::string NewUuidV7(std::chrono::system_clock::time_point now);

// True for the canonical 8-4-4-4-12 hexadecimal form (either case), any version.
// Use it to validate ids from clients before they reach a `uuid` column, so that
// a malformed id is a 400/404 rather than a database error.
bool IsUuid(std::string_view text);

// The Unix-millisecond timestamp of a version 7 UUID; -1 if `id` is not one.
std::int64_t UuidV7Millis(std::string_view id);

}  // namespace tchat::events
