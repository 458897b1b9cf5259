#include "account_deletion_consumer.hpp"

#include <tchat/core/async.hpp>
#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/uuid.hpp>

#include "group_reader.hpp"

namespace tchat::messaging {

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
  return RunGroupReader(redis_, reader_, std::string(events::kAuthStream), consumer_, stopping_,
                        [this](const std::string* event) { return Handle(event); });
}

}  // namespace tchat::messaging
