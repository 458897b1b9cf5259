#pragma once

namespace tchat {

// Initialises libsodium once per process: the one place that calls sodium_init.
// Call it before the first libsodium function (randombytes picks its source
// lazily; hashing, signatures and password hashing choose their CPU-specific
// code here). Thread-safe and cheap after the first call. Aborts when the
// library cannot start, since no key or random operation would be safe.
void EnsureSodium();

}  // namespace tchat
