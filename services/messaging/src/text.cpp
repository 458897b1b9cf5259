#include "text.hpp"

#include <tchat/core/utf8.hpp>

namespace tchat::messaging {

bool IsHttpUrl(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  for (char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\') return false;
  }
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) return false;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '%' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsValidReaction(std::string_view emoji) {
  if (emoji.empty() || emoji.size() > 32 || !ValidUtf8(emoji)) return false;
  for (char ch : emoji) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || c == '/') return false;
  }
  return CodePoints(emoji) <= 8;
}

bool IsValidClientToken(std::string_view token) {
  if (token.empty() || token.size() > 128) return false;
  for (char ch : token) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace tchat::messaging
