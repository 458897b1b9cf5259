#pragma once

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "rules.hpp"
#include "store.hpp"
#include "stream_entry.hpp"

// What a batch of events knows about the users they name: who is online
// (messaging's presence in Redis), and their preferences, mutes and devices
// (PostgreSQL, read inside the batch's transaction by LoadAudience, event_store.hpp).
namespace tchat::notification {

// The Redis key of a user's presence: messaging's sorted set of its replicas'
// sessions, each scored with its expiry in Unix ms (refreshed by a heartbeat).
// Online ⇔ ZCOUNT key <now ms> +inf > 0. A plain string key (another writer's
// SET ... EX) counts as online while it exists.
std::string PresenceKey(std::string_view prefix, std::string_view user_id);

// The recipients of the events' messages (the sender apart) who are online.
Task<Result<std::unordered_set<std::string>>> OnlineRecipients(
    redis::RedisClient& redis, std::string_view prefix, const std::vector<ParsedEntry>& events);

struct UserData {
  RecipientView view;
  std::vector<Device> devices;
};

// What is known about the users a batch's events name.
struct Audience {
  std::unordered_map<std::string, UserData> users;
  std::set<std::pair<std::string, std::string>> mutes;  // (user id, conversation id)

  // The planner's view of the recipients of an event of `conversation_id`
  // (null: of no conversation). Small enough to be held without an allocation;
  // refers to this Audience and to *conversation_id.
  RecipientLookup ViewFor(const std::string* conversation_id);
};

// The users the events name (message recipients other than the sender who are
// not online, payment parties, OTP users) and the messages' conversations,
// each sorted.
void NamedUsers(const std::vector<const ParsedEntry*>& events,
                const std::unordered_set<std::string>& online, std::vector<std::string>& users,
                std::vector<std::string>& conversations);

}  // namespace tchat::notification
