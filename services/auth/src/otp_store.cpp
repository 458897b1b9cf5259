#include "otp_store.hpp"

#include <cstdio>
#include <vector>

#include <sodium.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/redis/script.hpp>

#include "redis_keys.hpp"

namespace tchat::auth {

namespace {

// KEYS: ip counter, cooldown, number counter, code
// ARGV: ip max, ip window ms, cooldown ms, number max, number window ms, hash, ttl ms
// Returns {status, ms}: 0 issued, 1 ip limited, 2 cooldown, 3 number limited.
const redis::RedisScript& IssueScript() {
  static const redis::RedisScript script(R"lua(
local function count(key, window)
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = tonumber(window)
  end
  return n, ttl
end
local n, ttl = count(KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then return {1, ttl} end
local cd = redis.call('PTTL', KEYS[2])
if cd > 0 then return {2, cd} end
n, ttl = count(KEYS[3], ARGV[5])
if n > tonumber(ARGV[4]) then return {3, ttl} end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[3]) end
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'h', ARGV[6], 'a', 0)
redis.call('PEXPIRE', KEYS[4], ARGV[7])
return {0, 0}
)lua");
  return script;
}

// KEYS: ip counter, code, cooldown
// ARGV: ip max, ip window ms, candidate hash, max attempts
// A verified code also ends the resend cooldown: it exists to stop repeated
// sends of a pending code, and the per-number limit still bounds SMS.
// Returns {status, n}: 0 ok, 1 ip limited (n = ms), 2 no code, 3 burned, 4 wrong (n = left).
const redis::RedisScript& VerifyScript() {
  static const redis::RedisScript script(R"lua(
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if n > tonumber(ARGV[1]) then return {1, ttl} end
local h = redis.call('HGET', KEYS[2], 'h')
if not h then return {2, 0} end
if h == ARGV[3] then
  redis.call('DEL', KEYS[2], KEYS[3])
  return {0, 0}
end
local tries = redis.call('HINCRBY', KEYS[2], 'a', 1)
local left = tonumber(ARGV[4]) - tries
if left <= 0 then
  redis.call('DEL', KEYS[2])
  return {3, 0}
end
return {4, left}
)lua");
  return script;
}

std::string Key(std::string_view kind, std::string_view subject) {
  std::string k(kOtpKeyPrefix);
  k += kind;
  k += ':';
  k += subject;
  return k;
}

// The pending code's key: sign-in codes keep the key they always had.
std::string CodeKey(std::string_view phone, OtpPurpose purpose) {
  return Key(purpose == OtpPurpose::kPassword ? "otp_password" : "otp", phone);
}

}  // namespace

OtpStore::OtpStore(const Config& c, std::string pepper)
    : pepper_(std::move(pepper)),
      ttl_(c.otp_ttl),
      cooldown_(c.otp_resend_cooldown),
      max_attempts_(c.otp_max_attempts),
      per_number_(c.otp_per_number),
      per_ip_(c.otp_per_ip),
      verify_per_ip_(c.otp_verify_per_ip) {}

std::string OtpStore::NewCode() {
  const std::uint32_t n = randombytes_uniform(1'000'000);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06u", static_cast<unsigned>(n));
  return std::string(buf, 6);
}

std::string OtpStore::Hash(std::string_view phone, std::string_view code) const {
  std::string msg(phone);
  msg += ':';
  msg += code;
  std::string mac = HmacSha256Hex(pepper_, msg);
  sodium_memzero(msg.data(), msg.size());
  return mac;
}

Task<Result<OtpIssueOutcome>> OtpStore::Issue(redis::RedisClient& redis, std::string_view phone,
                                              std::string_view ip, std::string_view code,
                                              OtpPurpose purpose) const {
  const std::vector<std::string> keys{Key("otp_req_ip", ip), Key("otp_cooldown", phone),
                                      Key("otp_req_num", phone), CodeKey(phone, purpose)};
  const std::vector<std::string> args{std::to_string(per_ip_.count),
                                      std::to_string(per_ip_.window.count()),
                                      std::to_string(cooldown_.count()),
                                      std::to_string(per_number_.count),
                                      std::to_string(per_number_.window.count()),
                                      Hash(phone, code),
                                      std::to_string(ttl_.count())};
  auto r = co_await IssueScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 2) co_return Error::Internal("otp: bad reply");
  OtpIssueOutcome out;
  const auto status = r->elements[0].integer;
  out.retry_after = redis::RetryAfterFromMillis(r->elements[1].integer);
  switch (status) {
    case 0:
      out.result = OtpIssue::kIssued;
      out.retry_after = std::chrono::seconds(0);
      break;
    case 1:
      out.result = OtpIssue::kIpLimited;
      break;
    case 2:
      out.result = OtpIssue::kCooldown;
      break;
    default:
      out.result = OtpIssue::kNumberLimited;
      break;
  }
  co_return out;
}

Task<Status> OtpStore::Cancel(redis::RedisClient& redis, std::string_view phone,
                              OtpPurpose purpose) const {
  const std::string code_key = CodeKey(phone, purpose);
  const std::string cooldown_key = Key("otp_cooldown", phone);
  auto r = co_await redis.Command("DEL", code_key, cooldown_key);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<OtpVerifyOutcome>> OtpStore::Verify(redis::RedisClient& redis, std::string_view phone,
                                                std::string_view ip, std::string_view code,
                                                OtpPurpose purpose) const {
  const std::vector<std::string> keys{Key("otp_verify_ip", ip), CodeKey(phone, purpose),
                                      Key("otp_cooldown", phone)};
  const std::vector<std::string> args{std::to_string(verify_per_ip_.count),
                                      std::to_string(verify_per_ip_.window.count()),
                                      Hash(phone, code), std::to_string(max_attempts_)};
  auto r = co_await VerifyScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 2) co_return Error::Internal("otp: bad reply");
  OtpVerifyOutcome out;
  const auto n = r->elements[1].integer;
  switch (r->elements[0].integer) {
    case 0:
      out.result = OtpCheck::kOk;
      break;
    case 1:
      out.result = OtpCheck::kIpLimited;
      out.retry_after = redis::RetryAfterFromMillis(n);
      break;
    case 2:
      out.result = OtpCheck::kNoCode;
      break;
    case 3:
      out.result = OtpCheck::kBurned;
      break;
    default:
      out.result = OtpCheck::kWrong;
      out.attempts_left = static_cast<int>(n);
      break;
  }
  co_return out;
}

}  // namespace tchat::auth
