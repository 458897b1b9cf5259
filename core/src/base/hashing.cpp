#include <array>

#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/sodium.hpp>

namespace tchat {

namespace {

using Digest = std::array<unsigned char, crypto_hash_sha256_BYTES>;
static_assert(crypto_auth_hmacsha256_BYTES == crypto_hash_sha256_BYTES);

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string Hex(const Digest& d) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(d.size() * 2, '\0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0x0F];
  }
  return out;
}

Digest Sha256(std::string_view data) {
  EnsureSodium();
  Digest d{};
  crypto_hash_sha256(d.data(), Bytes(data), data.size());
  return d;
}

Digest Hmac(std::string_view key, std::string_view data) {
  EnsureSodium();
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, Bytes(key), key.size());
  crypto_auth_hmacsha256_update(&st, Bytes(data), data.size());
  Digest mac{};
  crypto_auth_hmacsha256_final(&st, mac.data());
  sodium_memzero(&st, sizeof st);
  return mac;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  return Hex(Sha256(data));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  const Digest mac = Hmac(key, data);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return Hex(Hmac(key, data));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const Digest da = Sha256(a);
  const Digest db = Sha256(b);
  return sodium_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace tchat
