#include "account_deletion_consumer.hpp"

#include <array>
#include <chrono>

#include <tchat/core/async.hpp>
#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::messaging {

namespace {

constexpr std::string_view kGroup = "messaging";
constexpr std::chrono::milliseconds kBlock{2000};
constexpr std::chrono::milliseconds kClaimIdle{60000};
constexpr std::chrono::seconds kClaimEvery{30};

}  // namespace

AccountDeletionConsumer::AccountDeletionConsumer(redis::RedisClient& redis,
                                                 ConversationStore& store,
                                                 std::string consumer_name,
                                                 std::function<bool()> stopping)
    : redis_(redis),
      store_(store),
      consumer_(std::move(consumer_name)),
      stopping_(stopping),
      reader_(redis, "account deletion consumer", std::move(stopping)) {}

Task<bool> AccountDeletionConsumer::Handle(const std::string* envelope_text) {
  if (envelope_text == nullptr) co_return true;
  auto envelope = ParseJsonObject(*envelope_text);
  if (!envelope) co_return true;
  if (StringValue(*envelope, "type") != events::kUserDeleted) co_return true;
  const std::string event_id(StringValue(*envelope, "id"));
  const json::value* data = envelope->if_contains("data");
  if (data == nullptr || !data->is_object() || event_id.empty() || event_id.size() > 64) {
    log::Warn("auth.user.deleted without an id or data; skipped");
    co_return true;
  }
  auto user = CanonicalUuid(StringValue(data->get_object(), "user_id"));
  if (!user) {
    log::Warn("auth.user.deleted names no user; skipped", {{"event_id", event_id}});
    co_return true;
  }
  auto done = co_await store_.ForgetUser(*user, event_id);
  if (!done) {
    // Database trouble: leave the entry pending and try again later.
    log::Warn("account deletion not applied",
              {{"user_id", *user}, {"error", done.error().message}});
    co_return false;
  }
  log::Info("account deletion applied", {{"user_id", *user},
                                         {"event_id", event_id},
                                         {"repeat", done->already_done},
                                         {"conversations", done->conversations},
                                         {"messages", done->messages},
                                         {"media", done->media}});
  co_return true;
}

void AccountDeletionConsumer::Stop() {
  reader_.Close();
}

Task<void> AccountDeletionConsumer::Run() {
  const std::string stream(events::kAuthStream);
  auto next_claim = std::chrono::steady_clock::now();
  bool group_ready = false;
  while (!stopping_()) {
    if (!group_ready) {
      // From the stream's start: a deletion announced before this group existed
      // is still applied (the others are acknowledged untouched).
      auto st = co_await redis::XGroupCreate(redis_, stream, kGroup, "0");
      if (!st) {
        co_await reader_.Pause();
        continue;
      }
      group_ready = true;
    }
    redis::RedisConnection* conn = co_await reader_.Get();
    if (conn == nullptr) continue;
    std::vector<redis::StreamEntry> entries;
    if (std::chrono::steady_clock::now() >= next_claim) {
      next_claim = std::chrono::steady_clock::now() + kClaimEvery;
      auto claimed = co_await redis::XAutoClaim(redis_, stream, kGroup, consumer_, kClaimIdle);
      if (claimed) entries = std::move(claimed->entries);
    }
    if (entries.empty()) {
      auto read = co_await redis::XReadGroup(*conn, stream, kGroup, consumer_, 100, kBlock);
      if (!read) {
        if (redis::IsRedisError(read.error(), "NOGROUP")) group_ready = false;
        co_await reader_.Failed(read.error());
        continue;
      }
      entries = std::move(*read);
    }
    for (const auto& e : entries) {
      if (stopping_()) break;
      if (!co_await Handle(e.Field("event"))) {
        co_await Sleep(std::chrono::seconds(1));
        break;  // left pending; claimed again later
      }
      const std::array<std::string_view, 1> ids{e.id};
      (void)co_await redis::XAck(redis_, stream, kGroup, ids);
    }
  }
}

}  // namespace tchat::messaging
