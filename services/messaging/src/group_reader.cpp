#include "group_reader.hpp"

#include <array>
#include <chrono>
#include <vector>

#include <tchat/core/async.hpp>
#include <tchat/core/redis/streams.hpp>

namespace tchat::messaging {

namespace {

constexpr std::string_view kGroup = "messaging";
constexpr std::chrono::milliseconds kBlock{2000};
constexpr std::chrono::milliseconds kClaimIdle{60000};
constexpr std::chrono::seconds kClaimEvery{30};

}  // namespace

Task<void> RunGroupReader(redis::RedisClient& redis, redis::ReaderConnection& reader,
                          std::string stream, std::string consumer, std::function<bool()> stopping,
                          EntryHandler handle) {
  auto next_claim = std::chrono::steady_clock::now();
  bool group_ready = false;
  while (!stopping()) {
    if (!group_ready) {
      // From the stream's start: an event published before this group existed
      // is still handled.
      auto st = co_await redis::XGroupCreate(redis, stream, kGroup, "0");
      if (!st) {
        co_await reader.Pause();
        continue;
      }
      group_ready = true;
    }
    redis::RedisConnection* conn = co_await reader.Get();
    if (conn == nullptr) continue;
    std::vector<redis::StreamEntry> entries;
    if (std::chrono::steady_clock::now() >= next_claim) {
      next_claim = std::chrono::steady_clock::now() + kClaimEvery;
      auto claimed = co_await redis::XAutoClaim(redis, stream, kGroup, consumer, kClaimIdle);
      if (claimed) entries = std::move(claimed->entries);
    }
    if (entries.empty()) {
      auto read = co_await redis::XReadGroup(*conn, stream, kGroup, consumer, 100, kBlock);
      if (!read) {
        if (redis::IsRedisError(read.error(), "NOGROUP")) group_ready = false;
        co_await reader.Failed(read.error());
        continue;
      }
      entries = std::move(*read);
    }
    for (const auto& e : entries) {
      if (stopping()) break;
      if (!co_await handle(e.Field("event"))) {
        co_await Sleep(std::chrono::seconds(1));
        break;  // left pending; claimed again later
      }
      const std::array<std::string_view, 1> ids{e.id};
      (void)co_await redis::XAck(redis, stream, kGroup, ids);
    }
  }
}

}  // namespace tchat::messaging
