#include "store.hpp"

#include <tchat/core/pg/array.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::notification {

namespace {

std::string S(const pg::PgResult& r, int row, std::string_view col) {
  return std::string(r.GetString(row, col));
}

Device DeviceFromRow(const pg::PgResult& r, int i) {
  return Device{S(r, i, "id"),    S(r, i, "user_id"),    S(r, i, "platform"),
                S(r, i, "token"), S(r, i, "created_at"), S(r, i, "updated_at")};
}

json::value ParseOrEmpty(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::object{};
  return v;
}

constexpr std::string_view kUpsertDevice = R"(
WITH up AS (
  INSERT INTO devices (id, user_id, platform, token, session_id)
  VALUES ($1, $2, $3, $4, NULLIF($5, '')::uuid)
  ON CONFLICT (platform, token) DO UPDATE SET session_id = EXCLUDED.session_id, updated_at = now()
  WHERE devices.user_id = EXCLUDED.user_id
  RETURNING id, user_id, platform, token, created_at, updated_at)
SELECT id::text, user_id::text, platform, token, rfc3339(created_at) AS created_at,
       rfc3339(updated_at) AS updated_at FROM up)";

constexpr std::string_view kTrimDevices = R"(
DELETE FROM devices WHERE user_id = $1 AND id NOT IN (
  SELECT id FROM devices WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2))";

constexpr std::string_view kListDevices = R"(
SELECT id::text, user_id::text, platform, token, rfc3339(created_at) AS created_at,
       rfc3339(updated_at) AS updated_at
FROM devices WHERE user_id = $1 ORDER BY created_at, id)";

constexpr std::string_view kDeleteDevice = "DELETE FROM devices WHERE id = $1 AND user_id = $2";

// notifications_user_created_idx (000003). created_at's exact value (in
// microseconds) goes into the cursor. The page and the unread count come from one
// statement, so from one snapshot: a notification inserted between two statements
// could otherwise be counted but not listed. An empty page is one row whose id is
// NULL, carrying the count.
constexpr std::string_view kListInbox = R"(
WITH page AS (
  SELECT id, kind, title, body, data, read_at, created_at
  FROM notifications
  WHERE user_id = $1
    AND ($2::bigint IS NULL OR
         (created_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
    AND (NOT $4::bool OR read_at IS NULL)
  ORDER BY created_at DESC, id DESC LIMIT $5),
unread AS (SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL)
SELECT page.id::text, page.kind, page.title, page.body, page.data::text AS data,
       page.read_at IS NOT NULL AS read, rfc3339(page.created_at) AS created_at,
       (extract(epoch FROM page.created_at) * 1000000)::bigint AS created_at_us,
       unread.n AS unread_count
FROM unread LEFT JOIN page ON true
ORDER BY page.created_at DESC, page.id DESC)";

constexpr std::string_view kMarkRead = R"(
UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND user_id = $2)";

constexpr std::string_view kMarkAllRead =
    "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL";

constexpr std::string_view kGetPrefs = R"(
SELECT push_enabled, show_previews, quiet_start, quiet_end, quiet_timezone, locale, timezone
FROM notification_preferences WHERE user_id = $1)";

constexpr std::string_view kGetMutes = R"(
SELECT conversation_id, rfc3339(until) AS until FROM muted_conversations
WHERE user_id = $1 AND (until IS NULL OR until > now()) ORDER BY conversation_id)";

constexpr std::string_view kPutPrefs = R"(
INSERT INTO notification_preferences (user_id, push_enabled, show_previews, quiet_start,
                                      quiet_end, quiet_timezone, locale, timezone, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
ON CONFLICT (user_id) DO UPDATE SET push_enabled = EXCLUDED.push_enabled,
  show_previews = EXCLUDED.show_previews, quiet_start = EXCLUDED.quiet_start,
  quiet_end = EXCLUDED.quiet_end, quiet_timezone = EXCLUDED.quiet_timezone,
  locale = EXCLUDED.locale, timezone = EXCLUDED.timezone, updated_at = now())";

constexpr std::string_view kClearMutes = "DELETE FROM muted_conversations WHERE user_id = $1";

constexpr std::string_view kInsertMutes = R"(
INSERT INTO muted_conversations (user_id, conversation_id, until)
SELECT $1, c, u::timestamptz FROM unnest($2::text[], $3::text[]) AS t(c, u)
ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = EXCLUDED.until)";

constexpr std::string_view kListDeadLetters = R"(
SELECT id::text, channel, user_id::text AS user_id, device_id::text AS device_id, platform,
       payload::text AS payload, attempts, last_error, event_id, rfc3339(created_at) AS created_at,
       rfc3339(redriven_at) AS redriven_at
FROM dead_letters
WHERE ($1::uuid IS NULL OR id < $1::uuid) AND ($2::bool OR redriven_at IS NULL)
ORDER BY id DESC LIMIT $3)";

constexpr std::string_view kRedrive = R"(
WITH picked AS (
  SELECT id FROM dead_letters
  WHERE redriven_at IS NULL AND (cardinality($1::uuid[]) = 0 OR id = ANY($1::uuid[]))
  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
d AS (
  UPDATE dead_letters SET redriven_at = now() FROM picked WHERE dead_letters.id = picked.id
  RETURNING dead_letters.channel, dead_letters.user_id, dead_letters.device_id,
            dead_letters.payload, dead_letters.event_id)
INSERT INTO delivery_queue (id, channel, user_id, payload, msg_count, device_ids, state, due_at,
                            event_id)
SELECT gen_random_uuid(), channel, user_id, payload,
       GREATEST(1, COALESCE((payload->>'count')::int, 1)),
       CASE WHEN device_id IS NULL THEN NULL ELSE ARRAY[device_id] END, 'retry', now(), event_id
FROM d)";

constexpr std::string_view kListPoison = R"(
SELECT id, stream, entry_id, event_id, event_type, reason, raw, rfc3339(created_at) AS created_at
FROM poison_events ORDER BY id DESC LIMIT $1)";

}  // namespace

json::object DeviceJson(const Device& d) {
  return {{"id", d.id},
          {"platform", d.platform},
          {"token", d.token},
          {"created_at", d.created_at},
          {"updated_at", d.updated_at}};
}

Task<Result<Device>> UpsertDevice(pg::Pool& pool, const std::string& user_id,
                                  const std::string& session_id, const std::string& platform,
                                  const std::string& token) {
  const std::string id = NewUuidV7();
  co_return co_await pool.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<Device>> {
        auto r = co_await c.Query(kUpsertDevice, id, user_id, platform, token, session_id);
        if (!r) co_return std::move(r).error();
        if (r->Rows() != 1) {
          co_return Error::Conflict(
              "this push token is registered to another account; it moves only once that "
              "account signs out on the device or removes it");
        }
        Device d = DeviceFromRow(*r, 0);
        auto trim = co_await c.Query(kTrimDevices, user_id, kMaxDevicesPerUser);
        if (!trim) co_return std::move(trim).error();
        co_return d;
      });
}

Task<Result<std::vector<Device>>> ListDevices(pg::Pool& pool, const std::string& user_id) {
  auto r = co_await pool.Query(kListDevices, user_id);
  if (!r) co_return std::move(r).error();
  std::vector<Device> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) out.push_back(DeviceFromRow(*r, i));
  co_return out;
}

Task<Result<bool>> DeleteDevice(pg::Pool& pool, const std::string& user_id,
                                const std::string& device_id) {
  auto r = co_await pool.Query(kDeleteDevice, device_id, user_id);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows() > 0;
}

std::optional<InboxCursor> ParseInboxCursor(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (IsUuid(text)) {
    // An id cursor of an earlier release: the UUIDv7's 48-bit millisecond time.
    std::int64_t ms = 0;
    for (char c : text.substr(0, 13)) {
      if (c != '-') ms = ms * 16 + hex(c);
    }
    return InboxCursor{ms * 1000, std::string(text)};
  }
  const auto sep = text.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 18) return std::nullopt;
  const std::string_view at = text.substr(0, sep);
  const std::string_view id = text.substr(sep + 1);
  if (!IsUuid(id)) return std::nullopt;
  std::int64_t us = 0;
  for (char c : at) {
    if (c < '0' || c > '9') return std::nullopt;
    us = us * 10 + (c - '0');  // at most 18 digits: no overflow
  }
  return InboxCursor{us, std::string(id)};
}

std::string FormatInboxCursor(const InboxCursor& cursor) {
  return std::to_string(cursor.created_at_us) + "_" + cursor.id;
}

Task<Result<InboxPage>> ListInbox(pg::Pool& pool, const std::string& user_id, int limit,
                                  const std::optional<InboxCursor>& cursor, bool unread_only) {
  std::optional<std::int64_t> after_us;
  std::optional<std::string> after_id;
  if (cursor) {
    after_us = cursor->created_at_us;
    after_id = cursor->id;
  }
  auto r = co_await pool.Query(kListInbox, user_id, after_us, after_id, unread_only, limit + 1);
  if (!r) co_return std::move(r).error();
  const pg::PgResult& rows = *r;
  InboxPage page;
  page.unread_count = rows.GetInt64(0, "unread_count");
  const int listed = rows.IsNull(0, "id") ? 0 : rows.Rows();
  const int n = std::min(listed, limit);
  for (int i = 0; i < n; ++i) {
    page.notifications.push_back(json::object{{"id", rows.GetString(i, "id")},
                                              {"kind", rows.GetString(i, "kind")},
                                              {"title", rows.GetString(i, "title")},
                                              {"body", rows.GetString(i, "body")},
                                              {"data", ParseOrEmpty(rows.GetString(i, "data"))},
                                              {"read", rows.GetBool(i, "read")},
                                              {"created_at", rows.GetString(i, "created_at")}});
  }
  if (listed > limit && n > 0) {
    page.next_cursor =
        FormatInboxCursor(InboxCursor{rows.GetInt64(n - 1, "created_at_us"), S(rows, n - 1, "id")});
  }
  co_return page;
}

Task<Result<bool>> MarkRead(pg::Pool& pool, const std::string& user_id, const std::string& id) {
  auto r = co_await pool.Query(kMarkRead, id, user_id);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows() > 0;
}

Task<Result<std::int64_t>> MarkAllRead(pg::Pool& pool, const std::string& user_id) {
  auto r = co_await pool.Query(kMarkAllRead, user_id);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows();
}

json::object PreferencesJson(const Preferences& p) {
  json::object o{{"push_enabled", p.push_enabled},
                 {"show_previews", p.show_previews},
                 {"locale", p.locale},
                 {"timezone", p.timezone}};
  if (p.quiet) {
    o["quiet_hours"] = json::object{{"start", FormatClock(p.quiet->start)},
                                    {"end", FormatClock(p.quiet->end)},
                                    {"timezone", p.quiet->timezone}};
  } else {
    o["quiet_hours"] = nullptr;
  }
  json::array muted;
  for (const Mute& m : p.muted) {
    json::object e{{"conversation_id", m.conversation_id}};
    if (m.until) {
      e["until"] = FormatRfc3339Ms(*m.until);
    } else {
      e["until"] = nullptr;
    }
    muted.push_back(std::move(e));
  }
  o["muted_conversations"] = std::move(muted);
  return o;
}

Task<Result<Preferences>> GetPreferences(pg::Pool& pool, const std::string& user_id) {
  std::vector<pg::Statement> st;
  st.push_back(pg::Statement::Of(kGetPrefs, user_id));
  st.push_back(pg::Statement::Of(kGetMutes, user_id));
  auto r = co_await pool.Pipeline(std::move(st));
  if (!r) co_return std::move(r).error();
  Preferences p;
  const pg::PgResult& row = (*r)[0];
  if (row.Rows() == 1) {
    p.push_enabled = row.GetBool(0, "push_enabled");
    p.show_previews = row.GetBool(0, "show_previews");
    p.locale = S(row, 0, "locale");
    p.timezone = S(row, 0, "timezone");
    if (!row.IsNull(0, "quiet_start") && !row.IsNull(0, "quiet_end")) {
      p.quiet =
          QuietHours{row.GetInt32(0, "quiet_start"), row.GetInt32(0, "quiet_end"),
                     row.IsNull(0, "quiet_timezone") ? p.timezone : S(row, 0, "quiet_timezone")};
    }
  }
  const pg::PgResult& mutes = (*r)[1];
  for (int i = 0; i < mutes.Rows(); ++i) {
    Mute m{S(mutes, i, "conversation_id"), std::nullopt};
    if (!mutes.IsNull(i, "until")) m.until = ParseRfc3339(mutes.GetString(i, "until"));
    p.muted.push_back(std::move(m));
  }
  co_return p;
}

Task<Status> PutPreferences(pg::Pool& pool, const std::string& user_id, const Preferences& p) {
  std::optional<int> qs, qe;
  std::optional<std::string> qtz;
  if (p.quiet) {
    qs = p.quiet->start;
    qe = p.quiet->end;
    qtz = p.quiet->timezone;
  }
  pg::ArrayBuilder convs, untils;
  for (const Mute& m : p.muted) {
    convs.Add(m.conversation_id);
    if (m.until) {
      untils.Add(FormatRfc3339Ms(*m.until));
    } else {
      untils.AddNull();
    }
  }
  const std::string conv_arr = convs.str();
  const std::string until_arr = untils.str();
  auto r = co_await pool.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
        std::vector<pg::Statement> st;
        st.push_back(pg::Statement::Of(kPutPrefs, user_id, p.push_enabled, p.show_previews, qs, qe,
                                       qtz, p.locale, p.timezone));
        st.push_back(pg::Statement::Of(kClearMutes, user_id));
        st.push_back(pg::Statement::Of(kInsertMutes, user_id, conv_arr, until_arr));
        auto res = co_await c.Pipeline(std::move(st));
        if (!res) co_return std::move(res).error();
        co_return true;
      });
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<json::object>> ListDeadLetters(pg::Pool& pool, int limit,
                                           const std::optional<std::string>& cursor,
                                           bool include_redriven) {
  auto r = co_await pool.Query(kListDeadLetters, cursor, include_redriven, limit + 1);
  if (!r) co_return std::move(r).error();
  json::array items;
  const int n = std::min(r->Rows(), limit);
  auto opt = [&](int i, std::string_view col) -> json::value {
    if (r->IsNull(i, col)) return nullptr;
    return json::string(r->GetString(i, col));
  };
  for (int i = 0; i < n; ++i) {
    json::value payload = ParseOrEmpty(r->GetString(i, "payload"));
    // One-time codes never leave through the admin API.
    if (payload.is_object() && payload.as_object().contains("code")) {
      payload.as_object()["code"] = "[redacted]";
    }
    items.push_back(json::object{{"id", r->GetString(i, "id")},
                                 {"channel", r->GetString(i, "channel")},
                                 {"user_id", opt(i, "user_id")},
                                 {"device_id", opt(i, "device_id")},
                                 {"platform", opt(i, "platform")},
                                 {"payload", std::move(payload)},
                                 {"attempts", r->GetInt64(i, "attempts")},
                                 {"last_error", r->GetString(i, "last_error")},
                                 {"event_id", opt(i, "event_id")},
                                 {"created_at", r->GetString(i, "created_at")},
                                 {"redriven_at", opt(i, "redriven_at")}});
  }
  json::object out{{"dead_letters", std::move(items)}};
  if (r->Rows() > limit && n > 0) {
    out["next_cursor"] = r->GetString(n - 1, "id");
  } else {
    out["next_cursor"] = nullptr;
  }
  co_return out;
}

Task<Result<std::int64_t>> RedriveDeadLetters(pg::Pool& pool, const std::vector<std::string>& ids,
                                              int limit) {
  const std::string arr = pg::ToArray(ids);
  auto r = co_await pool.Query(kRedrive, arr, limit);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows();
}

Task<Result<json::object>> ListPoisonEvents(pg::Pool& pool, int limit) {
  auto r = co_await pool.Query(kListPoison, limit);
  if (!r) co_return std::move(r).error();
  json::array items;
  for (int i = 0; i < r->Rows(); ++i) {
    items.push_back(
        json::object{{"id", r->GetInt64(i, "id")},
                     {"stream", r->GetString(i, "stream")},
                     {"entry_id", r->GetString(i, "entry_id")},
                     {"event_id", r->IsNull(i, "event_id")
                                      ? json::value(nullptr)
                                      : json::value(json::string(r->GetString(i, "event_id")))},
                     {"event_type", r->IsNull(i, "event_type")
                                        ? json::value(nullptr)
                                        : json::value(json::string(r->GetString(i, "event_type")))},
                     {"reason", r->GetString(i, "reason")},
                     {"raw", r->GetString(i, "raw")},
                     {"created_at", r->GetString(i, "created_at")}});
  }
  co_return json::object{{"poison_events", std::move(items)}};
}

}  // namespace tchat::notification
