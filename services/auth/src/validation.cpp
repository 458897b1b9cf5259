#include "validation.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <tchat/core/utf8.hpp>

namespace tchat::auth {

namespace {

constexpr std::array<std::string_view, 6> kLocales = {"en", "th", "id", "ms", "fil", "vi"};

// Names people could mistake for the platform speaking.
constexpr std::array<std::string_view, 14> kReserved = {
    "admin", "administrator", "root",  "system",    "support", "help", "security",
    "tchat", "official",      "staff", "moderator", "me",      "null", "undefined"};

bool IsControl(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
         // bidirectional overrides and isolates: they make names display reversed
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Status ValidatePassword(std::string_view password) {
  if (password.size() > kMaxPasswordChars * 4) {
    return Error::InvalidArgument("password must be at most 256 characters");
  }
  if (!ValidUtf8(password)) return Error::InvalidArgument("password must be valid UTF-8");
  const std::size_t n = CodePoints(password);
  if (n < kMinPasswordChars)
    return Error::InvalidArgument("password must be at least 12 characters");
  if (n > kMaxPasswordChars)
    return Error::InvalidArgument("password must be at most 256 characters");
  if (password.find('\0') != std::string_view::npos) {
    return Error::InvalidArgument("password must not contain NUL characters");
  }
  return Ok();
}

Status ValidateOtpCode(std::string_view code) {
  if (code.size() != 6 ||
      !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::InvalidArgument("code must be the 6 digits sent by SMS");
  }
  return Ok();
}

Status ValidateUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 32) {
    return Error::InvalidArgument("username must be 3 to 32 characters");
  }
  if (!std::isalpha(static_cast<unsigned char>(u.front())) ||
      static_cast<unsigned char>(u.front()) >= 0x80) {
    return Error::InvalidArgument("username must start with a letter");
  }
  for (char c : u) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x80 || !(std::isalnum(b) || c == '_')) {
      return Error::InvalidArgument("username may only contain letters a-z, digits and '_'");
    }
  }
  std::string lower(u);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end()) {
    return Error::InvalidArgument("username is reserved");
  }
  return Ok();
}

Result<std::string> ValidateDisplayName(std::string_view name) {
  std::string_view t = TrimAscii(name);
  std::size_t count = 0;
  for (std::size_t i = 0; i < t.size();) {
    char32_t cp = 0;
    const std::size_t n = Utf8Decode(t, i, cp);
    if (n == 0) return Error::InvalidArgument("display_name must be valid UTF-8");
    if (IsControl(cp))
      return Error::InvalidArgument("display_name must not contain control characters");
    i += n;
    ++count;
  }
  if (count == 0)
    return Error::InvalidArgument("display_name must not be empty (use null to clear it)");
  if (count > 64) return Error::InvalidArgument("display_name must be at most 64 characters");
  return std::string(t);
}

Status ValidateAvatarUrl(std::string_view url) {
  if (url.size() > 2048) return Error::InvalidArgument("avatar_url must be at most 2048 bytes");
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return Error::InvalidArgument("avatar_url must be an http(s) URL");
  }
  for (char c : url) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7F || c == '"' || c == '<' || c == '>' || c == '\\') {
      return Error::InvalidArgument("avatar_url contains characters not allowed in a URL");
    }
  }
  const auto end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Error::InvalidArgument("avatar_url must have a host (and no user info)");
  }
  return Ok();
}

bool IsSupportedLocale(std::string_view locale) {
  return std::find(kLocales.begin(), kLocales.end(), locale) != kLocales.end();
}

Status ValidateLocale(std::string_view locale) {
  if (!IsSupportedLocale(locale)) {
    return Error::InvalidArgument("locale must be one of en, th, id, ms, fil, vi");
  }
  return Ok();
}

std::string CleanDeviceText(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::string_view t = TrimAscii(text);
  std::size_t count = 0;
  for (std::size_t i = 0; i < t.size() && count < max_chars;) {
    char32_t cp = 0;
    const std::size_t n = Utf8Decode(t, i, cp);
    if (n == 0) {
      ++i;  // drop invalid bytes
      continue;
    }
    if (!IsControl(cp)) {
      out.append(t.substr(i, n));
      ++count;
    }
    i += n;
  }
  return out;
}

}  // namespace tchat::auth
