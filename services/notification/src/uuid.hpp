#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace tchat::notification {

// A new UUIDv7 (RFC 9562: 48-bit Unix milliseconds, then random bits) in the
// canonical lower-case 8-4-4-4-12 form. Time-ordered: the ids one thread makes
// sort in creation order (a counter orders those of the same millisecond).
// Thread-safe (thread-local state, seeded from the OS).
// (core's tchat_events module will provide one too; this one keeps the service
// independent of it until then.)
std::string NewUuidV7();
// A UUIDv7 carrying the given time (random below the millisecond), so that ids
// sort by when something happened rather than when it was processed.
std::string NewUuidV7At(std::chrono::system_clock::time_point t);

// True for the canonical textual form (hex digits, dashes at 8-13-18-23, any
// case). PostgreSQL's uuid type accepts more spellings; the service only takes
// this one so that its input never reaches the database malformed.
bool IsUuid(std::string_view s);

}  // namespace tchat::notification
