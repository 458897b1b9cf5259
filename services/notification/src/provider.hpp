#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <tchat/core/httpclient/message.hpp>
#include <tchat/core/task.hpp>

#include "rules.hpp"

// Delivery providers behind one interface (docs/api/openapi.yaml, notification): push (FCM HTTP v1,
// APNs, webhook, log) and SMS (webhook, log). A provider instance belongs to one worker (it uses
// that worker's HttpClient) and is called only from coroutines on it.
namespace tchat::notification {

// How a provider answered one message.
enum class Outcome {
  kDelivered,
  kRetryable,     // timeouts, connection errors, 429, 5xx: back off and try again
  kPermanent,     // other 4xx: retrying cannot help → dead letter
  kUnregistered,  // the token is gone (410, FCM UNREGISTERED, APNs Unregistered)
};

struct SendResult {
  Outcome outcome = Outcome::kDelivered;
  std::string error;  // short, for logs and dead letters; never the token
  std::optional<std::chrono::seconds> retry_after;  // from Retry-After
};

// One push to one device.
struct PushMessage {
  std::string id;  // stable across retries: idempotency key of the delivery
  std::string device_id;
  std::string user_id;
  std::string platform;  // android, ios, web
  std::string token;
  std::string event_id;
  const RenderedPush* content = nullptr;  // shared by the devices of one delivery
};

struct SmsMessage {
  std::string id;
  std::string event_id;
  const RenderedSms* content = nullptr;
};

class PushProvider {
 public:
  virtual ~PushProvider() = default;
  virtual std::string_view name() const = 0;
  // Never fails as a Task: every problem is a SendResult.
  virtual Task<SendResult> Send(const PushMessage& message) = 0;
};

class SmsProvider {
 public:
  virtual ~SmsProvider() = default;
  virtual std::string_view name() const = 0;
  virtual Task<SendResult> Send(const SmsMessage& message) = 0;
};

// Retry-After as delta-seconds or an HTTP-date; nullopt when absent or unreadable.
// Capped at one hour.
std::optional<std::chrono::seconds> ParseRetryAfter(std::optional<std::string_view> value,
                                                    std::chrono::system_clock::time_point now);

// The generic HTTP classification (webhook providers): 2xx delivered; 410 unregistered; 408, 425,
// 429, 5xx retryable; other statuses permanent.
SendResult ClassifyHttp(const httpclient::HttpResponse& response);

}  // namespace tchat::notification
