#include "support/redis.hpp"

#include <stdexcept>

#include <hiredis/hiredis.h>

#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::e2e {

Redis::Redis(const std::string& url) {
  std::string rest = url.substr(std::string("redis://").size());
  int db = 0;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size()) db = std::stoi(rest.substr(slash + 1));
    rest.resize(slash);
  }
  const auto colon = rest.rfind(':');
  const std::string host = rest.substr(0, colon);
  const int port = colon == std::string::npos ? 6379 : std::stoi(rest.substr(colon + 1));
  ctx_ = redisConnect(host.c_str(), port);
  if (ctx_ == nullptr || ctx_->err) throw std::runtime_error("cannot connect to redis " + url);
  if (db != 0) Command({"SELECT", std::to_string(db)});
}

Redis::~Redis() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string Redis::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) throw std::runtime_error("redis connection error");
  std::string out;
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
    out.assign(reply->str, reply->len);
  } else if (reply->type == REDIS_REPLY_INTEGER) {
    out = std::to_string(reply->integer);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    std::string err(reply->str, reply->len);
    freeReplyObject(reply);
    throw std::runtime_error("redis: " + err);
  }
  freeReplyObject(reply);
  return out;
}

std::string Redis::Publish(std::string_view stream, const json::object& envelope) {
  return Command({"XADD", std::string(stream), "*", "event", ToJson(envelope)});
}

std::string Redis::PublishRaw(std::string_view stream, const std::vector<std::string>& fields) {
  std::vector<std::string> args{"XADD", std::string(stream), "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  return Command(args);
}

json::object Envelope(const std::string& type, json::object data, std::optional<std::string> id) {
  return json::object{{"id", id.value_or(NewUuidV7())},
                      {"type", type},
                      {"occurred_at", FormatRfc3339Ms(std::chrono::system_clock::now())},
                      {"data", std::move(data)}};
}

}  // namespace tchat::e2e
