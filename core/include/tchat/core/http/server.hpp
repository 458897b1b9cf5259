#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tchat/core/client_address.hpp>
#include <tchat/core/http/router.hpp>
#include <tchat/core/result.hpp>

namespace tchat {
class Worker;
}

namespace tchat::http {

// Verifies a bearer token for authenticated routes. Must be thread-safe.
using Authenticator = std::function<Result<AuthContext>(std::string_view token)>;

struct ServerOptions {
  std::string service = "tchat";  // metric label
  std::string address = "0.0.0.0";
  std::uint16_t port = 0;  // 0 picks a free port (tests)
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_ws_message_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // first request's headers
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // between keep-alive requests
  // The peers whose X-Forwarded-For / X-Real-IP name the client (Request::remote_ip).
  TrustedProxies trusted_proxies = TrustedProxies::Loopback();
};

// HTTP/1.1 server over Beast. Every worker gets its own SO_REUSEPORT acceptor,
// so connections are spread by the kernel and a connection stays on one thread
// for its whole life. Start/Shutdown are called from the owning thread (main);
// the server itself runs on the workers' io_contexts.
class Server {
 public:
  Server(ServerOptions options, const Router& router, Authenticator authenticator,
         std::vector<Worker*> workers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every worker. Fails with a message when the port is taken.
  Status Listen();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Starts accepting; the workers' io_contexts must be running (or about to run).
  void Start();
  // Stops accepting, closes idle keep-alive connections, lets in-flight requests
  // finish (their connections close afterwards) and asks WebSockets to close with
  // 1001. Thread-safe. Poll active_connections() to wait for the drain.
  void Shutdown();
  std::size_t active_connections() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tchat::http
