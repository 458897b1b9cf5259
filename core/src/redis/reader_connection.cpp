#include <algorithm>

#include <tchat/core/async.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/redis/reader_connection.hpp>

namespace tchat::redis {

ReaderConnection::ReaderConnection(RedisClient& redis, std::string what,
                                   std::function<bool()> stopping, std::chrono::milliseconds retry)
    : redis_(redis), what_(std::move(what)), stopping_(std::move(stopping)), retry_(retry) {}

Task<RedisConnection*> ReaderConnection::Get() {
  if (conn_ && conn_->IsOpen()) co_return &*conn_;
  conn_.reset();
  auto c = co_await redis_.Dedicated();
  if (!c) {
    log::Warn("redis unavailable", {{"reader", what_}, {"error", c.error().message}});
    co_await Pause();
    co_return nullptr;
  }
  if (stopping_()) co_return nullptr;
  conn_.emplace(std::move(*c));
  co_return &*conn_;
}

Task<void> ReaderConnection::Failed(const Error& error) {
  conn_.reset();
  if (stopping_()) co_return;
  log::Warn("redis read failed", {{"reader", what_}, {"error", error.message}});
  co_await Pause();
}

Task<void> ReaderConnection::Pause() {
  const auto end = std::chrono::steady_clock::now() + retry_;
  while (!stopping_() && std::chrono::steady_clock::now() < end) {
    co_await Sleep(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(200), std::chrono::duration_cast<std::chrono::milliseconds>(
                                            end - std::chrono::steady_clock::now())));
  }
}

void ReaderConnection::Close() {
  if (conn_) conn_->Close();
}

}  // namespace tchat::redis
