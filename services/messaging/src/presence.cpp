#include "presence.hpp"

#include <tchat/core/log.hpp>
#include <tchat/core/time.hpp>

#include "hub.hpp"
#include "model_json.hpp"

namespace tchat::messaging {

namespace {

constexpr std::size_t kMaxAnnounced = 1000;    // conversations told about a transition
constexpr std::size_t kHeartbeatChunk = 1000;  // users per pipeline
constexpr std::int64_t kLastSeenTtlSeconds = 90 * 24 * 3600;

}  // namespace

Presence::Presence(redis::RedisClient& redis, Hub& hub, std::string node_id, std::string prefix,
                   std::chrono::milliseconds ttl)
    : redis_(redis),
      hub_(hub),
      node_id_(std::move(node_id)),
      prefix_(std::move(prefix)),
      ttl_(ttl) {}

std::string Presence::Key(std::string_view user_id) const {
  return prefix_ + "presence:" + std::string(user_id);
}
std::string Presence::LastSeenKey(std::string_view user_id) const {
  return prefix_ + "lastseen:" + std::string(user_id);
}

void Presence::Announce(const std::string& user_id, const std::vector<std::string>& conversations,
                        const std::vector<std::string>& hidden_from, bool online,
                        std::int64_t last_seen_ms) {
  if (conversations.empty()) return;
  const std::string event = PresenceEvent(user_id, online, last_seen_ms);
  std::size_t n = 0;
  for (const std::string& c : conversations) {
    if (++n > kMaxAnnounced) break;
    hub_.ToLocalMembers(c, user_id, event, hidden_from);
  }
}

Task<void> Presence::Online(const std::string& user_id,
                            const std::vector<std::string>& conversations,
                            const std::vector<std::string>& hidden_from) {
  local_.insert(user_id);
  const std::int64_t now = NowUnixMs();
  const std::string key = Key(user_id);
  const std::string expiry = std::to_string(now + ttl_.count());
  const std::string now_s = std::to_string(now);
  const std::string ttl_ms = std::to_string(ttl_.count() * 2);
  redis::RedisBatch b;
  b.Add("ZREMRANGEBYSCORE", key, "-inf", now_s);
  b.Add("ZADD", key, expiry, node_id_);
  b.Add("PEXPIRE", key, ttl_ms);
  b.Add("ZCARD", key);
  auto r = co_await redis_.Pipeline(b);
  if (!r) {
    log::Warn("presence: redis failed", {{"error", r.error().message}});
    co_return;
  }
  if (r->size() == 4 && (*r)[3].IsInteger() && (*r)[3].integer == 1) {
    Announce(user_id, conversations, hidden_from, true, now);
  }
}

Task<void> Presence::Offline(const std::string& user_id,
                             const std::vector<std::string>& conversations,
                             const std::vector<std::string>& hidden_from) {
  local_.erase(user_id);
  const std::int64_t now = NowUnixMs();
  const std::string key = Key(user_id);
  const std::string now_s = std::to_string(now);
  const std::string last_ttl = std::to_string(kLastSeenTtlSeconds);
  redis::RedisBatch b;
  b.Add("ZREM", key, node_id_);
  b.Add("SET", LastSeenKey(user_id), now_s, "EX", last_ttl);
  b.Add("ZCOUNT", key, now_s, "+inf");
  auto r = co_await redis_.Pipeline(b);
  if (!r) {
    log::Warn("presence: redis failed", {{"error", r.error().message}});
    co_return;
  }
  if (r->size() == 3 && (*r)[2].IsInteger() && (*r)[2].integer == 0) {
    Announce(user_id, conversations, hidden_from, false, now);
  }
}

Task<Result<std::vector<PresenceInfo>>> Presence::Query(const std::vector<std::string>& user_ids) {
  std::vector<PresenceInfo> out;
  if (user_ids.empty()) co_return out;
  const std::int64_t now = NowUnixMs();
  const std::string now_s = std::to_string(now);
  redis::RedisBatch b;
  for (const std::string& u : user_ids) {
    b.Add("ZCOUNT", Key(u), now_s, "+inf");
    b.Add("GET", LastSeenKey(u));
  }
  auto r = co_await redis_.Pipeline(b);
  if (!r) co_return std::move(r).error();
  if (r->size() != user_ids.size() * 2) co_return Error::Unavailable("presence: short reply");
  out.reserve(user_ids.size());
  for (std::size_t i = 0; i < user_ids.size(); ++i) {
    PresenceInfo p;
    p.user_id = user_ids[i];
    const auto& count = (*r)[2 * i];
    const auto& seen = (*r)[2 * i + 1];
    p.online = count.IsInteger() && count.integer > 0;
    if (p.online) {
      p.last_seen_ms = now;
    } else if (seen.IsString()) {
      p.last_seen_ms = std::strtoll(seen.str.c_str(), nullptr, 10);
    }
    out.push_back(std::move(p));
  }
  co_return out;
}

Task<void> Presence::HeartbeatOnce() {
  if (local_.empty()) co_return;
  const std::int64_t now = NowUnixMs();
  const std::string expiry = std::to_string(now + ttl_.count());
  const std::string ttl_ms = std::to_string(ttl_.count() * 2);
  std::vector<std::string> users(local_.begin(), local_.end());
  for (std::size_t start = 0; start < users.size(); start += kHeartbeatChunk) {
    redis::RedisBatch b;
    const std::size_t end = std::min(users.size(), start + kHeartbeatChunk);
    for (std::size_t i = start; i < end; ++i) {
      const std::string key = Key(users[i]);
      b.Add("ZADD", key, expiry, node_id_);
      b.Add("PEXPIRE", key, ttl_ms);
    }
    auto r = co_await redis_.Pipeline(b);
    if (!r) {
      log::Warn("presence heartbeat failed", {{"error", r.error().message}});
      co_return;
    }
  }
}

}  // namespace tchat::messaging
