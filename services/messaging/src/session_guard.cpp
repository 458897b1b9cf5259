#include "session_guard.hpp"

#include <memory>

#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/uuid.hpp>

#include "hub.hpp"
#include "metrics.hpp"
#include "ws_session.hpp"

namespace tchat::messaging {

std::optional<Revocation> ParseRevocation(std::string_view envelope) {
  auto ev = ParseJsonObject(envelope);
  if (!ev) return std::nullopt;
  const std::string_view type = StringValue(*ev, "type");
  const json::value* data_v = ev->if_contains("data");
  if (data_v == nullptr || !data_v->is_object()) return std::nullopt;
  const json::object& data = data_v->get_object();
  Revocation r;
  r.reason = std::string(StringValue(data, "reason"));
  if (auto u = CanonicalUuid(StringValue(data, "user_id"))) r.user_id = std::move(*u);
  if (type == events::kSessionRevoked) {
    auto s = CanonicalUuid(StringValue(data, "session_id"));
    if (!s) return std::nullopt;
    r.session_id = std::move(*s);
    return r;
  }
  if (type == events::kSessionsRevoked) {
    if (r.user_id.empty()) return std::nullopt;
    if (auto s = CanonicalUuid(StringValue(data, "except_session_id"))) {
      r.except_session_id = std::move(*s);
    }
    if (const json::value* ids = data.if_contains("session_ids"); ids && ids->is_array()) {
      for (const json::value& id : ids->get_array()) {
        if (!id.is_string()) continue;
        if (auto s = CanonicalUuid(id.get_string())) r.session_ids.push_back(std::move(*s));
      }
    }
    return r;
  }
  return std::nullopt;
}

SessionGuard::SessionGuard(Hub& hub, std::chrono::seconds remember)
    : hub_(hub), remember_(remember) {}

namespace {

void CloseForCredentials(const std::shared_ptr<WsSession>& s, const char* reason) {
  Metrics::Get().ws_credential_closes->Inc();
  log::Info("websocket closed: credentials ended",
            {{"user_id", s->user_id()}, {"session", s->id()}, {"reason", reason}});
  s->CloseWith(kCloseCredentialsEnded, reason);
}

}  // namespace

std::size_t SessionGuard::CloseExpired(std::chrono::system_clock::time_point now) {
  std::size_t n = 0;
  hub_.ForEachSession([&](const std::shared_ptr<WsSession>& s) {
    if (s->closing() || s->expires_at() > now) return;
    CloseForCredentials(s, "token expired");
    ++n;
  });
  Forget(now);
  return n;
}

std::size_t SessionGuard::Apply(const Revocation& r, std::chrono::system_clock::time_point now) {
  std::size_t n = 0;
  auto revoke = [&](const std::shared_ptr<WsSession>& s) {
    if (s->closing()) return;
    if (r.session_id.empty() ? s->auth_session() == r.except_session_id
                             : s->auth_session() != r.session_id) {
      return;
    }
    CloseForCredentials(s, "session revoked");
    ++n;
  };
  if (!r.session_id.empty()) {
    revoked_[r.session_id] = now + remember_;
    if (r.user_id.empty()) {
      hub_.ForEachSession(revoke);
    } else {
      hub_.ForEachSessionOf(r.user_id, revoke);
    }
  } else {
    for (const auto& id : r.session_ids) revoked_[id] = now + remember_;
    hub_.ForEachSessionOf(r.user_id, revoke);
  }
  return n;
}

bool SessionGuard::IsRevoked(std::string_view session_id) const {
  return !session_id.empty() && revoked_.contains(std::string(session_id));
}

void SessionGuard::Forget(std::chrono::system_clock::time_point now) {
  if (now < next_forget_) return;
  next_forget_ = now + std::chrono::minutes(1);
  std::erase_if(revoked_, [now](const auto& kv) { return kv.second <= now; });
}

}  // namespace tchat::messaging
