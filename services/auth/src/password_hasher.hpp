#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::auth {

struct PasswordHasherOptions {
  std::uint64_t opslimit = 2;                  // crypto_pwhash opslimit (Argon2id passes)
  std::size_t memlimit = 64ull * 1024 * 1024;  // bytes
  int threads = 0;                             // 0: one per core
  int max_queue = 64;                          // hashes waiting or running at once
};

// Argon2id password hashing (libsodium crypto_pwhash_str, the PHC string format
// with salt and parameters inside). Each hash costs tens of milliseconds of CPU
// and tens of MiB, so it runs on a small thread pool owned by this object, never
// on a worker's event loop: the awaiting coroutine resumes on its own executor
// afterwards. At most max_queue hashes are in flight; beyond that callers get
// kUnavailable at once instead of queueing without bound (a flood of logins must
// not exhaust memory or the service).
//
// Shared by all workers; every method is thread-safe. Destroying it waits for
// the running hashes.
class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordHasherOptions options);
  ~PasswordHasher();
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // The encoded hash ("$argon2id$v=19$m=65536,t=2,p=1$...").
  Task<Result<std::string>> Hash(std::string password);
  // true when `password` matches `encoded`; false on mismatch or a malformed hash.
  Task<Result<bool>> Verify(std::string encoded, std::string password);
  // Spends the time of a Verify without a real account, so that "no such user"
  // and "wrong password" take equally long.
  Task<Status> VerifyDummy(std::string password);
  // The hash was made with other parameters than the current ones.
  bool NeedsRehash(const std::string& encoded) const;

  // The same operations, synchronously on the calling thread (tests, tools).
  Result<std::string> HashNow(const std::string& password) const;
  bool VerifyNow(const std::string& encoded, const std::string& password) const;

 private:
  template <typename T>
  Task<Result<T>> Offload(std::function<Result<T>()> fn);

  struct Pool;
  PasswordHasherOptions options_;
  std::unique_ptr<Pool> pool_;
  std::atomic<int> in_flight_{0};
  std::string dummy_hash_;
};

}  // namespace tchat::auth
