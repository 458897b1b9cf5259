#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>
#include <tchat/core/time.hpp>

#include "quiet_hours.hpp"
#include "rules.hpp"

// PostgreSQL access of the notification service (database tchat_notification,
// migrations 000001-000003). Free functions over the worker's pool or a
// connection inside a transaction; same thread rules as pg::Pool.
namespace tchat::notification {

struct Device {
  std::string id;
  std::string user_id;
  std::string platform;
  std::string token;
  std::string created_at;  // RFC 3339
  std::string updated_at;
};
json::object DeviceJson(const Device& d);

// The most devices one user may register; the oldest goes when a new one arrives.
inline constexpr int kMaxDevicesPerUser = 20;

// Registers (or refreshes) a push token for `user_id`, owned by auth session
// `session_id` (the latest that registered it). kConflict when another user has
// the token: it never moves silently (that account's sign-out or removal frees
// it). Returns the device.
Task<Result<Device>> UpsertDevice(pg::Pool& pool, const std::string& user_id,
                                  const std::string& session_id, const std::string& platform,
                                  const std::string& token);
Task<Result<std::vector<Device>>> ListDevices(pg::Pool& pool, const std::string& user_id);
// False when the device does not exist or belongs to someone else.
Task<Result<bool>> DeleteDevice(pg::Pool& pool, const std::string& user_id,
                                const std::string& device_id);

struct InboxPage {
  json::array notifications;
  std::int64_t unread_count = 0;
  std::optional<std::string> next_cursor;
};
// A position in a user's inbox, which is ordered by (created_at, id), newest
// first. A "message" entry's created_at is its latest message's time, so such an
// entry moves up when a message joins it; a cursor holds the position rather
// than an entry, so paging goes on from where the previous page ended even when
// that page's last entry moved meanwhile.
struct InboxCursor {
  std::int64_t created_at_us = 0;  // microseconds since the Unix epoch
  std::string id;                  // canonical UUID
};
// "<created_at_us>_<id>". Also accepts an entry id alone (the cursor of earlier
// releases, when the inbox was ordered by its UUIDv7 ids and created_at was the
// id's time): the position of that id's time. nullopt when malformed.
std::optional<InboxCursor> ParseInboxCursor(std::string_view text);
std::string FormatInboxCursor(const InboxCursor& cursor);
// Newest first (created_at, then id), from after `cursor`.
Task<Result<InboxPage>> ListInbox(pg::Pool& pool, const std::string& user_id, int limit,
                                  const std::optional<InboxCursor>& cursor, bool unread_only);
// False when there is no such entry of this user.
Task<Result<bool>> MarkRead(pg::Pool& pool, const std::string& user_id, const std::string& id);
Task<Result<std::int64_t>> MarkAllRead(pg::Pool& pool, const std::string& user_id);

struct Mute {
  std::string conversation_id;
  std::optional<SysTime> until;  // nullopt: until unmuted
};
struct Preferences {
  bool push_enabled = true;
  bool show_previews = true;
  std::optional<QuietHours> quiet;
  std::string locale = "en";
  std::string timezone = "Asia/Bangkok";
  std::vector<Mute> muted;  // only mutes still in force
};
json::object PreferencesJson(const Preferences& p);
Task<Result<Preferences>> GetPreferences(pg::Pool& pool, const std::string& user_id);
// Replaces the stored preferences (and the whole mute list).
Task<Status> PutPreferences(pg::Pool& pool, const std::string& user_id, const Preferences& p);

// Dead letters (admin API).
Task<Result<json::object>> ListDeadLetters(pg::Pool& pool, int limit,
                                           const std::optional<std::string>& cursor,
                                           bool include_redriven);
// Puts dead letters back in the delivery queue (due now, attempts reset) and marks
// them re-driven. `ids` empty: every dead letter not yet re-driven (up to
// `limit`). Returns the re-driven rows' count.
Task<Result<std::int64_t>> RedriveDeadLetters(pg::Pool& pool, const std::vector<std::string>& ids,
                                              int limit);

// Poison events (admin API).
Task<Result<json::object>> ListPoisonEvents(pg::Pool& pool, int limit);

}  // namespace tchat::notification
