#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/httpclient/message.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::httpclient {

struct HttpClientOptions {
  // Default overall deadline of a request (http_client_timeout).
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Idle keep-alive connections kept across all hosts (http_client_max_idle_conns).
  std::size_t max_idle_conns = 100;
  // Connections open to one scheme://host:port at once, idle or busy
  // (http_client_max_conns_per_host); further requests queue in FIFO order.
  std::size_t max_conns_per_host = 10;
  // An idle connection older than this is closed instead of reused.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(50);
  // Larger responses fail with kUnavailable.
  std::size_t max_body_bytes = 8 << 20;
  std::string user_agent = "tchat-httpclient/0.1";
  // https: peers are verified against the system CAs plus this PEM bundle (for
  // private CAs and tests). Empty: system CAs only.
  std::string extra_ca_pem{};
};

// An asynchronous HTTP/1.1 client with a keep-alive connection pool per
// scheme://host:port. Bound to one executor (one worker's io_context): NOT
// thread-safe, every call must come from a coroutine running on that executor.
// Destroying the client closes idle connections; requests in flight keep the
// internal state alive until they finish.
//
// Errors: a malformed URL or header is kInvalidArgument; resolve/connect/TLS/IO
// failures and bad or oversized responses are kUnavailable; running out of time
// is kDeadlineExceeded. Every HTTP status, 5xx included, is a successful Result.
class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request, reusing an idle connection when there is one. An idempotent
  // request (GET/HEAD/PUT/DELETE/OPTIONS, or any request with an Idempotency-Key
  // header) is retried once on a fresh connection when a reused one turns out to
  // have been closed by the server before any of the response arrived.
  Task<Result<HttpResponse>> Send(HttpRequest request);

  // Pool introspection, for tests and gauges.
  std::size_t IdleConnections() const;
  std::size_t OpenConnections() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tchat::httpclient
