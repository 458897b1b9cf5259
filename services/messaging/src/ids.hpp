#pragma once

// Ids: new ones are UUIDv7 from tchat::events::NewUuidV7 (core/events/uuid.hpp).

#include <optional>
#include <string>
#include <string_view>

namespace tchat::messaging {

// The canonical lower-case form of a UUID in 8-4-4-4-12 hex form, or nullopt when
// `text` is not one. Any version is accepted: user ids come from the auth service.
std::optional<std::string> CanonicalUuid(std::string_view text);
inline bool IsUuid(std::string_view text) {
  return CanonicalUuid(text).has_value();
}

// A short random identifier (16 hex digits) for this process instance, used to tell
// replicas apart in Redis (presence, session ids).
std::string NewInstanceId();

}  // namespace tchat::messaging
