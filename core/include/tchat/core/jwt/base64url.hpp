#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tchat::jwt {

// RFC 4648 §5 base64url without padding, as JOSE uses it.
std::string Base64UrlEncode(std::string_view bytes);

// Strict decoding: only the url-safe alphabet, no padding, no whitespace, and the
// unused trailing bits must be zero (so every input has one canonical form).
// nullopt on any violation.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace tchat::jwt
