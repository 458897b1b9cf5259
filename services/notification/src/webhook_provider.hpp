#pragma once

#include <chrono>
#include <string>

#include <tchat/core/httpclient/http_client.hpp>

#include "provider.hpp"

namespace tchat::notification {

// Push through a webhook: POSTs one JSON document per device to a configured URL
// (TCHAT_PUSH_WEBHOOK_URL) with an Idempotency-Key header equal to the message
// id. Body: {"id","event_id","user_id","device_id","platform","token","kind",
// "title","body","data":{...},"collapse_key","priority":"high|normal",
// "ttl_seconds"}. The answer is classified by ClassifyHttp (410: unregistered).
// What the local system and the tests use. Borrows the worker's HttpClient.
class WebhookPushProvider final : public PushProvider {
 public:
  WebhookPushProvider(httpclient::HttpClient& http, std::string url,
                      std::chrono::milliseconds timeout)
      : http_(http), url_(std::move(url)), timeout_(timeout) {}
  std::string_view name() const override { return "webhook"; }
  Task<SendResult> Send(const PushMessage& message) override;

  static std::string Body(const PushMessage& message);

 private:
  httpclient::HttpClient& http_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

// SMS through a webhook (TCHAT_SMS_WEBHOOK_URL): {"id","event_id","to","text","locale"}.
class WebhookSmsProvider final : public SmsProvider {
 public:
  WebhookSmsProvider(httpclient::HttpClient& http, std::string url,
                     std::chrono::milliseconds timeout)
      : http_(http), url_(std::move(url)), timeout_(timeout) {}
  std::string_view name() const override { return "webhook"; }
  Task<SendResult> Send(const SmsMessage& message) override;

  static std::string Body(const SmsMessage& message);

 private:
  httpclient::HttpClient& http_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

// Writes pushes to the structured log (no token, no text) and reports them
// delivered: for development without any provider.
class LogPushProvider final : public PushProvider {
 public:
  std::string_view name() const override { return "log"; }
  Task<SendResult> Send(const PushMessage& message) override;
};

// Logs SMS without the text (it holds a one-time code).
class LogSmsProvider final : public SmsProvider {
 public:
  std::string_view name() const override { return "log"; }
  Task<SendResult> Send(const SmsMessage& message) override;
};

// Runs one HTTP request and classifies the outcome (transport failures and
// timeouts are retryable).
Task<SendResult> PostJson(httpclient::HttpClient& http, std::string url, std::string body,
                          std::string idempotency_key, std::chrono::milliseconds timeout);

}  // namespace tchat::notification
