#include "protocol.hpp"

#include <charconv>
#include <new>

#include <hiredis/read.h>

#include <tchat/core/redis/cluster.hpp>

namespace tchat::redis {

RedisBatch& RedisBatch::Add(RedisArgs args) {
  detail::AppendCommand(encoded_, args);
  ends_.emplace_back(encoded_.size(), CommandSlot(args));
  ++count_;
  return *this;
}

RedisBatch& RedisBatch::AddEncoded(std::string_view command, int slot) {
  encoded_.append(command);
  ends_.emplace_back(encoded_.size(), slot);
  ++count_;
  return *this;
}

bool IsRedisError(const Error& error, std::string_view prefix) {
  return error.code == ErrorCode::kInternal && error.message.starts_with(prefix);
}

namespace detail {
namespace {

void AppendLength(std::string& out, char prefix, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out.push_back(prefix);
  out.append(digits, end);
  out.append("\r\n", 2);
}

// The object being built for `task`: the reader's root slot (privdata) for a
// top-level reply, else the element the parent array reserved for it. Arrays
// size their element vector up front, so these pointers stay stable.
RedisReply* Slot(const redisReadTask* task) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<RedisReply*>(task->parent->obj);
    return &parent->elements[static_cast<std::size_t>(task->idx)];
  }
  auto* root = static_cast<RedisReply*>(task->privdata);
  root->str.clear();
  root->elements.clear();
  root->integer = 0;
  return root;
}

void* CreateString(const redisReadTask* task, char* str, std::size_t len) {
  RedisReply* r = Slot(task);
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r->type = RedisReply::Type::kError;
      break;
    case REDIS_REPLY_STATUS:
      r->type = RedisReply::Type::kStatus;
      break;
    default:
      r->type = RedisReply::Type::kString;
      break;
  }
  r->str.assign(str, len);
  return r;
}

void* CreateArray(const redisReadTask* task, int elements) {
  RedisReply* r = Slot(task);
  r->type = RedisReply::Type::kArray;
  r->elements.resize(static_cast<std::size_t>(elements));
  return r;
}

void* CreateInteger(const redisReadTask* task, long long value) {  // NOLINT hiredis API
  RedisReply* r = Slot(task);
  r->type = RedisReply::Type::kInteger;
  r->integer = value;
  return r;
}

void* CreateNil(const redisReadTask* task) {
  RedisReply* r = Slot(task);
  r->type = RedisReply::Type::kNil;
  return r;
}

// Every object lives inside the root slot, which the ReplyReader owns.
void FreeObject(void*) {}

redisReplyObjectFunctions kFunctions = {CreateString, CreateArray, CreateInteger, CreateNil,
                                        FreeObject};

}  // namespace

void AppendCommand(std::string& out, const RedisArgs& args) {
  AppendLength(out, '*', args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    AppendLength(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
  }
}

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(&kFunctions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->privdata = &root_;
}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

bool ReplyReader::Feed(const char* data, std::size_t size) {
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) {
    error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "redis reader error";
    return false;
  }
  return true;
}

RedisReply* ReplyReader::Next() {
  void* obj = nullptr;
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) {
    error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "redis protocol error";
    return nullptr;
  }
  return static_cast<RedisReply*>(obj);
}

}  // namespace detail
}  // namespace tchat::redis
