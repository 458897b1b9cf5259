#include "ws_session.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/http/websocket.hpp>
#include <tchat/core/log.hpp>

#include "metrics.hpp"

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

void WsSession::CloseWith(std::uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = 0;
  queued_bytes_ = 0;
  reader_wake_.NotifyAll();
  // The writer sends the close frame: after its write in progress, if any.
  if (!writing_) {
    writing_ = true;
    boost::asio::co_spawn(ex_, Drain(shared_from_this()), boost::asio::detached);
  }
}

void WsSession::Overflow() {
  closing_ = true;
  Metrics::Get().slow_consumer_disconnects->Inc();
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
  // What is queued goes out in few writes (a commit's acks, a fan-out burst):
  // one system call and one wake-up of the client instead of one per frame.
  // A write takes at most 64 KiB, so that what is in flight stays small next
  // to the queue limit that decides when a client is too slow.
  constexpr std::size_t kMaxFramesPerWrite = 256;
  constexpr std::size_t kMaxBytesPerWrite = 64 * 1024;
  std::vector<Frame> sending;
  std::vector<std::string_view> texts;
  while (!closing_ && head_ < queue_.size()) {
    sending.clear();
    texts.clear();
    std::size_t bytes = 0;
    while (head_ < queue_.size() && sending.size() < kMaxFramesPerWrite &&
           (sending.empty() || bytes + queue_[head_]->size() <= kMaxBytesPerWrite)) {
      Frame f = std::move(queue_[head_++]);
      queued_bytes_ -= f->size();
      bytes += f->size();
      texts.emplace_back(*f);
      sending.push_back(std::move(f));
    }
    const std::size_t n = sending.size();
    if (reader_waits_for_room_ && HasRoom()) reader_wake_.NotifyAll();
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      if (queue_.capacity() > 64) queue_.shrink_to_fit();
    }
    Status st = co_await ws_.WriteMany(texts);
    if (!st) {
      closing_ = true;
      break;
    }
    Metrics::Get().frames_sent->Inc(static_cast<double>(n));
  }
  if (close_code_ != 0) co_await ws_.Close(close_code_, close_reason_);
  writing_ = false;
  writer_stopped_.NotifyAll();
  reader_wake_.NotifyAll();  // a failed write closed the session
}

Task<void> WsSession::Finish() {
  closing_ = true;
  // A close frame being sent is left to finish (Close bounds its own wait).
  if (writing_ && close_code_ == 0) ws_.Cancel();
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
