#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <pthread.h>
#include <sodium.h>

#include <tchat/core/sodium.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat {

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

// Random bytes from a per-thread buffer refilled from the system CSPRNG: one
// getrandom call per 32 ids instead of two per id. A forked child discards what
// its parent had buffered (the generation changes in the child).
std::atomic<std::uint64_t> fork_generation{0};

class RandomPool {
 public:
  void Fill(std::uint8_t* out, std::size_t n) {
    const std::uint64_t gen = fork_generation.load(std::memory_order_relaxed);
    if (gen != generation_) {
      generation_ = gen;
      used_ = buf_.size();
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (used_ == buf_.size()) {
        randombytes_buf(buf_.data(), buf_.size());
        used_ = 0;
      }
      out[i] = buf_[used_];
      buf_[used_++] = 0;  // what was handed out does not stay in memory
    }
  }

 private:
  std::array<std::uint8_t, 320> buf_{};
  std::size_t used_ = 320;
  std::uint64_t generation_ = 0;
};

RandomPool& ThreadRandom() {
  static const bool registered = [] {
    // randombytes works without sodium_init but picks its implementation
    // lazily: make that happen once, up front.
    EnsureSodium();
    ::pthread_atfork(nullptr, nullptr,
                     [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  thread_local RandomPool pool;
  return pool;
}

using Bytes = std::array<std::uint8_t, 16>;

// The canonical text of a UUID whose version is set; sets the RFC 9562 variant.
std::string Format(Bytes& b) {
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0F];
  }
  return out;
}

// Uniform in [0, 2^bits), bits <= 16.
std::uint32_t RandomBits(std::uint32_t bits) {
  std::array<std::uint8_t, 2> b{};
  ThreadRandom().Fill(b.data(), b.size());
  return ((std::uint32_t{b[0]} << 8) | b[1]) & ((1u << bits) - 1);
}

}  // namespace

std::string NewUuidV7() {
  return NewUuidV7(std::chrono::system_clock::now());
}

std::string NewUuidV7(std::chrono::system_clock::time_point now) {
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

  Bytes b{};
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ts >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((state.counter >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(state.counter & 0xFF);
  ThreadRandom().Fill(b.data() + 8, 8);
  return Format(b);
}

std::string NewUuidV7At(std::chrono::system_clock::time_point t) {
  const auto ts = static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count()));
  Bytes b{};
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ts >> (40 - 8 * i));
  ThreadRandom().Fill(b.data() + 6, 10);
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0F));
  return Format(b);
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

std::optional<std::string> CanonicalUuid(std::string_view text) {
  if (!IsUuid(text)) return std::nullopt;
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
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

std::string RandomHex(std::size_t bytes) {
  std::string out(bytes * 2, '\0');
  std::uint8_t chunk[32];
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t n = std::min(sizeof chunk, bytes - done);
    ThreadRandom().Fill(chunk, n);
    for (std::size_t i = 0; i < n; ++i, ++done) {
      out[2 * done] = kHex[chunk[i] >> 4];
      out[2 * done + 1] = kHex[chunk[i] & 0x0F];
    }
  }
  sodium_memzero(chunk, sizeof chunk);
  return out;
}

}  // namespace tchat
