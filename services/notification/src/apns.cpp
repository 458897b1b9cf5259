#include "apns.hpp"

#include <tchat/core/time.hpp>

#include "jws.hpp"

namespace tchat::notification {

Result<std::string> ApnsProviderToken(const ApnsOptions& o,
                                      std::chrono::system_clock::time_point now) {
  return SignJws(JwsAlg::kEs256, json::object{{"alg", "ES256"}, {"kid", o.key_id}},
                 json::object{{"iss", o.team_id}, {"iat", UnixSeconds(now)}}, o.key_pem);
}

Http2Request BuildApnsRequest(const PushMessage& m, const ApnsOptions& o,
                              const std::string& provider_token,
                              std::chrono::system_clock::time_point now) {
  const RenderedPush& c = *m.content;
  Http2Request r;
  r.authority = o.sandbox ? "api.sandbox.push.apple.com" : "api.push.apple.com";
  r.path = "/3/device/" + m.token;
  r.headers = {{"authorization", "bearer " + provider_token},
               {"apns-topic", o.topic},
               {"apns-push-type", "alert"},
               {"apns-priority", c.high_priority ? "10" : "5"},
               {"apns-expiration", std::to_string(UnixSeconds(now) + c.ttl_seconds)}};
  json::object aps{{"alert", json::object{{"title", c.title}, {"body", c.body}}},
                   {"sound", "default"}};
  if (!c.collapse_key.empty()) {
    // At most 64 bytes; a UUID conversation id fits.
    r.headers.emplace_back("apns-collapse-id", c.collapse_key.substr(0, 64));
    aps["thread-id"] = c.collapse_key;
  }
  json::object body{{"aps", std::move(aps)}};
  for (const auto& [k, v] : c.data) {
    if (k != "aps") body[k] = v;
  }
  r.body = ToJson(body);
  return r;
}

SendResult ClassifyApns(const httpclient::HttpResponse& r) {
  if (r.status == 200) return {};
  std::string reason;
  if (auto o = ParseJsonObject(r.body)) {
    if (auto it = o->find("reason"); it != o->end() && it->value().is_string()) {
      reason = std::string(it->value().as_string());
    }
  }
  const std::string err = "apns " + std::to_string(r.status) + " " + reason;
  if (r.status == 410 || reason == "Unregistered" || reason == "BadDeviceToken" ||
      reason == "DeviceTokenNotForTopic") {
    return {Outcome::kUnregistered, err, {}};
  }
  if (r.status == 429 || r.status >= 500 || reason == "ExpiredProviderToken") {
    return {Outcome::kRetryable, err,
            ParseRetryAfter(r.headers.Get("Retry-After"), std::chrono::system_clock::now())};
  }
  return {Outcome::kPermanent, err, {}};
}

Task<SendResult> ApnsProvider::Send(const PushMessage& m) {
  const auto now = std::chrono::steady_clock::now();
  if (token_.empty() || now - token_at_ > std::chrono::minutes(40)) {
    auto t = ApnsProviderToken(options_, std::chrono::system_clock::now());
    if (!t) co_return SendResult{Outcome::kPermanent, "apns token: " + t.error().message, {}};
    token_ = std::move(*t);
    token_at_ = now;
  }
  auto resp = co_await transport_->Send(
      BuildApnsRequest(m, options_, token_, std::chrono::system_clock::now()));
  if (!resp) co_return SendResult{Outcome::kRetryable, "transport: " + resp.error().message, {}};
  SendResult r = ClassifyApns(*resp);
  if (r.error.find("ExpiredProviderToken") != std::string::npos) token_.clear();
  co_return r;
}

}  // namespace tchat::notification
