#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/result.hpp>

// Input rules of the auth API. Each returns kInvalidArgument with a message that
// names the field and the rule, and never echoes a secret.
namespace tchat::auth {

inline constexpr std::size_t kMinPasswordChars = 12;
inline constexpr std::size_t kMaxPasswordChars = 256;

// 12..256 characters; anything else allowed (no composition rules, NIST 800-63B).
Status ValidatePassword(std::string_view password);

// Exactly six ASCII digits.
Status ValidateOtpCode(std::string_view code);

// 3..32 characters: ASCII letters, digits and '_', starting with a letter; not a
// reserved name. Uniqueness (case-insensitive) is the database's job.
Status ValidateUsername(std::string_view username);

// 1..64 characters after trimming, no control characters. Returns the trimmed name.
Result<std::string> ValidateDisplayName(std::string_view name);

// An absolute http(s) URL with a host, at most 2048 bytes, no spaces or controls.
Status ValidateAvatarUrl(std::string_view url);

// One of en, th, id, ms, fil, vi.
bool IsSupportedLocale(std::string_view locale);
Status ValidateLocale(std::string_view locale);

// Free-text device fields (device_name, platform): trimmed, controls removed,
// cut to `max_chars` characters. Empty stays empty.
std::string CleanDeviceText(std::string_view text, std::size_t max_chars);

}  // namespace tchat::auth
