#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tchat/core/httpclient/message.hpp>
#include <tchat/core/json.hpp>

namespace tchat::e2e {

// One answer of the service.
struct Reply {
  int status = 0;  // 0: no answer at all (connection failed)
  std::string body;
  httpclient::HttpHeaders headers;
  std::string transport_error;

  // The body as JSON (null when it is not JSON).
  json::value Json() const;
  // body.error.code / body.error.message of a docs/api/openapi.yaml error body ("" if absent).
  std::string ErrorCode() const;
  std::string ErrorMessage() const;
};

// One request to send.
struct Call {
  std::string method;
  std::string path;  // "/v1/auth/otp/request"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A blocking HTTP client for tests: runs tchat::httpclient::HttpClient on a
// private io_context, keeping connections alive between calls. Every request
// carries X-Real-IP: `client_ip` (the service trusts it from loopback), so one
// test's rate limits never touch another's. Not thread-safe.
class Api {
 public:
  Api(std::string base_url, std::string client_ip);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  Reply Send(const Call& call);
  Reply Get(const std::string& path, const std::string& bearer = {});
  Reply Post(const std::string& path, const json::value& body, const std::string& bearer = {});
  Reply Put(const std::string& path, const json::value& body, const std::string& bearer = {});
  Reply Patch(const std::string& path, const json::value& body, const std::string& bearer = {});
  Reply Delete(const std::string& path, const std::string& bearer = {});
  // Sends every call at once (separate connections) and waits for all replies.
  std::vector<Reply> Concurrently(const std::vector<Call>& calls);

  const std::string& ip() const { return ip_; }
  void set_ip(std::string ip) { ip_ = std::move(ip); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string base_;
  std::string ip_;
};

// The base URL from TCHAT_TEST_AUTH_URL ("" when unset).
std::string AuthUrl();
// A client address of its own: 10.x.y.z, different on every call.
std::string FreshIp();

}  // namespace tchat::e2e
