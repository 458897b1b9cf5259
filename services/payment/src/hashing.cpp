#include "hashing.hpp"

#include <array>
#include <cstdint>

#include <sodium.h>

namespace tchat::payment {
namespace {

using Digest = std::array<unsigned char, crypto_hash_sha256_BYTES>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string Hex(const unsigned char* p, std::size_t n) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0x0F]);
  }
  return out;
}

Digest Sha256(std::string_view data) {
  Digest d{};
  crypto_hash_sha256(d.data(), Bytes(data), data.size());
  return d;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  const Digest d = Sha256(data);
  return Hex(d.data(), d.size());
}

std::string FingerprintHex(std::initializer_list<std::string_view> parts) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  for (std::string_view p : parts) {
    const std::string len = std::to_string(p.size()) + ":";
    crypto_hash_sha256_update(&st, Bytes(len), len.size());
    crypto_hash_sha256_update(&st, Bytes(p), p.size());
  }
  Digest d{};
  crypto_hash_sha256_final(&st, d.data());
  return Hex(d.data(), d.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, Bytes(key), key.size());
  crypto_auth_hmacsha256_update(&st, Bytes(data), data.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&st, mac.data());
  return Hex(mac.data(), mac.size());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const Digest da = Sha256(a);
  const Digest db = Sha256(b);
  return sodium_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace tchat::payment
