#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tchat::payment {

// A new time-ordered UUID (version 7, tchat_events) whose timestamp is `unix_ms`,
// so that a record's id and its created_at agree. Thread-safe.
std::string NewUuidV7(std::int64_t unix_ms);

// The canonical lower-case form of a UUID given as 8-4-4-4-12 hex digits (either
// case), or nullopt when `text` is not one.
std::optional<std::string> NormalizeUuid(std::string_view text);

// `bytes` random bytes as lower-case hex (references, nonces). Thread-safe.
std::string RandomHex(std::size_t bytes);

}  // namespace tchat::payment
