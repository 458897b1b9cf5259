#include "login_guard.hpp"

#include <vector>

#include <tchat/core/redis/rate_limiter.hpp>
#include <tchat/core/redis/script.hpp>

#include "redis_keys.hpp"

namespace tchat::auth {

namespace {

// KEYS: lock pair, lock account, ip failures, ip attempts
// ARGV: ip failure max, ip attempt max, ip attempt window ms
// Returns {status, ms}: 0 ok, 1 pair locked, 2 account locked, 3 ip failures, 4 ip attempts.
const redis::RedisScript& CheckScript() {
  static const redis::RedisScript script(R"lua(
local function pttl(k)
  local t = redis.call('PTTL', k)
  if t < 0 then return 0 end
  return t
end
local n = redis.call('INCR', KEYS[4])
local ttl = redis.call('PTTL', KEYS[4])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
  ttl = tonumber(ARGV[3])
end
if n > tonumber(ARGV[2]) then return {4, ttl} end
local f = tonumber(redis.call('GET', KEYS[3]) or '0')
if f >= tonumber(ARGV[1]) then return {3, pttl(KEYS[3])} end
local a = pttl(KEYS[1])
if a > 0 then return {1, a} end
local b = pttl(KEYS[2])
if b > 0 then return {2, b} end
return {0, 0}
)lua");
  return script;
}

// KEYS: failures pair, lock pair, failures account, lock account, failures ip
// ARGV: pair threshold, pair window ms, lock base ms, lock max ms,
//       account threshold, account window ms, ip window ms
// Returns {pair lock ms, account lock ms, ip failures}.
const redis::RedisScript& FailureScript() {
  static const redis::RedisScript script(R"lua(
local function count(key, window)
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then redis.call('PEXPIRE', key, window) end
  return n
end
local function lock(failures, threshold, fkey, lkey)
  if failures < threshold then return 0 end
  local e = failures - threshold
  if e > 30 then e = 30 end
  local ms = tonumber(ARGV[3]) * (2 ^ e)
  if ms > tonumber(ARGV[4]) then ms = tonumber(ARGV[4]) end
  ms = math.floor(ms)
  redis.call('SET', lkey, '1', 'PX', ms)
  -- Remember the failures at least as long as the lock lasts.
  if redis.call('PTTL', fkey) < ms then redis.call('PEXPIRE', fkey, ms) end
  return ms
end
local fp = count(KEYS[1], ARGV[2])
local lp = lock(fp, tonumber(ARGV[1]), KEYS[1], KEYS[2])
local fa = count(KEYS[3], ARGV[6])
local la = lock(fa, tonumber(ARGV[5]), KEYS[3], KEYS[4])
local fi = count(KEYS[5], ARGV[7])
return {lp, la, fi}
)lua");
  return script;
}

std::string Key(std::string_view kind, std::string_view a, std::string_view b = {}) {
  std::string k(kGuardKeyPrefix);
  k += kind;
  k += ':';
  k += a;
  if (!b.empty()) {
    k += ':';
    k += b;
  }
  return k;
}

}  // namespace

LoginGuard::LoginGuard(const Config& config) : config_(config) {}

Task<Status> LoginGuard::Check(redis::RedisClient& redis, std::string_view account,
                               std::string_view ip) const {
  const std::vector<std::string> keys{Key("login_lock", account, ip),
                                      Key("login_lock_acct", account), Key("login_fail_ip", ip),
                                      Key("login_ip", ip)};
  const std::vector<std::string> args{std::to_string(config_.login_failures_per_ip.count),
                                      std::to_string(config_.login_per_ip.count),
                                      std::to_string(config_.login_per_ip.window.count())};
  auto r = co_await CheckScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 2) co_return Error::Internal("login guard: bad reply");
  const auto retry = redis::RetryAfterFromMillis(r->elements[1].integer);
  switch (r->elements[0].integer) {
    case 0:
      co_return Ok();
    case 1:
      co_return Error::RateLimited("too many failed sign-ins for this account from this address",
                                   retry);
    case 2:
      co_return Error::RateLimited(
          "password sign-in for this account is paused after many failed attempts; sign in with "
          "an SMS code or try later",
          retry);
    case 3:
      co_return Error::RateLimited("too many failed sign-ins from this address", retry);
    default:
      co_return Error::RateLimited("too many sign-in attempts from this address", retry);
  }
}

Task<Result<LockoutEvents>> LoginGuard::RecordFailure(redis::RedisClient& redis,
                                                      std::string_view account,
                                                      std::string_view ip) const {
  const std::vector<std::string> keys{
      Key("login_fail", account, ip), Key("login_lock", account, ip),
      Key("login_fail_acct", account), Key("login_lock_acct", account), Key("login_fail_ip", ip)};
  const auto account_window =
      std::max(config_.login_failure_window, std::chrono::milliseconds(std::chrono::hours(1)));
  const std::vector<std::string> args{std::to_string(config_.login_failures_before_lock),
                                      std::to_string(config_.login_failure_window.count()),
                                      std::to_string(config_.login_lock_base.count()),
                                      std::to_string(config_.login_lock_max.count()),
                                      std::to_string(config_.account_failures_before_lock),
                                      std::to_string(account_window.count()),
                                      std::to_string(config_.login_failures_per_ip.window.count())};
  auto r = co_await FailureScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 3) co_return Error::Internal("login guard: bad reply");
  LockoutEvents ev;
  ev.account_ip = r->elements[0].integer > 0;
  ev.account = r->elements[1].integer > 0;
  ev.ip = r->elements[2].integer == config_.login_failures_per_ip.count;
  co_return ev;
}

Task<Status> LoginGuard::RecordSuccess(redis::RedisClient& redis, std::string_view account,
                                       std::string_view ip) const {
  const std::string a = Key("login_fail", account, ip), b = Key("login_lock", account, ip),
                    c = Key("login_fail_acct", account), d = Key("login_lock_acct", account);
  auto r = co_await redis.Command("DEL", a, b, c, d);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

}  // namespace tchat::auth
