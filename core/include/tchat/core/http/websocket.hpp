#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::http {

// A server-side WebSocket connection after the upgrade, handed to a
// WebSocketHandler. Text frames only. Reads and writes must come from coroutines
// on the owning worker; at most one Read and one Write may be outstanding at a
// time (Beast's rule) — callers that write from several places queue their
// frames. Ping/pong and idle timeouts are handled inside.
class WebSocket {
 public:
  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // The next text message. Errors: kUnavailable when the peer closed or the
  // connection failed; kPayloadTooLarge when a frame exceeds the read limit.
  Task<Result<std::string>> Read();
  Task<Status> Write(std::string_view text);
  // Sends a close frame (1000 normal, 1001 going away, 1008 policy, 1009 too big).
  Task<void> Close(std::uint16_t code, std::string_view reason = {});
  // TCP_CORK: while held, written frames wait in the kernel and leave together
  // in full segments; releasing sends what is held at once. For a writer that
  // has a burst of frames queued: one segment and one wake-up of the peer
  // instead of one per frame. Release as soon as the burst is written (the
  // kernel itself releases after 200 ms).
  void Cork(bool hold);
  // Cancels pending operations from any coroutine on the same worker.
  void Cancel();
  bool is_open() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tchat::http
