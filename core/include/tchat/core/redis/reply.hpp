#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::redis {

// One RESP2 reply as a plain value. Nested arrays own their elements.
struct RedisReply {
  enum class Type : std::uint8_t { kNil, kString, kStatus, kError, kInteger, kArray };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  std::int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool IsNil() const { return type == Type::kNil; }
  bool IsString() const { return type == Type::kString; }
  bool IsStatus() const { return type == Type::kStatus; }
  bool IsError() const { return type == Type::kError; }
  bool IsInteger() const { return type == Type::kInteger; }
  bool IsArray() const { return type == Type::kArray; }
};

// A non-owning view of one command's arguments ("SET", key, value, ...). The
// viewed strings must outlive the call, which holds when the command is awaited
// in the expression that builds it. (There is deliberately no
// initializer_list constructor: GCC 12 rejects braced lists inside co_await,
// and the variadic RedisCommander::Command covers the literal case.)
class RedisArgs {
 public:
  template <std::size_t N>
  RedisArgs(const std::array<std::string_view, N>& args)  // NOLINT implicit
      : views_(args.data()), size_(N) {}
  RedisArgs(std::span<const std::string_view> args)  // NOLINT implicit
      : views_(args.data()), size_(args.size()) {}
  RedisArgs(const std::vector<std::string_view>& args)  // NOLINT implicit
      : views_(args.data()), size_(args.size()) {}
  RedisArgs(const std::vector<std::string>& args)  // NOLINT implicit
      : strings_(args.data()), size_(args.size()) {}

  std::size_t size() const { return size_; }
  std::string_view operator[](std::size_t i) const {
    return views_ != nullptr ? views_[i] : std::string_view(strings_[i]);
  }

 private:
  const std::string_view* views_ = nullptr;
  const std::string* strings_ = nullptr;
  std::size_t size_ = 0;
};

template <typename... A>
concept StringViewArgs = sizeof...(A) > 0 &&
                         (std::convertible_to<const A&, std::string_view> && ...);

// Commands encoded up front and sent in one write by Pipeline(); replies come
// back in the same order. Reusable after Clear().
class RedisBatch {
 public:
  template <typename... A>
  requires StringViewArgs<A...> RedisBatch& Add(const A&... args) {
    const std::array<std::string_view, sizeof...(A)> argv{std::string_view(args)...};
    return Add(RedisArgs(argv));
  }
  RedisBatch& Add(RedisArgs args);

  // One command already in RESP, routed by `slot` on a cluster (-1: no key).
  RedisBatch& AddEncoded(std::string_view command, int slot);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The commands in RESP, back to back.
  std::string_view encoded() const { return encoded_; }
  // Command i in RESP and the hash slot of its key (-1: none); a cluster client
  // splits the batch by node with these.
  std::string_view command(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1].first;
    return std::string_view(encoded_).substr(begin, ends_[i].first - begin);
  }
  int slot(std::size_t i) const { return ends_[i].second; }
  void Clear() {
    encoded_.clear();
    ends_.clear();
    count_ = 0;
  }

 private:
  std::string encoded_;
  std::vector<std::pair<std::size_t, int>> ends_;  // end offset in encoded_, slot
  std::size_t count_ = 0;
};

// True when `error` is a Redis error reply whose message starts with `prefix`
// ("BUSYGROUP", "WRONGTYPE", "NOSCRIPT", ...). Error replies become
// ErrorCode::kInternal with the server's message kept verbatim; connection
// failures and timeouts are kUnavailable.
bool IsRedisError(const Error& error, std::string_view prefix);

// Something that runs one command: the pooled RedisClient or a dedicated
// RedisConnection. The stream helpers take this so that blocking reads can go to
// a dedicated connection while everything else shares the pool.
class RedisCommander {
 public:
  virtual ~RedisCommander() = default;

  // Sends one command and waits for its reply. A Redis error reply is an Error
  // (kInternal, message kept); a lost connection or a timeout is kUnavailable.
  // Not cancellable: the call ends when the reply arrives or the connection
  // fails or times out (read_timeout).
  virtual Task<Result<RedisReply>> Command(RedisArgs args) = 0;

  // The same for literal arguments: co_await redis.Command("SET", key, value).
  template <typename... A>
  requires StringViewArgs<A...> Task<Result<RedisReply>> Command(const A&... args) {
    const std::array<std::string_view, sizeof...(A)> argv{std::string_view(args)...};
    co_return co_await Command(RedisArgs(argv));
  }

  // For commands that block server-side (XREADGROUP BLOCK, BLPOP): the read
  // deadline is extended by `block`. Only a dedicated connection accepts these;
  // the pooled client answers kInvalidArgument, since a blocked pipelined
  // connection would stall every command queued behind it.
  virtual Task<Result<RedisReply>> BlockingCommand(RedisArgs args,
                                                   std::chrono::milliseconds block) = 0;
};

}  // namespace tchat::redis
