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

std::string WebhookPushProvider::Body(const PushMessage& m) {
  const RenderedPush& c = *m.content;
  json::object o{{"id", m.id},
                 {"event_id", m.event_id},
                 {"user_id", m.user_id},
                 {"device_id", m.device_id},
                 {"platform", m.platform},
                 {"token", m.token},
                 {"kind", c.kind},
                 {"title", c.title},
                 {"body", c.body},
                 {"data", c.data},
                 {"priority", c.high_priority ? "high" : "normal"},
                 {"ttl_seconds", c.ttl_seconds}};
  if (!c.collapse_key.empty()) o["collapse_key"] = c.collapse_key;
  return ToJson(o);
}

Task<SendResult> WebhookPushProvider::Send(const PushMessage& m) {
  co_return co_await PostJson(http_, url_, Body(m), m.id, timeout_);
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
  co_return co_await PostJson(http_, url_, Body(m), m.id, timeout_);
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
