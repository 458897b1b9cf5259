#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/error.hpp>

#include "websocket_impl.hpp"

namespace tchat::http {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

Task<Result<std::string>> WebSocket::Read() {
  for (;;) {
    auto [ec, n] = co_await impl_->ws.async_read(impl_->buffer, kTuple);
    if (ec == websocket::error::message_too_big) {
      co_return Error::PayloadTooLarge("websocket message too large");
    }
    if (ec) co_return Error::Unavailable("websocket closed: " + ec.message());
    std::string text = boost::beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(n);
    if (!impl_->ws.got_text()) co_return Error::InvalidArgument("binary frames are not supported");
    co_return text;
  }
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

void WebSocket::Cancel() {
  boost::beast::get_lowest_layer(impl_->ws).cancel();
}

bool WebSocket::is_open() const {
  return impl_->ws.is_open() && !impl_->closing;
}

}  // namespace tchat::http
