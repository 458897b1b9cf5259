#include "ids.hpp"

#include <cstdint>
#include <random>

#include <tchat/core/events/uuid.hpp>

namespace tchat::messaging {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::optional<std::string> CanonicalUuid(std::string_view text) {
  if (!events::IsUuid(text)) return std::nullopt;
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NewInstanceId() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = kHex[(v >> (i * 4)) & 0xF];
  return out;
}

}  // namespace tchat::messaging
