#include "revocation_watcher.hpp"

#include <tchat/core/events/streams.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/time.hpp>

namespace tchat::messaging {

namespace {

constexpr std::chrono::milliseconds kBlock{2000};
constexpr std::size_t kBatch = 500;

}  // namespace

RevocationWatcher::RevocationWatcher(redis::RedisClient& redis, std::chrono::seconds remember,
                                     Sink sink, std::function<bool()> stopping)
    : remember_(remember),
      sink_(std::move(sink)),
      stopping_(stopping),
      reader_(redis, "revocation watcher", std::move(stopping)) {}

void RevocationWatcher::Stop() {
  reader_.Close();
}

Task<void> RevocationWatcher::Run() {
  const std::string stream(events::kAuthStream);
  // Stream ids begin with their time in milliseconds: start `remember_` back.
  const std::int64_t since =
      NowUnixMs() - std::chrono::duration_cast<std::chrono::milliseconds>(remember_).count();
  std::string last_id = std::to_string(since > 0 ? since : 0) + "-0";
  while (!stopping_()) {
    redis::RedisConnection* conn = co_await reader_.Get();
    if (conn == nullptr) continue;
    auto read = co_await redis::XRead(*conn, stream, last_id, kBatch, kBlock);
    if (!read) {
      co_await reader_.Failed(read.error());
      continue;
    }
    for (const auto& e : *read) {
      last_id = e.id;
      const std::string* envelope = e.Field("event");
      if (envelope == nullptr) continue;
      if (auto r = ParseRevocation(*envelope)) sink_(*r);
    }
  }
}

}  // namespace tchat::messaging
