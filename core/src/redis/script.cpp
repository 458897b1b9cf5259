#include <openssl/evp.h>

#include <tchat/core/redis/script.hpp>

namespace tchat::redis {

namespace {

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

}  // namespace

RedisScript::RedisScript(std::string source)
    : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

Task<Result<RedisReply>> RedisScript::Run(RedisCommander& redis,
                                          const std::vector<std::string>& keys,
                                          const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(sha1_);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = co_await redis.Command(RedisArgs(argv));
  if (!r && IsRedisError(r.error(), "NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = source_;
    r = co_await redis.Command(RedisArgs(argv));
  }
  co_return r;
}

}  // namespace tchat::redis
