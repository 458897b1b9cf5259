#include "uuid.hpp"

#include <chrono>

#include <sodium.h>

#include <tchat/core/events/uuid.hpp>

namespace tchat::payment {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void EnsureSodium() {
  // sodium_init is idempotent and thread-safe once it has succeeded.
  static const bool ok = sodium_init() >= 0;
  (void)ok;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NewUuidV7(std::int64_t unix_ms) {
  return events::NewUuidV7(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

std::optional<std::string> NormalizeUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (out[i] != '-') return std::nullopt;
      continue;
    }
    const int v = HexValue(out[i]);
    if (v < 0) return std::nullopt;
    out[i] = kHex[v];
  }
  return out;
}

std::string RandomHex(std::size_t bytes) {
  EnsureSodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0F]);
  }
  return out;
}

}  // namespace tchat::payment
