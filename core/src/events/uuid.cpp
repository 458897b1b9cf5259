#include <array>
#include <cstdint>

#include <sodium.h>

#include <tchat/core/events/uuid.hpp>

namespace tchat::events {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Per-thread monotonic state: the last timestamp used and the 12-bit counter
// that orders ids within that millisecond.
struct V7State {
  std::int64_t last_ms = -1;
  std::uint32_t counter = 0;
};

std::uint32_t RandomBits(std::uint32_t bits) {
  return randombytes_uniform(1u << bits);
}

}  // namespace

std::string NewUuidV7() {
  return NewUuidV7(std::chrono::system_clock::now());
}

std::string NewUuidV7(std::chrono::system_clock::time_point now) {
  // sodium_init is idempotent and thread-safe; randombytes works without it but
  // picks its implementation lazily, so make that happen once up front.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  thread_local V7State state;

  std::int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (ms < 0) ms = 0;
  if (ms > state.last_ms) {
    state.last_ms = ms;
    // Start low in the counter space so that many ids fit in one millisecond.
    state.counter = RandomBits(9);
  } else if (++state.counter > 0xFFF) {
    // Counter exhausted (or the clock went back): borrow the next millisecond.
    ++state.last_ms;
    state.counter = RandomBits(9);
  }
  const auto ts = static_cast<std::uint64_t>(state.last_ms);

  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ts >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((state.counter >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(state.counter & 0xFF);
  randombytes_buf(b.data() + 8, 8);
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant

  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0F];
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::int64_t UuidV7Millis(std::string_view id) {
  if (!IsUuid(id) || id[14] != '7') return -1;
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    ms = (ms << 4) | HexValue(id[i]);
  }
  return ms;
}

}  // namespace tchat::events
