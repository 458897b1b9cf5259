#include "request_id.hpp"

#include <cstdint>
#include <random>

namespace tchat::http {

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// From a per-thread splitmix64 sequence seeded from the OS: request ids only need
// to be unique, and this costs two multiplications per 64 bits instead of a
// Mersenne Twister step.
void NewRequestId(std::string& out) {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  auto next = [] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = next();
    for (int i = 0; i < 16; ++i, v >>= 4)
      out[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xF];
  }
}

std::string NewRequestId() {
  std::string id;
  NewRequestId(id);
  return id;
}

}  // namespace tchat::http
