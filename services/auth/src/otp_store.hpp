#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "config.hpp"

namespace tchat::auth {

// What a code may be used for: a sign-in code does not prove anything for a
// password change, nor the other way round.
enum class OtpPurpose {
  kSignIn,    // POST /v1/auth/otp/verify
  kPassword,  // PUT /v1/auth/password, POST /v1/auth/password/reset
};

enum class OtpIssue {
  kIssued,
  kIpLimited,      // too many code requests from this address
  kCooldown,       // a code was sent to this number less than the cooldown ago
  kNumberLimited,  // too many codes for this number this hour
};

struct OtpIssueOutcome {
  OtpIssue result = OtpIssue::kIssued;
  std::chrono::seconds retry_after{0};
};

enum class OtpCheck {
  kOk,         // the code matched and is now used up
  kIpLimited,  // too many verification attempts from this address
  kNoCode,     // none pending: never requested, expired, used or burned
  kWrong,      // wrong code; attempts_left more tries
  kBurned,     // wrong code and that was the last try: the code is gone
};

struct OtpVerifyOutcome {
  OtpCheck result = OtpCheck::kNoCode;
  int attempts_left = 0;
  std::chrono::seconds retry_after{0};
};

// One-time codes in Redis, one pending per (number, purpose); the resend
// cooldown and the per-number limit are shared by both purposes. A code is kept only as
// HMAC-SHA256(pepper, phone ":" code) with an attempt counter and a TTL. Issuing (address limit,
// resend cooldown, per-number limit, store) and verifying (address limit,
// compare, burn or count; a match also ends the resend cooldown) are each a
// single Lua script, so they are atomic: of
// two concurrent verifications of one code exactly one succeeds.
//
// Immutable; any thread. The Redis client passed to each call is the caller's
// worker's.
class OtpStore {
 public:
  OtpStore(const Config& config, std::string pepper);

  // Six digits from libsodium's CSPRNG (uniform, leading zeros kept).
  static std::string NewCode();

  Task<Result<OtpIssueOutcome>> Issue(redis::RedisClient& redis, std::string_view phone,
                                      std::string_view ip, std::string_view code,
                                      OtpPurpose purpose) const;
  // Forgets the pending code and the cooldown of `phone` (the SMS could not be
  // queued, so the person may ask again at once).
  Task<Status> Cancel(redis::RedisClient& redis, std::string_view phone, OtpPurpose purpose) const;
  Task<Result<OtpVerifyOutcome>> Verify(redis::RedisClient& redis, std::string_view phone,
                                        std::string_view ip, std::string_view code,
                                        OtpPurpose purpose) const;

 private:
  std::string Hash(std::string_view phone, std::string_view code) const;

  std::string pepper_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds cooldown_;
  int max_attempts_;
  RateLimit per_number_;
  RateLimit per_ip_;
  RateLimit verify_per_ip_;
};

}  // namespace tchat::auth
