#include "audience.hpp"

#include <chrono>

#include <tchat/core/pg/array.hpp>
#include <tchat/core/time.hpp>

namespace tchat::notification {

namespace {

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

UserSettings ReadSettings(const pg::PgResult& prefs, int i) {
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
  return s;
}

}  // namespace

std::string PresenceKey(std::string_view prefix, std::string_view user_id) {
  return std::string(prefix) + std::string(user_id);
}

Task<Result<std::unordered_set<std::string>>> OnlineRecipients(
    redis::RedisClient& redis, std::string_view prefix, const std::vector<ParsedEntry>& events) {
  std::unordered_set<std::string> online;
  std::vector<std::string> users;
  std::unordered_set<std::string> seen;
  for (const ParsedEntry& p : events) {
    if (const auto* m = std::get_if<MessageCreated>(&p.decoded)) {
      for (const auto& r : m->recipients) {
        if (r != m->sender_id && seen.insert(r).second) users.push_back(r);
      }
    }
  }
  if (users.empty()) co_return online;
  redis::RedisBatch batch;
  std::vector<std::string> keys;
  keys.reserve(users.size());
  for (const auto& u : users) keys.push_back(PresenceKey(prefix, u));
  const std::string now_ms = std::to_string(UnixMillis(std::chrono::system_clock::now()));
  for (const auto& k : keys) batch.Add("ZCOUNT", k, now_ms, "+inf");
  auto replies = co_await redis.Pipeline(batch);
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
  if (plain.empty()) co_return online;
  redis::RedisBatch exists;
  for (std::size_t i : plain) exists.Add("EXISTS", keys[i]);
  auto r2 = co_await redis.Pipeline(exists);
  if (!r2) co_return std::move(r2).error();
  for (std::size_t j = 0; j < plain.size() && j < r2->size(); ++j) {
    if ((*r2)[j].IsInteger() && (*r2)[j].integer > 0) online.insert(users[plain[j]]);
  }
  co_return online;
}

RecipientLookup Audience::ViewFor(const std::string* conversation_id) {
  return [this, conversation_id](const std::string& uid) -> const RecipientView& {
    UserData& ud = users[uid];
    ud.view.muted = conversation_id != nullptr && !conversation_id->empty() &&
                    mutes.contains({uid, *conversation_id});
    return ud.view;
  };
}

void NamedUsers(const std::vector<const ParsedEntry*>& todo,
                const std::unordered_set<std::string>& online, std::vector<std::string>& users,
                std::vector<std::string>& conversations) {
  std::set<std::string> u, cv;
  for (const ParsedEntry* p : todo) {
    if (const auto* m = std::get_if<MessageCreated>(&p->decoded)) {
      for (const auto& r : m->recipients) {
        if (r != m->sender_id && !online.contains(r)) u.insert(r);
      }
      cv.insert(m->conversation_id);
    } else if (const auto* pay = std::get_if<PaymentEvent>(&p->decoded)) {
      for (const auto& party : pay->parties) u.insert(party.user_id);
    } else if (const auto* pc = std::get_if<PasswordChanged>(&p->decoded)) {
      u.insert(pc->user_id);
    } else if (const auto* otp = std::get_if<OtpRequested>(&p->decoded)) {
      if (!otp->user_id.empty()) u.insert(otp->user_id);
    }
  }
  users.assign(u.begin(), u.end());
  conversations.assign(cv.begin(), cv.end());
}

std::vector<pg::Statement> AudienceQueries(const std::vector<std::string>& users,
                                           const std::vector<std::string>& conversations) {
  const std::string user_arr = pg::ToArray(users);
  std::vector<pg::Statement> st;
  st.push_back(pg::Statement::Of(kLoadPrefs, user_arr));
  st.push_back(pg::Statement::Of(kLoadMutes, user_arr, pg::ToArray(conversations)));
  st.push_back(pg::Statement::Of(kLoadDevices, user_arr));
  return st;
}

void ReadAudience(const std::vector<pg::PgResult>& r, Audience& a) {
  const pg::PgResult& prefs = r[0];
  for (int i = 0; i < prefs.Rows(); ++i) {
    a.users[std::string(prefs.GetString(i, "user_id"))].view.settings = ReadSettings(prefs, i);
  }
  const pg::PgResult& m = r[1];
  for (int i = 0; i < m.Rows(); ++i) {
    a.mutes.emplace(std::string(m.GetString(i, "user_id")),
                    std::string(m.GetString(i, "conversation_id")));
  }
  const pg::PgResult& dev = r[2];
  for (int i = 0; i < dev.Rows(); ++i) {
    UserData& ud = a.users[std::string(dev.GetString(i, "user_id"))];
    ud.devices.push_back(Device{std::string(dev.GetString(i, "id")),
                                std::string(dev.GetString(i, "user_id")),
                                std::string(dev.GetString(i, "platform")),
                                std::string(dev.GetString(i, "token")),
                                {},
                                {}});
    ud.view.has_devices = true;
  }
}

}  // namespace tchat::notification
