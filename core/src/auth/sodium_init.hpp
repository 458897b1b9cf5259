#pragma once

#include <cstdlib>

#include <sodium.h>

namespace tchat::auth {

// sodium_init once per process (thread-safe and idempotent); aborts if the
// library cannot start, since no key operation would be safe.
inline void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

}  // namespace tchat::auth
