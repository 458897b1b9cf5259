#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"

namespace tchat::auth {

// Which lock-outs a failure started (for metrics and logs).
struct LockoutEvents {
  bool account_ip = false;  // this account from this address
  bool account = false;     // this account from everywhere (password only)
  bool ip = false;          // this address, every account
};

// Password-guessing defence in Redis: slows an attacker down without letting
// them lock the owner out for good. Locks are per (account, address) first —
// doubling from login_lock_base up to login_lock_max — so a guesser mostly
// locks only themself; an account-wide lock needs many more failures, lasts at
// most login_lock_max, applies to passwords only (OTP sign-in always works) and
// is cleared by an OTP sign-in. While locked, passwords are not even checked.
// An address with too many failures (or attempts) per hour is refused.
//
// `account` is the user id when the account exists, otherwise the identifier
// typed (normalised), so unknown accounts behave exactly like known ones.
// Immutable; any thread; the Redis client is the caller's worker's.
class LoginGuard {
 public:
  explicit LoginGuard(const Config& config);

  // Counts the attempt against the address and answers kRateLimited (with
  // Retry-After) while any lock applies.
  Task<Status> Check(redis::RedisClient& redis, std::string_view account,
                     std::string_view ip) const;
  // After a wrong password.
  Task<Result<LockoutEvents>> RecordFailure(redis::RedisClient& redis, std::string_view account,
                                            std::string_view ip) const;
  // After a correct password: forgets this account's failures.
  Task<Status> RecordSuccess(redis::RedisClient& redis, std::string_view account,
                             std::string_view ip) const;
  // After an OTP sign-in (the owner proved they hold the phone): lifts the
  // account-wide lock and this address's lock on the account.
  Task<Status> ClearAccount(redis::RedisClient& redis, std::string_view account,
                            std::string_view ip) const {
    return RecordSuccess(redis, account, ip);
  }

 private:
  Config config_;
};

}  // namespace tchat::auth
