#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/utf8.hpp>

namespace tchat::messaging {

using tchat::ValidUtf8;  // strict UTF-8 (RFC 3629)

// The number of code points in valid UTF-8 (what the SPEC calls characters).
std::size_t CodePoints(std::string_view s);

// The longest prefix of valid UTF-8 `s` with at most `max_code_points` code points.
std::string_view TruncateCodePoints(std::string_view s, std::size_t max_code_points);

// An absolute http(s) URL with a host and no whitespace or control characters, at
// most 2048 bytes: what image and file messages may point to.
bool IsHttpUrl(std::string_view url);

// A reaction: 1 to 8 code points of valid UTF-8 and at most 32 bytes, no ASCII
// control characters, whitespace or '/' (it travels as a path segment).
bool IsValidReaction(std::string_view emoji);

// An opaque client token (client_msg_id): 1 to 128 bytes of printable ASCII.
bool IsValidClientToken(std::string_view token);

}  // namespace tchat::messaging
