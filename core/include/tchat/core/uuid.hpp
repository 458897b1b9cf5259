#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Identifiers: RFC 9562 UUIDs in canonical text form (8-4-4-4-12 lower-case hex)
// and random hex tokens. Randomness comes from libsodium's CSPRNG through a
// per-thread buffer; every function is thread-safe (per-thread state, no locks).
namespace tchat {

// A new version 7 UUID ("0190b4c2-7a1e-7c3d-9f0a-..."): 48 bits of Unix
// milliseconds, then a 12-bit counter and 62 random bits. Ids made by one thread
// are strictly increasing, even within one millisecond or when the clock steps
// back (a later id may then carry a slightly later time than `now`); ids of
// different threads and processes are ordered by millisecond only.
std::string NewUuidV7();
// The same with an explicit clock reading.
std::string NewUuidV7(std::chrono::system_clock::time_point now);
// A version 7 UUID carrying exactly the millisecond of `t`, random below it, so
// that ids sort by when something happened rather than when it was processed.
// Not monotonic: two ids of the same millisecond are in random order.
std::string NewUuidV7At(std::chrono::system_clock::time_point t);

// True for the 8-4-4-4-12 hexadecimal form (either case), any version. Use it to
// validate ids from clients before they reach a `uuid` column, so that a
// malformed id is a 400/404 rather than a database error.
bool IsUuid(std::string_view text);
// `text` in canonical lower-case form, or nullopt when it is not a UUID (any
// version: user ids come from the auth service).
std::optional<std::string> CanonicalUuid(std::string_view text);

// The Unix-millisecond timestamp of a version 7 UUID; -1 if `id` is not one.
std::int64_t UuidV7Millis(std::string_view id);

// `bytes` random bytes as lower-case hex (2 × bytes characters): references,
// nonces, instance ids.
std::string RandomHex(std::size_t bytes);

}  // namespace tchat
