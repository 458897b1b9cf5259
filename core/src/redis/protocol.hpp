#pragma once

#include <string>
#include <string_view>

#include <tchat/core/redis/reply.hpp>

struct redisReader;

namespace tchat::redis::detail {

// Appends `args` to `out` in RESP: *N\r\n then $len\r\narg\r\n per argument.
void AppendCommand(std::string& out, const RedisArgs& args);

// Incremental RESP2 parser: hiredis's protocol reader with object functions that
// build RedisReply values in place (no intermediate redisReply tree). Owns the
// hiredis reader. Not thread-safe.
class ReplyReader {
 public:
  ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;
  ~ReplyReader();

  // Appends received bytes. False on a reader error (see error()).
  bool Feed(const char* data, std::size_t size);
  // The next complete reply, or nullptr when more bytes are needed or on a
  // protocol error (then error() is non-empty). The reply stays valid until the
  // next call; callers move it out.
  RedisReply* Next();
  std::string_view error() const { return error_; }

 private:
  redisReader* reader_;
  RedisReply root_;
  std::string error_;
};

}  // namespace tchat::redis::detail
