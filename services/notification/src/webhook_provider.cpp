#include "webhook_provider.hpp"

#include <tchat/core/log.hpp>

namespace tchat::notification {

Task<SendResult> PostJson(httpclient::HttpClient& http, std::string url, std::string body,
                          std::string idempotency_key, std::chrono::milliseconds timeout) {
  httpclient::HttpRequest req("POST", std::move(url), std::move(body));
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("Idempotency-Key", std::move(idempotency_key));
  req.timeout = timeout;
  auto resp = co_await http.Send(std::move(req));
  if (!resp) {
    // A malformed URL is configuration, not a passing fault.
    if (resp.error().code == ErrorCode::kInvalidArgument) {
      co_return SendResult{Outcome::kPermanent, "bad request: " + resp.error().message, {}};
    }
    const bool timeout_hit = resp.error().code == ErrorCode::kDeadlineExceeded;
    co_return SendResult{
        Outcome::kRetryable,
        timeout_hit ? std::string("timeout") : "transport: " + resp.error().message,
        {}};
  }
  co_return ClassifyHttp(*resp);
}

namespace {

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
  AppendJsonString(out, value);
}

}  // namespace

// Written directly rather than through a json::object: one body per device and
// notification, and building the object (a copy of `data`, a key table, a
// dozen strings) cost several times the serialisation.
std::string WebhookPushProvider::Body(const PushMessage& m) {
  const RenderedPush& c = *m.content;
  std::string out;
  // Keys, ids and a typical data object fit: one allocation, no regrowth.
  out.reserve(512 + m.id.size() + m.token.size() + c.title.size() + c.body.size());
  out += "{\"id\":";
  AppendJsonString(out, m.id);
  AppendField(out, "event_id", m.event_id);
  AppendField(out, "user_id", m.user_id);
  AppendField(out, "device_id", m.device_id);
  AppendField(out, "platform", m.platform);
  AppendField(out, "token", m.token);
  AppendField(out, "kind", c.kind);
  AppendField(out, "title", c.title);
  AppendField(out, "body", c.body);
  out += ",\"data\":";
  out += json::serialize(c.data);
  AppendField(out, "priority", c.high_priority ? "high" : "normal");
  out += ",\"ttl_seconds\":";
  out += std::to_string(c.ttl_seconds);
  if (!c.collapse_key.empty()) AppendField(out, "collapse_key", c.collapse_key);
  out.push_back('}');
  return out;
}

// Not coroutines themselves (one frame less per message): PostJson takes its
// arguments by value, so nothing refers to `m` once these return.
Task<SendResult> WebhookPushProvider::Send(const PushMessage& m) {
  return PostJson(http_, url_, Body(m), m.id, timeout_);
}

std::string WebhookSmsProvider::Body(const SmsMessage& m) {
  const RenderedSms& c = *m.content;
  return ToJson(json::object{{"id", m.id},
                             {"event_id", m.event_id},
                             {"to", c.to},
                             {"text", c.text},
                             {"locale", c.locale}});
}

Task<SendResult> WebhookSmsProvider::Send(const SmsMessage& m) {
  return PostJson(http_, url_, Body(m), m.id, timeout_);
}

Task<SendResult> LogPushProvider::Send(const PushMessage& m) {
  log::Info("push (log provider)", {{"id", m.id},
                                    {"user_id", m.user_id},
                                    {"device_id", m.device_id},
                                    {"platform", m.platform},
                                    {"kind", m.content->kind}});
  co_return SendResult{};
}

Task<SendResult> LogSmsProvider::Send(const SmsMessage& m) {
  // The number is partly masked and the text (a one-time code) never logged.
  std::string to = m.content->to;
  if (to.size() > 4) to.replace(3, to.size() - 5, to.size() - 5, '*');
  log::Info("sms (log provider)", {{"id", m.id}, {"to", to}, {"locale", m.content->locale}});
  co_return SendResult{};
}

}  // namespace tchat::notification
