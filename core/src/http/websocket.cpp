// RFC 6455 framing on the socket Beast's handshake left us. Beast writes one
// message per system call and answers pings from inside its read, so a writer
// cannot put several frames in one write without racing it; owning both
// directions lets a burst of frames leave in one write.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <tchat/core/utf8.hpp>

#include "websocket_impl.hpp"

namespace tchat::http {

namespace asio = boost::asio;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

enum Opcode : unsigned {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes (RFC 6455 §7.4.1).
constexpr std::uint16_t kProtocolError = 1002;
constexpr std::uint16_t kInvalidPayload = 1007;
constexpr std::uint16_t kTooBig = 1009;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kWaitBuffer = 512;

// Appends the header of an unmasked (server) frame.
void AppendHeader(std::string& out, unsigned opcode, std::size_t len) {
  out += static_cast<char>(0x80 | opcode);
  if (len < 126) {
    out += static_cast<char>(len);
  } else if (len <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((static_cast<std::uint64_t>(len) >> shift) & 0xFF);
    }
  }
}

// Whether `code` may travel in a close frame (RFC 6455 §7.4): the registered
// codes except those reserved for endpoints' own use (1004, 1005, 1006, 1015),
// and 3000-4999 for libraries and applications.
bool SendableCloseCode(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

// A close frame; a code that may not be sent goes out as 1011 (internal error).
std::string CloseFrame(std::uint16_t code, std::string_view reason) {
  if (!SendableCloseCode(code)) code = 1011;
  reason = reason.substr(0, 120);
  std::string f;
  AppendHeader(f, kClose, 2 + reason.size());
  f += static_cast<char>(code >> 8);
  f += static_cast<char>(code & 0xFF);
  f += reason;
  return f;
}

struct FrameHead {
  bool fin = false;
  unsigned opcode = 0;
  std::size_t header = 0;  // bytes before the payload
  std::uint64_t len = 0;
  std::array<unsigned char, 4> mask{};
};

enum class HeadStatus { kNeedMore, kOk, kBad };

HeadStatus ParseHead(std::string_view b, FrameHead& h) {
  if (b.size() < 2) return HeadStatus::kNeedMore;
  const auto u = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  if ((u(0) & 0x70) != 0) return HeadStatus::kBad;  // RSV bits: no extension was agreed
  h.fin = (u(0) & 0x80) != 0;
  h.opcode = u(0) & 0x0F;
  if ((u(1) & 0x80) == 0) return HeadStatus::kBad;  // clients must mask
  std::uint64_t len = u(1) & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (b.size() < 4) return HeadStatus::kNeedMore;
    len = (std::uint64_t{u(2)} << 8) | u(3);
    if (len < 126) return HeadStatus::kBad;  // not the minimal encoding
    pos = 4;
  } else if (len == 127) {
    if (b.size() < 10) return HeadStatus::kNeedMore;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | u(i);
    if (len <= 0xFFFF || (len >> 63) != 0) return HeadStatus::kBad;
    pos = 10;
  }
  if (b.size() < pos + 4) return HeadStatus::kNeedMore;
  for (std::size_t i = 0; i < 4; ++i) h.mask[i] = u(pos + i);
  h.header = pos + 4;
  h.len = len;
  if ((h.opcode & 0x8) != 0 && (!h.fin || len > 125)) return HeadStatus::kBad;
  return HeadStatus::kOk;
}

void Unmask(char* p, std::size_t n, const std::array<unsigned char, 4>& mask) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask[i & 3]);
}

}  // namespace

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

// Sends `bytes` once no other write is on the wire; control frames queued in
// the meantime follow them.
static Task<Status> WriteRaw(WebSocket::Impl& s, std::vector<asio::const_buffer> buffers) {
  while (s.writing) (void)co_await s.write_done.async_wait(kTuple);
  if (s.failed || !s.socket.is_open()) co_return Error::Unavailable("websocket closed");
  s.writing = true;
  boost::system::error_code ec;
  std::size_t n = 0;
  {
    auto [e, written] = co_await asio::async_write(s.socket, buffers, kTuple);
    ec = e;
    n = written;
  }
  (void)n;
  while (!ec && !s.control.empty()) {
    std::string control = std::move(s.control);
    s.control.clear();
    auto [e, written] = co_await asio::async_write(s.socket, asio::buffer(control), kTuple);
    (void)written;
    ec = e;
  }
  s.writing = false;
  s.write_done.cancel();
  if (ec) {
    s.failed = true;
    co_return Error::Unavailable("websocket write failed: " + ec.message());
  }
  co_return Ok();
}

// A control frame from the reader: written now, or after the write on the wire.
static Task<void> SendControl(WebSocket::Impl& s, std::string frame) {
  if (s.writing) {
    s.control += frame;
    co_return;
  }
  std::vector<asio::const_buffer> b{asio::buffer(frame)};
  (void)co_await WriteRaw(s, std::move(b));
}

// Our close frame is out: no more writes, and the peer has a few seconds to
// answer before whatever waits on the socket is cancelled.
static void EndSendingAndStartCloseTimer(WebSocket::Impl& s) {
  boost::system::error_code ec;
  s.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  s.close_wait.expires_after(std::chrono::seconds(3));
  s.close_wait.async_wait([&s](boost::system::error_code e) {
    if (e) return;  // cancelled: the connection (and `s`) may be gone
    boost::system::error_code ignored;
    s.socket.cancel(ignored);
  });
}

// After our close frame: reads and drops what the peer still sends until it
// closes the connection (its close frame comes first), or a few seconds pass.
// Closing the socket with its data unread would reset the connection, and the
// peer could lose our close frame with it.
static Task<void> Linger(WebSocket::Impl& s) {
  EndSendingAndStartCloseTimer(s);
  std::array<char, 512> sink;
  for (;;) {
    auto [e, n] = co_await s.socket.async_read_some(asio::buffer(sink), kTuple);
    (void)n;
    if (e) break;
  }
  s.close_wait.cancel();
}

// Ends the connection for a protocol violation: a close frame with `code`, and
// no further reads or writes. Called from Read (no other read is pending).
static Task<void> Fail(WebSocket::Impl& s, std::uint16_t code) {
  if (!s.close_sent && !s.failed) {
    s.close_sent = true;
    co_await SendControl(s, CloseFrame(code, {}));
    co_await Linger(s);
  }
  s.failed = true;
}

namespace {

// The message a Read call assembles from its frames.
struct Assembly {
  std::string message;
  bool in_message = false;
  bool binary = false;
};

// What Read does after looking at its buffer for a frame.
struct FrameStep {
  enum Kind {
    kNeedMore,   // no whole frame is buffered: read more
    kNext,       // a frame was taken (a fragment, a pong): look again
    kPong,       // a ping: send `control`, then look again
    kMessage,    // the assembly holds a whole text message
    kPeerClose,  // the peer's close frame: answer with `close_code` unless ours is out
    kFail,       // close the connection with `close_code`, return `error`
    kReject,     // return `error`; the connection stays
  };
  explicit FrameStep(Kind k, std::uint16_t code = 0) : kind(k), close_code(code) {}

  Kind kind;
  std::uint16_t close_code;
  std::string control;
  Error error;

  static FrameStep Failure(std::uint16_t code, Error e) {
    FrameStep step{kFail, code};
    step.error = std::move(e);
    return step;
  }
  static FrameStep ProtocolError() {
    return Failure(kProtocolError, Error::Unavailable("websocket closed: protocol error"));
  }
};

// The peer's close frame (`payload`, `len` bytes): the code our close frame
// answers with. Its own code echoed (1000 when it sent none), or 1002 when the
// frame is malformed or its code may not be sent (999, 1005, 5000, ...).
FrameStep PeerClose(WebSocket::Impl& s, const char* payload, std::size_t len) {
  s.close_received = true;
  std::uint16_t code = 1000;
  if (len >= 2) {
    code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1]));
  }
  if (len == 1 || !SendableCloseCode(code) ||
      !ValidUtf8(std::string_view(payload, len).substr(std::min<std::size_t>(len, 2)))) {
    code = kProtocolError;
  }
  return FrameStep{FrameStep::kPeerClose, code};
}

// The last frame of a message is in: the message, unless it is binary or not UTF-8.
FrameStep WholeMessage(WebSocket::Impl& s, const Assembly& a) {
  if (s.rpos == s.rbuf.size()) {
    s.rbuf.clear();
    s.rpos = 0;
  }
  if (a.binary) {
    FrameStep step{FrameStep::kReject};
    step.error = Error::InvalidArgument("binary frames are not supported");
    return step;
  }
  if (!ValidUtf8(a.message)) {
    return FrameStep::Failure(kInvalidPayload,
                              Error::Unavailable("websocket closed: invalid UTF-8"));
  }
  return FrameStep{FrameStep::kMessage};
}

// Takes the next whole frame out of s.rbuf (unmasked in place) into `a`.
FrameStep TakeFrame(WebSocket::Impl& s, Assembly& a) {
  const std::string_view avail = std::string_view(s.rbuf).substr(s.rpos);
  FrameHead h;
  const HeadStatus hs = ParseHead(avail, h);
  if (hs == HeadStatus::kNeedMore) return FrameStep{FrameStep::kNeedMore};
  if (hs == HeadStatus::kBad) return FrameStep::ProtocolError();
  const bool data = (h.opcode & 0x8) == 0;
  if (data && a.message.size() + h.len > s.max_message) {
    return FrameStep::Failure(kTooBig, Error::PayloadTooLarge("websocket message too large"));
  }
  if (avail.size() < h.header + h.len) {
    s.rbuf.reserve(s.rpos + h.header + static_cast<std::size_t>(h.len));
    return FrameStep{FrameStep::kNeedMore};
  }
  char* payload = s.rbuf.data() + s.rpos + h.header;
  const auto len = static_cast<std::size_t>(h.len);
  Unmask(payload, len, h.mask);
  s.rpos += h.header + len;
  switch (h.opcode) {
    case kText:
    case kBinary:
      if (a.in_message) return FrameStep::ProtocolError();
      a.in_message = true;
      a.binary = h.opcode == kBinary;
      a.message.assign(payload, len);
      break;
    case kContinuation:
      if (!a.in_message) return FrameStep::ProtocolError();
      a.message.append(payload, len);
      break;
    case kPing: {
      FrameStep step{FrameStep::kPong};
      AppendHeader(step.control, kPong, len);
      step.control.append(payload, len);
      return step;
    }
    case kPong:
      return FrameStep{FrameStep::kNext};
    case kClose:
      return PeerClose(s, payload, len);
    default:
      return FrameStep::ProtocolError();
  }
  if (!h.fin) return FrameStep{FrameStep::kNext};
  return WholeMessage(s, a);
}

// Makes room in s.rbuf for the next read, after the `have` bytes it returns
// (the unparsed tail, moved to the front).
std::size_t PrepareRead(WebSocket::Impl& s) {
  if (s.rpos > 0) {
    s.rbuf.erase(0, s.rpos);
    s.rpos = 0;
  }
  const std::size_t have = s.rbuf.size();
  std::size_t room = kReadChunk;
  if (have == 0 && !s.last_read_full) {
    // Waiting for the next frame of a connection that has been drained: a small
    // buffer, kept from one frame to the next. (A wait without a buffer would
    // cost an epoll_ctl per frame, and kReadChunk per idle connection too much
    // memory.) A read that fills its buffer means more is coming: the next one
    // gets kReadChunk.
    if (s.rbuf.capacity() > kWaitBuffer) s.rbuf.shrink_to_fit();
    room = kWaitBuffer;
  }
  s.rbuf.resize(std::max(s.rbuf.capacity(), have + room));
  return have;
}

}  // namespace

Task<Result<std::string>> WebSocket::Read() {
  Impl& s = *impl_;
  Assembly a;
  for (;;) {
    if (s.failed || s.close_received) co_return Error::Unavailable("websocket closed");
    // Every whole frame already received.
    for (FrameStep step = TakeFrame(s, a); step.kind != FrameStep::kNeedMore;
         step = TakeFrame(s, a)) {
      switch (step.kind) {
        case FrameStep::kPong:
          co_await SendControl(s, std::move(step.control));
          break;
        case FrameStep::kMessage:
          co_return std::move(a.message);
        case FrameStep::kPeerClose:
          if (!s.close_sent) {
            s.close_sent = true;
            co_await SendControl(s, CloseFrame(step.close_code, {}));
          }
          co_return Error::Unavailable("websocket closed by the peer");
        case FrameStep::kFail:
          co_await Fail(s, step.close_code);
          co_return std::move(step.error);
        case FrameStep::kReject:
          co_return std::move(step.error);
        case FrameStep::kNext:
        case FrameStep::kNeedMore:
          break;
      }
    }
    // Need more bytes: keep the unparsed tail at the front, then read.
    const std::size_t have = PrepareRead(s);
    s.reading = true;
    auto [ec, n] = co_await s.socket.async_read_some(
        asio::buffer(s.rbuf.data() + have, s.rbuf.size() - have), kTuple);
    s.reading = false;
    s.last_read_full = n == s.rbuf.size() - have;
    s.rbuf.resize(have + n);
    if (ec) {
      s.failed = true;
      co_return Error::Unavailable("websocket closed: " + ec.message());
    }
  }
}

Task<Status> WebSocket::Write(std::string_view text) {
  std::vector<std::string_view> one{text};
  co_return co_await WriteMany(one);
}

Task<Status> WebSocket::WriteMany(const std::vector<std::string_view>& texts) {
  Impl& s = *impl_;
  if (s.close_sent || s.failed) co_return Error::Unavailable("websocket closed");
  // Headers first (their addresses must not move), then one gathered write.
  std::string headers;
  headers.reserve(texts.size() * 10);
  std::vector<std::size_t> ends;
  ends.reserve(texts.size());
  for (std::string_view t : texts) {
    AppendHeader(headers, kText, t.size());
    ends.push_back(headers.size());
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(texts.size() * 2);
  std::size_t start = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    buffers.emplace_back(headers.data() + start, ends[i] - start);
    if (!texts[i].empty()) buffers.emplace_back(texts[i].data(), texts[i].size());
    start = ends[i];
  }
  co_return co_await WriteRaw(s, std::move(buffers));
}

Task<void> WebSocket::Close(std::uint16_t code, std::string_view reason) {
  Impl& s = *impl_;
  if (s.close_sent || s.failed || !s.socket.is_open()) co_return;
  s.close_sent = true;
  std::string frame = CloseFrame(code, reason);
  std::vector<asio::const_buffer> b{asio::buffer(frame)};
  (void)co_await WriteRaw(s, std::move(b));
  // Our side is done; the peer answers with its close. A pending Read sees
  // it (and Read is the only reader); otherwise wait for it here.
  if (s.reading) {
    EndSendingAndStartCloseTimer(s);
    co_return;
  }
  co_await Linger(s);
}

void WebSocket::Cancel() {
  boost::system::error_code ec;
  impl_->socket.cancel(ec);
}

bool WebSocket::is_open() const {
  return impl_->socket.is_open() && !impl_->close_sent && !impl_->failed && !impl_->close_received;
}

}  // namespace tchat::http
