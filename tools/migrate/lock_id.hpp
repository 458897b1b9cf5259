#pragma once

#include <cstdint>
#include <string_view>

namespace tchat::migrate {

// The advisory-lock key golang-migrate's postgres driver derives from the database
// name it was given (the URL path, leading "/" included), the schema and the table:
// CRC-32 (IEEE) of "schema\0table\0database" multiplied by a fixed salt, modulo
// 2^32. Using the same key means tchat-migrate and `migrate` exclude each other.
std::uint32_t AdvisoryLockId(std::string_view database, std::string_view schema,
                             std::string_view table);

// CRC-32 with the IEEE polynomial (as zlib's crc32). Exposed for its unit test.
std::uint32_t Crc32Ieee(std::string_view data);

}  // namespace tchat::migrate
