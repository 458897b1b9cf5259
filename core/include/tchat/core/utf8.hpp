#pragma once

#include <cstddef>
#include <string_view>

namespace tchat {

// Length of the UTF-8 sequence starting at s[i] (i < s.size()), or 0 when the
// bytes there are not one (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

// Strict UTF-8 (RFC 3629).
bool ValidUtf8(std::string_view s);

}  // namespace tchat
