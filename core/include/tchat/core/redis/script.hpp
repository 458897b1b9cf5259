#pragma once

#include <string>
#include <vector>

#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

// A Lua script run with EVALSHA; when Redis does not know it yet (first use,
// restart, SCRIPT FLUSH, another server behind the same URL) it is sent once
// with EVAL, which also caches it server-side. Immutable after construction, so
// one instance (typically a function-local static) may be shared by every thread.
class RedisScript {
 public:
  // `source` is the Lua text; its SHA-1 is computed once here.
  explicit RedisScript(std::string source);

  // Runs the script with `keys` (KEYS[1..]) and `args` (ARGV[1..]) on `redis`,
  // which must be used from its own executor as usual. The reply is the script's
  // return value; a script error or any other Redis error reply is kInternal
  // with the server's message, a lost connection or timeout kUnavailable.
  Task<Result<RedisReply>> Run(RedisCommander& redis, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) const;

  // The lower-case hex SHA-1 of the source (what EVALSHA sends).
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace tchat::redis
