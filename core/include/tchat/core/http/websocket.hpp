#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::http {

// A server-side WebSocket connection after the upgrade, handed to a
// WebSocketHandler (RFC 6455, no extensions). Text messages only. Reads and
// writes must come from coroutines on the owning worker; at most one Read may be
// outstanding; writes are serialised inside. Pings are answered inside; a peer
// that vanished without closing is dropped by TCP keepalive.
class WebSocket {
 public:
  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // The next text message. Errors: kUnavailable when the peer closed or the
  // connection failed (a protocol violation closes it with 1002, invalid UTF-8
  // with 1007); kPayloadTooLarge when a message exceeds the read limit (closed
  // with 1009); kInvalidArgument for a binary message (the connection stays).
  Task<Result<std::string>> Read();
  Task<Status> Write(std::string_view text);
  // Several text messages in one write: one system call and, typically, one
  // segment for a burst instead of one each.
  Task<Status> WriteMany(const std::vector<std::string_view>& texts);
  // Sends a close frame (1000 normal, 1001 going away, 1008 policy, 1009 too big).
  // A code that may not travel on the wire (1005, 1006, 999, ...) goes out as 1011.
  Task<void> Close(std::uint16_t code, std::string_view reason = {});
  // Cancels pending operations from any coroutine on the same worker.
  void Cancel();
  bool is_open() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tchat::http
