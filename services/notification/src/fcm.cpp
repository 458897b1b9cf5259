#include "fcm.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/time.hpp>

#include "jws.hpp"

namespace tchat::notification {

namespace {

std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace

Result<ServiceAccount> ParseServiceAccount(std::string_view text) {
  auto o = ParseJsonObject(text);
  if (!o) return std::move(o).error();
  ServiceAccount a;
  auto email = RequireString(*o, "client_email");
  if (!email) return std::move(email).error();
  a.client_email = std::move(*email);
  auto key = RequireString(*o, "private_key");
  if (!key) return std::move(key).error();
  a.private_key_pem = std::move(*key);
  auto kid = OptionalString(*o, "private_key_id");
  if (kid && *kid) a.private_key_id = **kid;
  auto uri = OptionalString(*o, "token_uri");
  if (uri && *uri) a.token_uri = **uri;
  return a;
}

Result<ServiceAccount> LoadServiceAccount(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseServiceAccount(ss.str());
}

Result<std::string> ServiceAccountAssertion(const ServiceAccount& a,
                                            std::chrono::system_clock::time_point now) {
  const auto iat = UnixSeconds(now);
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!a.private_key_id.empty()) header["kid"] = a.private_key_id;
  json::object claims{{"iss", a.client_email},
                      {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
                      {"aud", a.token_uri},
                      {"iat", iat},
                      {"exp", iat + 3600}};
  return SignJws(JwsAlg::kRs256, header, claims, a.private_key_pem);
}

Task<Result<std::string>> ServiceAccountTokenSource::Token() {
  // One fetch at a time: others wait for it.
  while (fetching_) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                std::chrono::milliseconds(5));
    (void)co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  if (!token_.empty() && std::chrono::steady_clock::now() < expires_) co_return token_;
  fetching_ = true;
  struct Reset {
    bool& f;
    ~Reset() { f = false; }
  } reset{fetching_};
  auto assertion = ServiceAccountAssertion(*account_, std::chrono::system_clock::now());
  if (!assertion) co_return std::move(assertion).error();
  httpclient::HttpRequest req(
      "POST", account_->token_uri,
      "grant_type=" + FormEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
          "&assertion=" + FormEncode(*assertion));
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.timeout = std::chrono::seconds(10);
  auto resp = co_await http_.Send(std::move(req));
  if (!resp) co_return std::move(resp).error();
  if (resp->status != 200) {
    co_return Error::Unavailable("oauth token endpoint answered " + std::to_string(resp->status));
  }
  auto body = ParseJsonObject(resp->body);
  if (!body) co_return Error::Unavailable("oauth token endpoint: bad JSON");
  auto tok = RequireString(*body, "access_token");
  if (!tok) co_return Error::Unavailable("oauth token endpoint: no access_token");
  std::int64_t ttl = 3600;
  if (auto it = body->find("expires_in"); it != body->end() && it->value().is_int64()) {
    ttl = it->value().as_int64();
  }
  token_ = std::move(*tok);
  // Renew a minute early so that no request carries a token about to expire.
  expires_ =
      std::chrono::steady_clock::now() + std::chrono::seconds(std::max<std::int64_t>(ttl - 60, 10));
  co_return token_;
}

json::object FcmMessage(const PushMessage& m, std::chrono::system_clock::time_point now) {
  const RenderedPush& c = *m.content;
  json::object data;
  for (const auto& [k, v] : c.data) data[k] = v.is_string() ? v : json::value(ToJson(v));
  const std::string ttl = std::to_string(c.ttl_seconds) + "s";
  json::object android{{"priority", c.high_priority ? "HIGH" : "NORMAL"}, {"ttl", ttl}};
  json::object android_note;
  json::object apns_headers{{"apns-priority", c.high_priority ? "10" : "5"},
                            {"apns-push-type", "alert"},
                            {"apns-expiration", std::to_string(UnixSeconds(now) + c.ttl_seconds)}};
  json::object aps{{"sound", "default"}};
  json::object webpush_headers{{"Urgency", c.high_priority ? "high" : "normal"},
                               {"TTL", std::to_string(c.ttl_seconds)}};
  if (!c.collapse_key.empty()) {
    android["collapse_key"] = c.collapse_key;
    android_note["tag"] = c.collapse_key;
    apns_headers["apns-collapse-id"] = c.collapse_key.substr(0, 64);
    aps["thread-id"] = c.collapse_key;
    // Topic: at most 32 URL-safe characters.
    std::string topic;
    for (char ch : c.collapse_key) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') topic += ch;
    }
    webpush_headers["Topic"] = topic.substr(0, 32);
  }
  if (!android_note.empty()) android["notification"] = std::move(android_note);
  return json::object{
      {"message",
       json::object{{"token", m.token},
                    {"notification", json::object{{"title", c.title}, {"body", c.body}}},
                    {"data", std::move(data)},
                    {"android", std::move(android)},
                    {"apns", json::object{{"headers", std::move(apns_headers)},
                                          {"payload", json::object{{"aps", std::move(aps)}}}}},
                    {"webpush", json::object{{"headers", std::move(webpush_headers)}}}}}};
}

SendResult ClassifyFcm(const httpclient::HttpResponse& r) {
  if (r.status == 200) return {};
  // {"error":{"code","message","status","details":[{"@type":"...FcmError","errorCode":...}]}}
  std::string status, code, message;
  if (auto body = ParseJsonObject(r.body)) {
    if (auto it = body->find("error"); it != body->end() && it->value().is_object()) {
      const auto& e = it->value().as_object();
      if (auto s = e.find("status"); s != e.end() && s->value().is_string()) {
        status = std::string(s->value().as_string());
      }
      if (auto s = e.find("message"); s != e.end() && s->value().is_string()) {
        message = std::string(s->value().as_string());
      }
      if (auto d = e.find("details"); d != e.end() && d->value().is_array()) {
        for (const auto& det : d->value().as_array()) {
          if (!det.is_object()) continue;
          if (auto ec = det.as_object().find("errorCode");
              ec != det.as_object().end() && ec->value().is_string()) {
            code = std::string(ec->value().as_string());
          }
        }
      }
    }
  }
  const std::string err = "fcm " + std::to_string(r.status) + " " + (code.empty() ? status : code);
  auto retry_after =
      ParseRetryAfter(r.headers.Get("Retry-After"), std::chrono::system_clock::now());
  if (code == "UNREGISTERED" || r.status == 404) return {Outcome::kUnregistered, err, {}};
  if (r.status == 400 && (code == "INVALID_ARGUMENT" || status == "INVALID_ARGUMENT") &&
      message.find("registration token") != std::string::npos) {
    return {Outcome::kUnregistered, err, {}};
  }
  if (r.status == 401 || r.status == 429 || r.status >= 500 || code == "QUOTA_EXCEEDED" ||
      code == "UNAVAILABLE" || code == "INTERNAL") {
    return {Outcome::kRetryable, err, retry_after};
  }
  return {Outcome::kPermanent, err, {}};
}

Task<SendResult> FcmProvider::Send(const PushMessage& m) {
  auto token = co_await tokens_->Token();
  if (!token) co_return SendResult{Outcome::kRetryable, "oauth: " + token.error().message, {}};
  httpclient::HttpRequest req("POST", url_,
                              ToJson(FcmMessage(m, std::chrono::system_clock::now())));
  req.headers.Set("Content-Type", "application/json; charset=UTF-8");
  req.headers.Set("Authorization", "Bearer " + *token);
  req.timeout = timeout_;
  auto resp = co_await http_.Send(std::move(req));
  if (!resp) {
    co_return SendResult{Outcome::kRetryable,
                         resp.error().code == ErrorCode::kDeadlineExceeded
                             ? std::string("timeout")
                             : "transport: " + resp.error().message,
                         {}};
  }
  SendResult r = ClassifyFcm(*resp);
  if (resp->status == 401) tokens_->Invalidate();
  co_return r;
}

}  // namespace tchat::notification
