#include "uuid.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <random>

namespace tchat::notification {

std::string NewUuidV7At(std::chrono::system_clock::time_point t) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  const std::uint64_t r1 = rng();
  const std::uint64_t r2 = rng();
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>(0x70 | (r1 & 0x0F));
  b[7] = static_cast<std::uint8_t>(r1 >> 8);
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(r2 >> (8 * i));
  }
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

}  // namespace tchat::notification
