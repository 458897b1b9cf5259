#include "processor.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/array.hpp>
#include <tchat/core/uuid.hpp>

#include "events.hpp"
#include "metrics.hpp"

namespace tchat::notification {

namespace {

constexpr std::string_view kDedupe = R"(
INSERT INTO processed_events (consumer, event_id)
SELECT $1, e FROM unnest($2::text[]) AS e ON CONFLICT DO NOTHING RETURNING event_id)";

constexpr std::string_view kLoadPrefs = R"(
SELECT user_id::text AS user_id, push_enabled, show_previews, quiet_start, quiet_end,
       quiet_timezone, locale, timezone
FROM notification_preferences WHERE user_id = ANY($1::uuid[]))";

constexpr std::string_view kLoadMutes = R"(
SELECT user_id::text AS user_id, conversation_id FROM muted_conversations
WHERE user_id = ANY($1::uuid[]) AND conversation_id = ANY($2::text[])
  AND (until IS NULL OR until > now()))";

constexpr std::string_view kLoadDevices = R"(
SELECT id::text AS id, user_id::text AS user_id, platform, token FROM devices
WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, created_at, id)";

constexpr std::string_view kInsertInbox = R"(
INSERT INTO notifications (id, user_id, kind, title, body, data, event_id, created_at)
SELECT i::uuid, u::uuid, k, t, b, d::jsonb, e, a::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS x(i, u, k, t, b, d, e, a))";

// Message entries (kind "message"): at most one unread entry per user and
// conversation (notifications_message_unread_idx, migration 000003). The batch's
// messages are merged into the entries that exist, locked first so that the
// merge (count, latest message) is computed from what is committed and nobody
// changes it meanwhile (marking it read waits for this transaction).
// One index probe per key (LATERAL with LIMIT 1, which the planner cannot turn
// into a join), whatever the statistics say: a young, growing table without
// them gets a hash join that reads every unread entry of every user for each
// batch, so that a batch costs more the longer the service runs. Rows are
// locked in the order of the keys, which the caller sorts, so that concurrent
// batches lock in the same order.
constexpr std::string_view kLockMessageInbox = R"(
SELECT n.id::text AS id, n.user_id::text AS user_id, n.conversation_id, n.render, n.count
FROM unnest($1::uuid[], $2::text[]) AS k(u, c)
CROSS JOIN LATERAL (
  SELECT id, user_id, data->>'conversation_id' AS conversation_id,
         COALESCE(render, '{}'::jsonb)::text AS render,
         CASE WHEN jsonb_typeof(data->'count') = 'number' THEN (data->>'count')::bigint ELSE 1 END
           AS count
  FROM notifications
  WHERE user_id = k.u AND data->>'conversation_id' = k.c AND kind = 'message' AND read_at IS NULL
  LIMIT 1
  FOR UPDATE) n)";

// A message entry moves to the top of the inbox: its created_at becomes its
// latest message's time.
constexpr std::string_view kUpdateMessageInbox = R"(
UPDATE notifications n
SET title = x.t, body = x.b, data = x.d::jsonb, render = x.r::jsonb, event_id = x.e,
    created_at = GREATEST(n.created_at, x.a::timestamptz)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS x(i, t, b, d, r, e, a)
WHERE n.id = x.i::uuid)";

// Keys another transaction created an entry for since the lock query come back
// missing from RETURNING (ON CONFLICT waited for that transaction to commit):
// they are merged into that entry in another round.
constexpr std::string_view kInsertMessageInbox = R"(
INSERT INTO notifications (id, user_id, kind, title, body, data, render, event_id, created_at)
SELECT i::uuid, u::uuid, 'message', t, b, d::jsonb, r::jsonb, e, a::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS x(i, u, t, b, d, r, e, a)
ON CONFLICT (user_id, (data->>'conversation_id')) WHERE kind = 'message' AND read_at IS NULL
DO NOTHING
RETURNING user_id::text AS user_id, data->>'conversation_id' AS conversation_id)";

constexpr std::string_view kInsertSending = R"(
INSERT INTO delivery_queue (id, channel, user_id, collapse_key, payload, device_ids, state, due_at,
                            event_id)
SELECT i::uuid, c, NULLIF(u, '')::uuid, NULLIF(k, ''), p::jsonb, d::uuid[], 'sending',
       now() + $8::float8 * interval '1 millisecond', e
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS x(i, c, u, k, p, d, e))";

constexpr std::string_view kUpsertWaiting = R"(
INSERT INTO delivery_queue (id, channel, user_id, collapse_key, payload, msg_count, state, due_at,
                            event_id)
SELECT i::uuid, 'push', u::uuid, k, p::jsonb, n, 'waiting',
       now() + $7::float8 * interval '1 millisecond', e
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
  AS x(i, u, k, p, n, e)
ON CONFLICT (user_id, collapse_key) WHERE state = 'waiting' AND collapse_key IS NOT NULL
DO UPDATE SET msg_count = delivery_queue.msg_count + EXCLUDED.msg_count,
  -- The newest message (by seq, then time) is the one shown, whichever batch
  -- commits last.
  payload = CASE WHEN (COALESCE((EXCLUDED.payload->>'seq')::bigint, 0),
                       COALESCE((EXCLUDED.payload->>'event_at')::bigint, 0)) >=
                      (COALESCE((delivery_queue.payload->>'seq')::bigint, 0),
                       COALESCE((delivery_queue.payload->>'event_at')::bigint, 0))
                 THEN EXCLUDED.payload ELSE delivery_queue.payload END,
  event_id = EXCLUDED.event_id)";

constexpr std::string_view kInsertPoison = R"(
INSERT INTO poison_events (stream, entry_id, event_id, event_type, reason, raw)
SELECT $1, en, NULLIF(ei, ''), NULLIF(et, ''), r, w
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(en, ei, et, r, w)
ON CONFLICT (stream, entry_id) DO NOTHING)";

using Decoded = std::variant<std::monostate, OtpRequested, MessageCreated, PaymentEvent>;

struct Parsed {
  std::string entry_id;
  Envelope env;
  EventKind kind = EventKind::kUnknown;
  Decoded decoded;
};

struct Poison {
  std::string entry_id;
  std::string event_id;
  std::string type;
  std::string reason;
  std::string raw;
};

// Valid UTF-8, no NUL, at most ~4 KB: safe for a text column.
std::string SafeText(std::string_view s) {
  std::string out = TruncateUtf8(s.substr(0, 4096), 4096);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

std::string_view TypeLabel(const Parsed& p) {
  switch (p.kind) {
    case EventKind::kOtpRequested:
    case EventKind::kMessageCreated:
      return p.env.type;
    case EventKind::kPayment:
      return p.env.type.size() <= 64 ? std::string_view(p.env.type) : "payment";
    default:
      return "other";
  }
}

// Parses one entry; on failure fills `poison`.
std::optional<Parsed> ParseEntry(const redis::StreamEntry& entry, Poison& poison) {
  poison.entry_id = entry.id;
  const std::string* raw = entry.Field(kEventField);
  if (raw == nullptr) {
    poison.reason = "no \"event\" field";
    std::string all;
    for (const auto& [k, v] : entry.fields) all += k + "=" + v + " ";
    poison.raw = SafeText(all);
    return std::nullopt;
  }
  poison.raw = SafeText(*raw);
  if (raw->find("\\u0000") != std::string::npos) {
    poison.reason = "contains a NUL character";
    return std::nullopt;
  }
  auto env = ParseEnvelope(*raw);
  if (!env) {
    poison.reason = SafeText(env.error().message);
    return std::nullopt;
  }
  poison.event_id = SafeText(env->id);
  poison.type = SafeText(env->type);
  Parsed p;
  p.entry_id = entry.id;
  p.kind = ClassifyEventType(env->type);
  Status st = Ok();
  switch (p.kind) {
    case EventKind::kOtpRequested: {
      auto d = DecodeOtpRequested(env->data);
      if (d)
        p.decoded = std::move(*d);
      else
        st = std::move(d).error();
      break;
    }
    case EventKind::kMessageCreated: {
      auto d = DecodeMessageCreated(env->data);
      if (d)
        p.decoded = std::move(*d);
      else
        st = std::move(d).error();
      break;
    }
    case EventKind::kPayment: {
      auto d = DecodePaymentEvent(env->type, env->data);
      if (d)
        p.decoded = std::move(*d);
      else
        st = std::move(d).error();
      break;
    }
    case EventKind::kIgnored:
      break;
    case EventKind::kUnknown:
      st = Error::InvalidArgument("unknown event type");
      break;
  }
  if (!st) {
    poison.reason = SafeText(st.error().message);
    return std::nullopt;
  }
  p.env = std::move(*env);
  return p;
}

struct UserData {
  RecipientView view;
  std::vector<Device> devices;
};

// User ids as PostgreSQL prints uuids (events may spell them in upper case), so
// that they match the rows the database returns.
std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The messages of one batch for one (user, conversation) inbox entry.
struct MessageInbox {
  json::object render;  // the latest message's payload (MessageOrder)
  std::pair<std::int64_t, std::int64_t> order{};
  std::int64_t count = 0;
  std::int64_t latest_at_ms = 0;  // the newest event time: the entry's created_at
  std::string event_id;           // of the latest message
};
// (user id in lower case, conversation id)
using MessageInboxKey = std::pair<std::string, std::string>;

void Absorb(MessageInbox& into, const json::object& payload, std::string_view event_id,
            std::int64_t at_ms) {
  const auto order = MessageOrder(payload);
  if (into.count == 0 || order >= into.order) {
    into.render = payload;
    into.order = order;
    into.event_id = std::string(event_id);
  }
  into.count += 1;
  into.latest_at_ms = std::max(into.latest_at_ms, at_ms);
}

// Writes the batch's message inbox entries: merges each into the user's unread
// entry of that conversation, or creates it. Runs inside the batch's transaction
// (exactly once per event, with processed_events). Keys are handled in sorted
// order, so concurrent batches lock entries in the same order.
Task<Status> WriteMessageInbox(pg::Connection& c, std::map<MessageInboxKey, MessageInbox> pending) {
  // Each round either writes every key or finds entries created concurrently
  // since its lock query; a handful of rounds means something keeps racing.
  for (int round = 0; round < 5 && !pending.empty(); ++round) {
    pg::ArrayBuilder k_user, k_conv;
    for (const auto& [key, m] : pending) {
      k_user.Add(key.first);
      k_conv.Add(key.second);
    }
    auto locked = co_await c.Query(kLockMessageInbox, k_user.str(), k_conv.str());
    if (!locked) co_return std::move(locked).error();
    struct Existing {
      std::string id;
      json::object render;
      std::int64_t count = 1;
    };
    std::map<MessageInboxKey, Existing> existing;
    for (int i = 0; i < locked->Rows(); ++i) {
      Existing e;
      e.id = std::string(locked->GetString(i, "id"));
      boost::system::error_code ec;
      json::value r = json::parse(locked->GetString(i, "render"), ec);
      if (!ec && r.is_object()) e.render = std::move(r.as_object());
      e.count = std::max<std::int64_t>(1, locked->GetInt64(i, "count"));
      existing.emplace(MessageInboxKey{std::string(locked->GetString(i, "user_id")),
                                       std::string(locked->GetString(i, "conversation_id"))},
                       std::move(e));
    }
    pg::ArrayBuilder u_id, u_title, u_body, u_data, u_render, u_event, u_at;
    pg::ArrayBuilder i_id, i_user, i_title, i_body, i_data, i_render, i_event, i_at;
    for (const auto& [key, m] : pending) {
      const std::string at = FormatRfc3339Ms(m.latest_at_ms);
      if (auto it = existing.find(key); it != existing.end()) {
        const Existing& e = it->second;
        // The entry shows the latest message, whichever batch brought it.
        const bool newer = e.render.empty() || m.order >= MessageOrder(e.render);
        const json::object& render = newer ? m.render : e.render;
        MessageInboxText text = RenderMessageInbox(render, e.count + m.count);
        u_id.Add(e.id);
        u_title.Add(text.title);
        u_body.Add(text.body);
        u_data.Add(ToJson(text.data));
        u_render.Add(ToJson(render));
        u_event.Add(m.event_id);
        u_at.Add(at);
      } else {
        MessageInboxText text = RenderMessageInbox(m.render, m.count);
        i_id.Add(NewUuidV7At(FromUnixMillis(m.latest_at_ms)));
        i_user.Add(key.first);
        i_title.Add(text.title);
        i_body.Add(text.body);
        i_data.Add(ToJson(text.data));
        i_render.Add(ToJson(m.render));
        i_event.Add(m.event_id);
        i_at.Add(at);
      }
    }
    std::vector<pg::Statement> st;
    if (u_id.size() > 0) {
      st.push_back(pg::Statement::Of(kUpdateMessageInbox, u_id.str(), u_title.str(), u_body.str(),
                                     u_data.str(), u_render.str(), u_event.str(), u_at.str()));
    }
    const bool inserting = i_id.size() > 0;
    if (inserting) {
      st.push_back(pg::Statement::Of(kInsertMessageInbox, i_id.str(), i_user.str(), i_title.str(),
                                     i_body.str(), i_data.str(), i_render.str(), i_event.str(),
                                     i_at.str()));
    }
    auto w = co_await c.Pipeline(std::move(st));
    if (!w) co_return std::move(w).error();
    std::map<MessageInboxKey, MessageInbox> again;
    if (inserting) {
      const pg::PgResult& ins = w->back();
      std::set<MessageInboxKey> inserted;
      for (int i = 0; i < ins.Rows(); ++i) {
        inserted.emplace(std::string(ins.GetString(i, "user_id")),
                         std::string(ins.GetString(i, "conversation_id")));
      }
      for (auto& [key, m] : pending) {
        if (!existing.contains(key) && !inserted.contains(key)) again.emplace(key, std::move(m));
      }
    }
    pending = std::move(again);
  }
  if (!pending.empty()) {
    co_return Error::Unavailable("message inbox entries kept changing; the batch will be retried");
  }
  co_return Ok();
}

}  // namespace

std::string PresenceKey(std::string_view prefix, std::string_view user_id) {
  return std::string(prefix) + std::string(user_id);
}

Task<Status> EventProcessor::RecordPoison(std::string_view stream, const redis::StreamEntry& entry,
                                          std::string_view reason) {
  Poison p;
  (void)ParseEntry(entry, p);
  const std::string s(stream);
  pg::ArrayBuilder en, ei, et, re, rw;
  en.Add(entry.id);
  ei.Add(p.event_id);
  et.Add(p.type);
  re.Add(SafeText(reason));
  rw.Add(p.raw);
  const std::string a1 = en.str(), a2 = ei.str(), a3 = et.str(), a4 = re.str(), a5 = rw.str();
  auto r = co_await pool_.Query(kInsertPoison, s, a1, a2, a3, a4, a5);
  if (!r) co_return std::move(r).error();
  Metrics::Get().events.With({s, "other", "poison"}).Inc();
  co_return Ok();
}

Task<Result<BatchResult>> EventProcessor::Process(std::string_view stream_view,
                                                  const std::vector<redis::StreamEntry>& entries) {
  Metrics& metrics = Metrics::Get();
  const std::string stream(stream_view);
  std::vector<Parsed> events;
  std::vector<Poison> poison;
  BatchResult result;
  std::size_t ignored = 0;
  for (const auto& e : entries) {
    result.ack_ids.push_back(e.id);
    if (e.fields.empty()) {  // trimmed (XDEL/MAXLEN) while pending: nothing to do
      ++ignored;
      continue;
    }
    Poison p;
    auto parsed = ParseEntry(e, p);
    if (!parsed) {
      poison.push_back(std::move(p));
      continue;
    }
    if (parsed->kind == EventKind::kIgnored) {
      ++ignored;
      continue;
    }
    events.push_back(std::move(*parsed));
  }

  // Presence of message recipients, read before the transaction so that no
  // database connection waits on Redis.
  std::unordered_set<std::string> online;
  {
    std::vector<std::string> users;
    std::unordered_set<std::string> seen;
    for (const Parsed& p : events) {
      if (const auto* m = std::get_if<MessageCreated>(&p.decoded)) {
        for (const auto& r : m->recipients) {
          if (r != m->sender_id && seen.insert(r).second) users.push_back(r);
        }
      }
    }
    if (!users.empty()) {
      redis::RedisBatch batch;
      std::vector<std::string> keys;
      keys.reserve(users.size());
      for (const auto& u : users) keys.push_back(PresenceKey(settings_.presence_prefix, u));
      const std::string now_ms = std::to_string(UnixMillis(std::chrono::system_clock::now()));
      for (const auto& k : keys) batch.Add("ZCOUNT", k, now_ms, "+inf");
      auto replies = co_await redis_.Pipeline(batch);
      if (!replies) co_return std::move(replies).error();
      std::vector<std::size_t> plain;  // keys that are not sorted sets
      for (std::size_t i = 0; i < users.size() && i < replies->size(); ++i) {
        const auto& rep = (*replies)[i];
        if (rep.IsError() && rep.str.starts_with("WRONGTYPE")) {
          plain.push_back(i);
        } else if (rep.IsError()) {
          co_return Error::Unavailable("presence lookup: " + rep.str);
        } else if (rep.IsInteger() && rep.integer > 0) {
          online.insert(users[i]);
        }
      }
      if (!plain.empty()) {
        redis::RedisBatch exists;
        for (std::size_t i : plain) exists.Add("EXISTS", keys[i]);
        auto r2 = co_await redis_.Pipeline(exists);
        if (!r2) co_return std::move(r2).error();
        for (std::size_t j = 0; j < plain.size() && j < r2->size(); ++j) {
          if ((*r2)[j].IsInteger() && (*r2)[j].integer > 0) online.insert(users[plain[j]]);
        }
      }
    }
  }

  struct Counts {
    std::size_t processed = 0, duplicate = 0;
    std::map<std::string, std::size_t> by_type;
    std::map<std::string, std::size_t> dup_by_type;
    std::map<std::string, std::size_t> suppressed;
    std::size_t inbox = 0;
  };
  Counts counts;
  const auto now = std::chrono::system_clock::now();
  const RuleOptions rule_options{settings_.max_push_age};
  const bool collapse = settings_.collapse_window.count() > 0;
  const double lease_ms = static_cast<double>(settings_.send_lease.count());
  const double window_ms = static_cast<double>(settings_.collapse_window.count());

  const auto lease_from = std::chrono::steady_clock::now();
  auto tx = co_await pool_.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<BatchResult>> {
        counts = Counts{};
        BatchResult out;
        out.ack_ids = result.ack_ids;
        // 1. De-duplicate by event id.
        std::vector<std::string> ids;
        ids.reserve(events.size());
        for (const Parsed& p : events) ids.push_back(p.env.id);
        std::unordered_set<std::string> fresh;
        if (!ids.empty()) {
          auto d = co_await c.Query(kDedupe, settings_.group, pg::ToArray(ids));
          if (!d) co_return std::move(d).error();
          for (int i = 0; i < d->Rows(); ++i) fresh.emplace(d->GetString(i, 0));
        }
        std::vector<const Parsed*> todo;
        std::unordered_set<std::string> taken;  // the same id twice in one batch
        for (const Parsed& p : events) {
          if (fresh.contains(p.env.id) && taken.insert(p.env.id).second) {
            todo.push_back(&p);
            ++counts.by_type[std::string(TypeLabel(p))];
          } else {
            ++counts.dup_by_type[std::string(TypeLabel(p))];
          }
        }

        // 2. What is known about the users these events name.
        std::vector<std::string> users;
        std::vector<std::string> conversations;
        {
          std::set<std::string> u, cv;
          for (const Parsed* p : todo) {
            if (const auto* m = std::get_if<MessageCreated>(&p->decoded)) {
              for (const auto& r : m->recipients) {
                if (r != m->sender_id && !online.contains(r)) u.insert(r);
              }
              cv.insert(m->conversation_id);
            } else if (const auto* pay = std::get_if<PaymentEvent>(&p->decoded)) {
              for (const auto& party : pay->parties) u.insert(party.user_id);
            } else if (const auto* otp = std::get_if<OtpRequested>(&p->decoded)) {
              if (!otp->user_id.empty()) u.insert(otp->user_id);
            }
          }
          users.assign(u.begin(), u.end());
          conversations.assign(cv.begin(), cv.end());
        }
        std::unordered_map<std::string, UserData> data;
        std::set<std::pair<std::string, std::string>> mutes;
        if (!users.empty()) {
          const std::string user_arr = pg::ToArray(users);
          std::vector<pg::Statement> st;
          st.push_back(pg::Statement::Of(kLoadPrefs, user_arr));
          st.push_back(pg::Statement::Of(kLoadMutes, user_arr, pg::ToArray(conversations)));
          st.push_back(pg::Statement::Of(kLoadDevices, user_arr));
          auto r = co_await c.Pipeline(std::move(st));
          if (!r) co_return std::move(r).error();
          const pg::PgResult& prefs = (*r)[0];
          for (int i = 0; i < prefs.Rows(); ++i) {
            UserSettings s;
            s.push_enabled = prefs.GetBool(i, "push_enabled");
            s.show_previews = prefs.GetBool(i, "show_previews");
            s.locale = ParseLocale(prefs.GetString(i, "locale")).value_or(Locale::kEn);
            s.timezone = std::string(prefs.GetString(i, "timezone"));
            if (!prefs.IsNull(i, "quiet_start") && !prefs.IsNull(i, "quiet_end")) {
              s.quiet = QuietHours{prefs.GetInt32(i, "quiet_start"), prefs.GetInt32(i, "quiet_end"),
                                   prefs.IsNull(i, "quiet_timezone")
                                       ? s.timezone
                                       : std::string(prefs.GetString(i, "quiet_timezone"))};
            }
            data[std::string(prefs.GetString(i, "user_id"))].view.settings = std::move(s);
          }
          const pg::PgResult& m = (*r)[1];
          for (int i = 0; i < m.Rows(); ++i) {
            mutes.emplace(std::string(m.GetString(i, "user_id")),
                          std::string(m.GetString(i, "conversation_id")));
          }
          const pg::PgResult& dev = (*r)[2];
          for (int i = 0; i < dev.Rows(); ++i) {
            UserData& ud = data[std::string(dev.GetString(i, "user_id"))];
            ud.devices.push_back(Device{std::string(dev.GetString(i, "id")),
                                        std::string(dev.GetString(i, "user_id")),
                                        std::string(dev.GetString(i, "platform")),
                                        std::string(dev.GetString(i, "token")),
                                        {},
                                        {}});
            ud.view.has_devices = true;
          }
        }
        for (const auto& u : online) data[u].view.online = true;

        // 3. The rules.
        pg::ArrayBuilder in_id, in_user, in_kind, in_title, in_body, in_data, in_event, in_at;
        pg::ArrayBuilder s_id, s_chan, s_user, s_key, s_payload, s_devs, s_event;
        struct Waiting {
          std::string payload;
          std::pair<std::int64_t, std::int64_t> order;  // (seq, event_at) of payload
          int count = 0;
          std::string event_id;
        };
        std::map<std::pair<std::string, std::string>, Waiting> waiting;
        std::map<MessageInboxKey, MessageInbox> message_inbox;
        for (const Parsed* p : todo) {
          std::string current_conv;
          if (const auto* m = std::get_if<MessageCreated>(&p->decoded)) {
            current_conv = m->conversation_id;
          }
          RecipientLookup view = [&](const std::string& uid) -> const RecipientView& {
            UserData& ud = data[uid];
            ud.view.muted = !current_conv.empty() && mutes.contains({uid, current_conv});
            return ud.view;
          };
          Plan plan;
          if (const auto* m = std::get_if<MessageCreated>(&p->decoded)) {
            plan = PlanMessage(p->env, *m, view, now, rule_options);
          } else if (const auto* pay = std::get_if<PaymentEvent>(&p->decoded)) {
            plan = PlanPayment(p->env, *pay, view, now, rule_options);
          } else if (const auto* otp = std::get_if<OtpRequested>(&p->decoded)) {
            std::optional<Locale> user_locale;
            if (!otp->user_id.empty()) {
              auto it = data.find(otp->user_id);
              if (it != data.end()) user_locale = it->second.view.settings.locale;
            }
            plan = PlanOtp(p->env, *otp, user_locale, now);
          }
          for (const auto& s : plan.suppressed) ++counts.suppressed[s.reason];
          for (auto& item : plan.inbox) {
            ++counts.inbox;
            if (!item.collapse_key.empty()) {
              Absorb(message_inbox[{LowerAscii(item.user_id), item.collapse_key}], item.render,
                     p->env.id, UnixMillis(p->env.occurred_at));
              continue;
            }
            // Inbox order is event order (a backlog keeps its chronology).
            in_id.Add(NewUuidV7At(p->env.occurred_at));
            in_at.Add(FormatRfc3339Ms(p->env.occurred_at));
            in_user.Add(item.user_id);
            in_kind.Add(item.kind);
            in_title.Add(item.title);
            in_body.Add(item.body);
            in_data.Add(ToJson(item.data));
            in_event.Add(p->env.id);
          }
          for (auto& push : plan.pushes) {
            if (push.collapsible && collapse) {
              Waiting& w = waiting[{push.user_id, push.collapse_key}];
              const auto order = std::make_pair(push.payload.at("seq").as_int64(),
                                                push.payload.at("event_at").as_int64());
              if (w.count == 0 || order >= w.order) {
                w.payload = ToJson(push.payload);
                w.order = order;
              }
              w.count += 1;
              w.event_id = p->env.id;
              continue;
            }
            QueuedDelivery q;
            q.id = NewUuidV7();
            q.channel = "push";
            q.user_id = push.user_id;
            q.event_id = p->env.id;
            const auto& devs = data[push.user_id].devices;
            std::vector<std::string> dev_ids;
            for (const auto& d : devs) dev_ids.push_back(d.id);
            s_id.Add(q.id);
            s_chan.Add("push");
            s_user.Add(push.user_id);
            s_key.Add(push.collapse_key);
            s_payload.Add(ToJson(push.payload));
            s_devs.Add(pg::ToArray(dev_ids));
            s_event.Add(p->env.id);
            q.payload = std::move(push.payload);
            q.device_ids = std::move(dev_ids);
            q.devices = devs;
            out.send_now.push_back(std::move(q));
          }
          for (auto& sms : plan.sms) {
            QueuedDelivery q;
            q.id = NewUuidV7();
            q.channel = "sms";
            q.event_id = p->env.id;
            s_id.Add(q.id);
            s_chan.Add("sms");
            s_user.Add("");
            s_key.Add("");
            s_payload.Add(ToJson(sms.payload));
            s_devs.AddNull();
            s_event.Add(p->env.id);
            q.payload = std::move(sms.payload);
            out.send_now.push_back(std::move(q));
          }
        }

        // 4. Writes: message inbox entries first (they need the entries that
        // exist), then the rest in one round trip.
        if (!message_inbox.empty()) {
          if (Status mi = co_await WriteMessageInbox(c, std::move(message_inbox)); !mi) {
            co_return std::move(mi).error();
          }
        }
        std::vector<pg::Statement> st;
        if (in_id.size() > 0) {
          st.push_back(pg::Statement::Of(kInsertInbox, in_id.str(), in_user.str(), in_kind.str(),
                                         in_title.str(), in_body.str(), in_data.str(),
                                         in_event.str(), in_at.str()));
        }
        if (s_id.size() > 0) {
          st.push_back(pg::Statement::Of(kInsertSending, s_id.str(), s_chan.str(), s_user.str(),
                                         s_key.str(), s_payload.str(), s_devs.str(), s_event.str(),
                                         lease_ms));
        }
        if (!waiting.empty()) {
          pg::ArrayBuilder w_id, w_user, w_key, w_payload, w_count, w_event;
          for (const auto& [key, w] : waiting) {  // sorted: a stable lock order
            w_id.Add(NewUuidV7());
            w_user.Add(key.first);
            w_key.Add(key.second);
            w_payload.Add(w.payload);
            w_count.Add(std::to_string(w.count));
            w_event.Add(w.event_id);
          }
          st.push_back(pg::Statement::Of(kUpsertWaiting, w_id.str(), w_user.str(), w_key.str(),
                                         w_payload.str(), w_count.str(), w_event.str(), window_ms));
          out.has_waiting = true;
        }
        if (!poison.empty()) {
          pg::ArrayBuilder en, ei, et, re, rw;
          for (const Poison& p : poison) {
            en.Add(p.entry_id);
            ei.Add(p.event_id);
            et.Add(p.type);
            re.Add(p.reason);
            rw.Add(p.raw);
          }
          st.push_back(pg::Statement::Of(kInsertPoison, stream, en.str(), ei.str(), et.str(),
                                         re.str(), rw.str()));
        }
        if (!st.empty()) {
          auto w = co_await c.Pipeline(std::move(st));
          if (!w) co_return std::move(w).error();
        }
        co_return out;
      });
  if (!tx) co_return std::move(tx).error();
  for (auto& q : tx->send_now) q.lease_until = lease_from + settings_.send_lease;

  for (const auto& [type, n] : counts.by_type) {
    metrics.events.With({stream, type, "processed"}).Inc(static_cast<double>(n));
  }
  for (const auto& [type, n] : counts.dup_by_type) {
    metrics.events.With({stream, type, "duplicate"}).Inc(static_cast<double>(n));
  }
  if (ignored > 0)
    metrics.events.With({stream, "other", "ignored"}).Inc(static_cast<double>(ignored));
  if (!poison.empty()) {
    metrics.events.With({stream, "other", "poison"}).Inc(static_cast<double>(poison.size()));
    for (const Poison& p : poison) {
      log::Warn("poison event recorded", {{"stream", stream},
                                          {"entry_id", p.entry_id},
                                          {"event_id", p.event_id},
                                          {"reason", p.reason}});
    }
  }
  for (const auto& [reason, n] : counts.suppressed) {
    metrics.suppressed.With({reason}).Inc(static_cast<double>(n));
  }
  if (counts.inbox > 0) metrics.inbox.Inc(static_cast<double>(counts.inbox));
  co_return std::move(*tx);
}

}  // namespace tchat::notification
