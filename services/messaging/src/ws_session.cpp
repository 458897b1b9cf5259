#include "ws_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/http/websocket.hpp>
#include <tchat/core/log.hpp>

#include "messaging_metrics.hpp"

namespace tchat::messaging {

WsSession::WsSession(http::WebSocket& ws, boost::asio::any_io_executor ex, std::string user_id,
                     std::string id, SessionLimits limits)
    : ws_(ws),
      ex_(ex),
      user_id_(std::move(user_id)),
      id_(std::move(id)),
      limits_(limits),
      writer_stopped_(ex),
      reader_wake_(ex) {}

void WsSession::Deliver(const Frame& frame) {
  if (closing_ || !frame) return;
  if (queued_frames() >= limits_.max_queued_frames ||
      queued_bytes_ + frame->size() > limits_.max_queued_bytes) {
    Overflow();
    return;
  }
  queue_.push_back(frame);
  queued_bytes_ += frame->size();
  if (!writing_) {
    writing_ = true;
    boost::asio::co_spawn(ex_, Drain(shared_from_this()), boost::asio::detached);
  }
}

void WsSession::Send(std::string text) {
  Deliver(std::make_shared<const std::string>(std::move(text)));
}

void WsSession::Overflow() {
  overflowed_ = true;
  closing_ = true;
  Metrics().slow_consumer_disconnects->Inc();
  log::Warn("websocket dropped: slow consumer", {{"user_id", user_id_},
                                                 {"session", id_},
                                                 {"queued_frames", queued_frames()},
                                                 {"queued_bytes", queued_bytes_}});
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = 0;
  queued_bytes_ = 0;
  ws_.Cancel();
  reader_wake_.NotifyAll();
}

Task<void> WsSession::Drain(std::shared_ptr<WsSession> /*keep_alive*/) {
  // A burst (a commit's acks, a fan-out) is corked: its frames leave in a few
  // segments instead of one each, which costs the kernel and the client a
  // wake-up per frame. Released when the queue is empty, and every
  // kMaxCorkedFrames frames so that a steady stream is not held back.
  constexpr int kMaxCorkedFrames = 64;
  int corked = 0;
  while (!closing_ && head_ < queue_.size()) {
    if (corked == 0 && queue_.size() - head_ > 1) {
      ws_.Cork(true);
      corked = 1;
    }
    Frame f = std::move(queue_[head_++]);
    queued_bytes_ -= f->size();
    if (reader_waits_for_room_ && HasRoom()) reader_wake_.NotifyAll();
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      if (queue_.capacity() > 64) queue_.shrink_to_fit();
    }
    Status st = co_await ws_.Write(*f);
    if (!st) {
      closing_ = true;
      break;
    }
    Metrics().frames_sent->Inc();
    if (corked > 0 && (head_ == queue_.size() || ++corked > kMaxCorkedFrames)) {
      ws_.Cork(false);
      corked = 0;
    }
  }
  if (corked > 0) ws_.Cork(false);
  writing_ = false;
  writer_stopped_.NotifyAll();
  reader_wake_.NotifyAll();  // a failed write closed the session
}

Task<void> WsSession::Finish() {
  closing_ = true;
  if (writing_) ws_.Cancel();
  while (writing_) co_await writer_stopped_.WaitNotified();
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = 0;
  queued_bytes_ = 0;
  reader_wake_.NotifyAll();
}

Task<void> WsSession::WaitForRoom() {
  reader_waits_for_room_ = true;
  while (!closing_ && !HasRoom()) co_await reader_wake_.WaitNotified();
  reader_waits_for_room_ = false;
}

Task<void> WsSession::WaitForSendSlot() {
  while (!closing_ && !CanSend()) co_await reader_wake_.WaitNotified();
}

}  // namespace tchat::messaging
