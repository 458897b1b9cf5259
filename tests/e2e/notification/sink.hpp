#pragma once

// A local HTTP server standing in for the push/SMS providers' endpoint: the
// notification service's webhook providers POST to it exactly as they would to a
// real gateway. It records every request and answers as told per push token (or
// SMS number): a status with optional Retry-After, a hang (no answer), then 200.
// Runs its own io_context on its own thread; every public method is thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <tchat/core/json.hpp>

namespace tchat::e2e {

struct SinkRequest {
  std::string path;
  std::string idempotency_key;
  json::object body;  // empty when not JSON
  std::chrono::steady_clock::time_point at;
  int status = 0;  // what the sink answered (0: hung up / no answer)
};

// One scripted answer.
struct SinkReply {
  int status = 200;
  std::optional<int> retry_after;  // seconds
  bool hang = false;               // never answer (the client times out)
};
inline SinkReply Reply(int status, std::optional<int> retry_after = std::nullopt) {
  SinkReply r;
  r.status = status;
  r.retry_after = retry_after;
  return r;
}
inline SinkReply Hang() {
  SinkReply r;
  r.hang = true;
  return r;
}

class HttpSink {
 public:
  // Listens on host:port ("127.0.0.1:18294"); throws when it cannot bind.
  explicit HttpSink(const std::string& host_port);
  ~HttpSink();
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  // Answers for the next requests carrying this key (push: "token", sms: "to"),
  // in order; afterwards 200.
  void Script(const std::string& key, std::vector<SinkReply> replies);

  // Every recorded request whose body has field `field` == `value`.
  std::vector<SinkRequest> Matching(const std::string& field, const std::string& value) const;
  // Waits until `pred(all requests)` is true or `timeout` passes; returns pred's last value.
  bool WaitFor(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
               std::chrono::milliseconds timeout) const;
  // Waits until at least `n` requests match field == value.
  bool WaitForCount(const std::string& field, const std::string& value, std::size_t n,
                    std::chrono::milliseconds timeout) const;
  std::vector<SinkRequest> All() const;
  std::uint16_t port() const { return port_; }

  struct Shared;  // state shared with the session coroutines

 private:
  std::shared_ptr<Shared> shared_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace tchat::e2e
