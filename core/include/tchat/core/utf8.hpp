#pragma once

#include <cstddef>
#include <string_view>

namespace tchat {

// Length of the UTF-8 sequence starting at s[i] (i < s.size()), or 0 when the
// bytes there are not one (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

// The same, decoding the code point into `cp` when the sequence is valid.
std::size_t Utf8Decode(std::string_view s, std::size_t i, char32_t& cp);

// Strict UTF-8 (RFC 3629).
bool ValidUtf8(std::string_view s);

// The number of code points in valid UTF-8 `s` (what the API calls characters).
std::size_t CodePoints(std::string_view s);

}  // namespace tchat
