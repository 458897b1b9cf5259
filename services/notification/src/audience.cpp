#include "audience.hpp"

#include <chrono>

#include <tchat/core/time.hpp>

namespace tchat::notification {

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

void NamedUsers(const std::vector<const ParsedEntry*>& to_apply,
                const std::unordered_set<std::string>& online, std::vector<std::string>& users,
                std::vector<std::string>& conversations) {
  std::set<std::string> u, cv;
  for (const ParsedEntry* p : to_apply) {
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

}  // namespace tchat::notification
