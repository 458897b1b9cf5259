#include <cstdlib>

#include <sodium.h>

#include <tchat/core/sodium.hpp>

namespace tchat {

void EnsureSodium() {
  // sodium_init is thread-safe and idempotent; the static makes later calls free.
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

}  // namespace tchat
