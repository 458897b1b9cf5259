#include "rate_limiter.hpp"

#include <openssl/evp.h>

#include <tchat/core/redis/reply.hpp>

namespace tchat::auth_service {

namespace {

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

const RedisScript& HitScript() {
  static const RedisScript script(R"lua(
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
)lua");
  return script;
}

}  // namespace

RedisScript::RedisScript(std::string source)
    : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

Task<Result<redis::RedisReply>> RedisScript::Run(redis::RedisClient& redis,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(sha1_);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = co_await redis.Command(redis::RedisArgs(argv));
  if (!r && redis::IsRedisError(r.error(), "NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = source_;
    r = co_await redis.Command(redis::RedisArgs(argv));
  }
  co_return r;
}

std::chrono::seconds RetryAfterFromMillis(std::int64_t ms) {
  if (ms <= 0) return std::chrono::seconds(1);
  return std::chrono::seconds((ms + 999) / 1000);
}

Task<Result<LimitDecision>> RateLimiter::Hit(redis::RedisClient& redis, const std::string& key,
                                             Limit limit) {
  const std::vector<std::string> keys{key};
  const std::vector<std::string> args{std::to_string(limit.window.count())};
  auto r = co_await HitScript().Run(redis, keys, args);
  if (!r) co_return std::move(r).error();
  if (!r->IsArray() || r->elements.size() != 2)
    co_return Error::Internal("rate limiter: bad reply");
  LimitDecision d;
  d.count = r->elements[0].integer;
  d.allowed = d.count <= limit.max;
  d.retry_after = RetryAfterFromMillis(r->elements[1].integer);
  co_return d;
}

}  // namespace tchat::auth_service
