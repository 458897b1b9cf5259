#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::messaging {

class Hub;

struct PresenceInfo {
  std::string user_id;
  bool online = false;
  std::int64_t last_seen_ms = 0;  // 0: never seen
};

// Online/offline state in Redis (docs/api/openapi.yaml, messaging): a user is online while one of
// their WebSockets is open on some replica. Each worker keeps, per user it hosts, one member of the
// sorted set <prefix>presence:<user> — its node id, scored with an expiry time that a heartbeat
// pushes forward every ttl/3. A crashed replica's entries simply expire. The last disconnect
// anywhere records <prefix>lastseen:<user>. Transitions are published to the user's conversations
// as "presence" events, except to the users they blocked (`hidden_from`).
//
// Bound to one worker; not thread-safe.
class Presence {
 public:
  Presence(redis::RedisClient& redis, Hub& hub, std::string node_id, std::string prefix,
           std::chrono::milliseconds ttl);

  // The user's first session on this worker opened / last one closed.
  Task<void> Online(const std::string& user_id, const std::vector<std::string>& conversations,
                    const std::vector<std::string>& hidden_from);
  Task<void> Offline(const std::string& user_id, const std::vector<std::string>& conversations,
                     const std::vector<std::string>& hidden_from);

  Task<Result<std::vector<PresenceInfo>>> Query(const std::vector<std::string>& user_ids);

  // Refreshes every local user's entry; run every ttl/3 until `stopping()`.
  Task<void> HeartbeatOnce();
  std::chrono::milliseconds heartbeat_interval() const { return ttl_ / 3; }

 private:
  std::string Key(std::string_view user_id) const;
  std::string LastSeenKey(std::string_view user_id) const;
  void Announce(const std::string& user_id, const std::vector<std::string>& conversations,
                const std::vector<std::string>& hidden_from, bool online,
                std::int64_t last_seen_ms);

  redis::RedisClient& redis_;
  Hub& hub_;
  std::string node_id_;
  std::string prefix_;
  std::chrono::milliseconds ttl_;
  std::unordered_set<std::string> local_;
};

}  // namespace tchat::messaging
