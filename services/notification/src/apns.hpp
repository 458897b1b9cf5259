#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tchat/core/httpclient/message.hpp>
#include <tchat/core/result.hpp>

#include "provider.hpp"

// Apple Push Notification service (token-based authentication, HTTP/2):
//   :method POST  :path /3/device/<device token>  (api.push.apple.com:443)
//   authorization: bearer <ES256 JWT {"alg":"ES256","kid":key id} {"iss":team id,"iat"}>
//   apns-topic (bundle id), apns-push-type: alert, apns-priority (10 | 5),
//   apns-expiration (UNIX seconds), apns-collapse-id (<= 64 bytes)
//   body {"aps":{"alert":{"title","body"},"sound":"default","thread-id"},...data}
// APNs speaks only HTTP/2, which core's HttpClient does not: the provider sends
// through an Http2Transport. No transport ships in this build (it would use
// libnghttp2), so the service routes iOS devices to the webhook/log provider;
// request building, provider tokens and answer classification are complete and
// unit-tested.
namespace tchat::notification {

struct ApnsOptions {
  std::string topic;    // APNS_TOPIC: the app's bundle id
  std::string key_id;   // APNS_KEY_ID
  std::string team_id;  // APNS_TEAM_ID
  std::string key_pem;  // contents of the .p8 key (APNS_KEY_FILE)
  bool sandbox = false;
};

struct Http2Request {
  std::string authority;  // api.push.apple.com or api.sandbox.push.apple.com
  std::string method = "POST";
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
};

// The provider token; APNs wants it refreshed at most every 20 and at least
// every 60 minutes.
Result<std::string> ApnsProviderToken(const ApnsOptions& o,
                                      std::chrono::system_clock::time_point now);

Http2Request BuildApnsRequest(const PushMessage& m, const ApnsOptions& o,
                              const std::string& provider_token,
                              std::chrono::system_clock::time_point now);

// 200 delivered; 410 and 400 BadDeviceToken / DeviceTokenNotForTopic unregistered;
// 429, 500, 503 and 403 ExpiredProviderToken retryable; other 4xx permanent.
SendResult ClassifyApns(const httpclient::HttpResponse& r);

// An HTTP/2 client connection to APNs (not provided in this build).
class Http2Transport {
 public:
  virtual ~Http2Transport() = default;
  virtual Task<Result<httpclient::HttpResponse>> Send(const Http2Request& request) = 0;
};

class ApnsProvider final : public PushProvider {
 public:
  ApnsProvider(std::shared_ptr<Http2Transport> transport, ApnsOptions options)
      : transport_(std::move(transport)), options_(std::move(options)) {}
  std::string_view name() const override { return "apns"; }
  Task<SendResult> Send(const PushMessage& message) override;

 private:
  std::shared_ptr<Http2Transport> transport_;
  ApnsOptions options_;
  std::string token_;
  std::chrono::steady_clock::time_point token_at_{};
};

}  // namespace tchat::notification
