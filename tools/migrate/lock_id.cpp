#include "lock_id.hpp"

#include <array>
#include <string>

namespace tchat::migrate {
namespace {

constexpr std::uint32_t kLockIdSalt = 1486364155u;

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

}  // namespace

std::uint32_t Crc32Ieee(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char ch : data) {
    crc = kCrcTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t AdvisoryLockId(std::string_view database, std::string_view schema,
                             std::string_view table) {
  std::string key;
  key.reserve(schema.size() + table.size() + database.size() + 2);
  key.append(schema).push_back('\0');
  key.append(table).push_back('\0');
  key.append(database);
  return Crc32Ieee(key) * kLockIdSalt;  // unsigned arithmetic wraps modulo 2^32
}

}  // namespace tchat::migrate
