#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "websocket_impl.hpp"

namespace tchat::http {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

// Waits for the next message with an empty buffer, so that an idle connection lends
// Beast no read buffer (Beast's read of a dynamic buffer reserves 1.5 KiB up front):
// a zero-byte read returns once a data frame has begun (control frames are handled
// inside). The message is then read in the sizes its frames announce.
Task<Result<std::string>> WebSocket::Read() {
  auto& ws = impl_->ws;
  std::string text;
  boost::system::error_code ec;
  {
    // Not a null pointer: Beast's UTF-8 check does pointer arithmetic on it.
    char none = 0;
    auto [e, n] = co_await ws.async_read_some(asio::mutable_buffer(&none, 0), kTuple);
    (void)n;
    ec = e;
  }
  while (!ec && !ws.is_message_done()) {
    const std::size_t have = text.size();
    // The rest of the frame; for a fragmented message at least a few KiB.
    const std::size_t want = ws.read_size_hint(4096);
    text.resize(have + want);
    auto [e, n] = co_await ws.async_read_some(asio::buffer(text.data() + have, want), kTuple);
    text.resize(have + n);
    ec = e;
  }
  if (ec == websocket::error::message_too_big) {
    co_return Error::PayloadTooLarge("websocket message too large");
  }
  if (ec) co_return Error::Unavailable("websocket closed: " + ec.message());
  if (!ws.got_text()) co_return Error::InvalidArgument("binary frames are not supported");
  co_return text;
}

Task<Status> WebSocket::Write(std::string_view text) {
  impl_->ws.text(true);
  auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(text.data(), text.size()), kTuple);
  (void)n;
  if (ec) co_return Error::Unavailable("websocket write failed: " + ec.message());
  co_return Ok();
}

Task<void> WebSocket::Close(std::uint16_t code, std::string_view reason) {
  if (impl_->closing || !impl_->ws.is_open()) co_return;
  impl_->closing = true;
  websocket::close_reason cr(code);
  cr.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), 120));
  auto [ec] = co_await impl_->ws.async_close(cr, kTuple);
  (void)ec;
}

void WebSocket::Cork(bool hold) {
  auto& socket = boost::beast::get_lowest_layer(impl_->ws).socket();
  if (!socket.is_open()) return;
  const int v = hold ? 1 : 0;
  // Best effort: a failure (the socket is closing) only costs the coalescing.
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
}

void WebSocket::Cancel() {
  boost::beast::get_lowest_layer(impl_->ws).cancel();
}

bool WebSocket::is_open() const {
  return impl_->ws.is_open() && !impl_->closing;
}

}  // namespace tchat::http
