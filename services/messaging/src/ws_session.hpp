#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/task.hpp>

namespace tchat::http {
class WebSocket;
}

namespace tchat::messaging {

// A frame serialised once and shared by every connection it goes to.
using Frame = std::shared_ptr<const std::string>;

struct SessionLimits {
  // Frames and bytes a connection may have queued before it counts as a slow
  // consumer and is disconnected (its queue is dropped, memory stays bounded).
  std::size_t max_queued_frames = 1024;
  std::size_t max_queued_bytes = 4u << 20;
  // message.send frames being committed at once; the reader waits beyond that.
  int max_inflight_sends = 256;
  // The reader also waits while the queue is over half its limits: a client
  // that sends without reading the answers (acks, pongs, errors) stops being
  // read instead of filling its own queue, which is left to events from others.
};

// One open WebSocket of a user: the outbound queue and its single writer. Anything
// on the worker may Deliver() frames; they are written in order by one writer
// coroutine that exists only while there is something to write (an idle session
// holds no coroutine and no timer). Owned by the route handler (shared with the Hub
// and with pending send callbacks); the WebSocket it writes to belongs to the
// server and is only touched until Finish() returns. Not thread-safe: the worker's
// thread only.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(http::WebSocket& ws, boost::asio::any_io_executor ex, std::string user_id,
            std::string id, SessionLimits limits);
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  const std::string& user_id() const { return user_id_; }
  // The credentials the socket runs on: the access token's session (sid) and
  // expiry, from the upgrade or the last `auth` frame.
  void SetCredentials(std::string auth_session, std::chrono::system_clock::time_point expires_at) {
    auth_session_ = std::move(auth_session);
    expires_at_ = expires_at;
  }
  const std::string& auth_session() const { return auth_session_; }
  std::chrono::system_clock::time_point expires_at() const { return expires_at_; }
  // Process-unique connection id ("<instance>-<worker>-<n>").
  const std::string& id() const { return id_; }

  // Queues a frame. A session over its limits is dropped (slow consumer): the
  // queue is discarded and the socket cancelled, which ends the handler's read.
  void Deliver(const Frame& frame);
  void Send(std::string text);

  // Ends the session from outside its reader: nothing more is queued and a close
  // frame with `code` and `reason` goes out after the write on the wire; the
  // handler's read then ends with the peer's answer (or a few seconds later).
  void CloseWith(std::uint16_t code, std::string reason);

  bool closing() const { return closing_; }
  std::size_t queued_frames() const { return queue_.size() - head_; }

  // Stops queueing, cancels a write in progress and waits for the writer to stop.
  // After it returns the session never touches the WebSocket again.
  Task<void> Finish();

  // The reader's back-pressure: the next frame is read once the outbound queue
  // is under half its limits.
  bool HasRoom() const {
    return queued_frames() < limits_.max_queued_frames / 2 &&
           queued_bytes_ < limits_.max_queued_bytes / 2;
  }
  Task<void> WaitForRoom();

  // message.send accounting for the reader's back-pressure.
  bool CanSend() const { return inflight_ < limits_.max_inflight_sends; }
  void SendStarted() { ++inflight_; }
  void SendDone() {
    --inflight_;
    reader_wake_.NotifyAll();
  }
  Task<void> WaitForSendSlot();

 private:
  Task<void> Drain(std::shared_ptr<WsSession> self);
  void Overflow();

  http::WebSocket& ws_;
  boost::asio::any_io_executor ex_;
  std::string user_id_;
  std::string id_;
  std::string auth_session_;
  std::chrono::system_clock::time_point expires_at_ = std::chrono::system_clock::time_point::max();
  std::uint16_t close_code_ = 0;  // set by CloseWith
  std::string close_reason_;
  SessionLimits limits_;
  std::vector<Frame> queue_;  // [head_, size) is pending
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  int inflight_ = 0;
  bool reader_waits_for_room_ = false;
  AsyncEvent writer_stopped_;
  AsyncEvent reader_wake_;  // a send finished, the queue drained, or closing
};

}  // namespace tchat::messaging
