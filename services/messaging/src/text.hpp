#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tchat::messaging {

// An absolute http(s) URL with a host and no whitespace or control characters, at
// most 2048 bytes: what image and file messages may point to.
bool IsHttpUrl(std::string_view url);

// A reaction: 1 to 8 code points of valid UTF-8 and at most 32 bytes, no ASCII
// control characters, whitespace or '/' (it travels as a path segment).
bool IsValidReaction(std::string_view emoji);

// An opaque client token (client_msg_id): 1 to 128 bytes of printable ASCII.
bool IsValidClientToken(std::string_view token);

}  // namespace tchat::messaging
