#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <tchat/core/httpclient/http_client.hpp>
#include <tchat/core/json.hpp>

#include "provider.hpp"

// Firebase Cloud Messaging, HTTP v1 API:
//   POST {endpoint}/v1/projects/{project_id}/messages:send
//   Authorization: Bearer <OAuth 2.0 access token, scope firebase.messaging>
//   {"message":{"token":..., "notification":{"title","body"}, "data":{...},
//               "android":{...}, "apns":{...}, "webpush":{...}}}
// The access token comes from a Google service account (JWT bearer grant,
// RFC 7523, signed RS256) and is cached until shortly before it expires.
namespace tchat::notification {

struct ServiceAccount {
  std::string client_email;
  std::string private_key_pem;
  std::string private_key_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
};
// The service-account JSON key file Google issues (type "service_account").
Result<ServiceAccount> ParseServiceAccount(std::string_view json_text);
Result<ServiceAccount> LoadServiceAccount(const std::string& path);

// The signed assertion exchanged for an access token.
Result<std::string> ServiceAccountAssertion(const ServiceAccount& account,
                                            std::chrono::system_clock::time_point now);

// Supplies OAuth access tokens. One per worker (uses its HttpClient).
class AccessTokenSource {
 public:
  virtual ~AccessTokenSource() = default;
  virtual Task<Result<std::string>> Token() = 0;
  // The provider rejected the token (401): fetch a new one next time.
  virtual void Invalidate() = 0;
};

class ServiceAccountTokenSource final : public AccessTokenSource {
 public:
  ServiceAccountTokenSource(httpclient::HttpClient& http,
                            std::shared_ptr<const ServiceAccount> account)
      : http_(http), account_(std::move(account)) {}
  Task<Result<std::string>> Token() override;
  void Invalidate() override { expires_ = {}; }

 private:
  httpclient::HttpClient& http_;
  std::shared_ptr<const ServiceAccount> account_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
  bool fetching_ = false;
};

// The FCM v1 message for one device: notification title/body, the data map,
// android collapse_key/priority/ttl and notification tag, apns headers
// (apns-collapse-id, apns-priority, apns-expiration) and thread-id, webpush
// Urgency/TTL/Topic.
json::object FcmMessage(const PushMessage& m, std::chrono::system_clock::time_point now);

// 200 delivered; 404 / UNREGISTERED and 400 with an invalid-token message
// unregistered; 429, 500, 503 and 401 (our token) retryable; other 4xx permanent.
SendResult ClassifyFcm(const httpclient::HttpResponse& r);

class FcmProvider final : public PushProvider {
 public:
  FcmProvider(httpclient::HttpClient& http, std::shared_ptr<AccessTokenSource> tokens,
              std::string project_id, std::string endpoint, std::chrono::milliseconds timeout)
      : http_(http),
        tokens_(std::move(tokens)),
        url_(endpoint + "/v1/projects/" + project_id + "/messages:send"),
        timeout_(timeout) {}
  std::string_view name() const override { return "fcm"; }
  Task<SendResult> Send(const PushMessage& message) override;

 private:
  httpclient::HttpClient& http_;
  std::shared_ptr<AccessTokenSource> tokens_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tchat::notification
