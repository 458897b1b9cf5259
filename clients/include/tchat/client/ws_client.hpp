#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::client {

struct WsOptions {
  // Local address to connect from ("127.0.0.2"): many connections to one server
  // need several source addresses (one has ~28k ephemeral ports).
  std::string bind_address;
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_message_bytes = 4u << 20;
  // Send the token as ?access_token= instead of an Authorization header.
  bool token_in_query = false;
};

// An asynchronous client of GET /v1/ws (docs/api/openapi.yaml, messaging): JSON text frames. Bound
// to one executor; not thread-safe. Like any WebSocket: at most one ReadText and one WriteText may
// be outstanding at a time (a reader coroutine and a writer may run side by side).
class WsClient {
 public:
  explicit WsClient(boost::asio::any_io_executor executor);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // `base_url`: "http://host:port" (or ws://); connects to <base>/v1/ws.
  Task<Status> Connect(std::string_view base_url, std::string_view access_token,
                       WsOptions options = {});
  // The next text frame. kUnavailable when the connection closed (close_code()
  // then tells the server's close code, 0 when there was none).
  Task<Result<std::string>> ReadText();
  Task<Status> WriteText(std::string_view text);
  // A close handshake (1000); errors are ignored.
  Task<void> Close(std::uint16_t code = 1000);
  // Drops the TCP connection without a close handshake (simulates a crash).
  void Abort();

  bool is_open() const;
  std::uint16_t close_code() const;

  // Frames of the protocol.
  static std::string MessageSendFrame(std::string_view conversation_id,
                                      std::string_view client_msg_id, std::string_view body);
  static std::string TypingFrame(std::string_view conversation_id);
  static std::string PingFrame();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// host and port of "http://host:port[/...]" or "ws://..."; kInvalidArgument otherwise.
struct HostPort {
  std::string host;
  std::string port;
};
Result<HostPort> ParseBaseUrl(std::string_view url);

}  // namespace tchat::client
