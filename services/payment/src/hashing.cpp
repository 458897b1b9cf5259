#include "hashing.hpp"

#include <tchat/core/hashing.hpp>

namespace tchat::payment {

std::string FingerprintHex(std::initializer_list<std::string_view> parts) {
  std::string framed;
  for (std::string_view p : parts) {
    framed += std::to_string(p.size());
    framed += ':';
    framed += p;
  }
  return Sha256Hex(framed);
}

}  // namespace tchat::payment
