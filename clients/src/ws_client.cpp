#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include <tchat/client/api_client.hpp>
#include <tchat/client/ws_client.hpp>
#include <tchat/core/httpclient/exchange_recorder.hpp>

namespace tchat::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct WsClient::Impl {
  explicit Impl(asio::any_io_executor ex) : ws(ex) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
};

WsClient::WsClient(asio::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(executor))) {}

WsClient::~WsClient() = default;

Result<HostPort> ParseBaseUrl(std::string_view url) {
  std::string_view rest;
  std::string default_port = "80";
  for (auto [scheme, port] : {std::pair{"http://", "80"}, std::pair{"ws://", "80"}}) {
    if (url.starts_with(scheme)) {
      rest = url.substr(std::string_view(scheme).size());
      default_port = port;
    }
  }
  if (rest.empty()) return Error::InvalidArgument("url must be http://host[:port]");
  rest = rest.substr(0, rest.find('/'));
  HostPort hp;
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    hp.host = std::string(rest);
    hp.port = default_port;
  } else {
    hp.host = std::string(rest.substr(0, colon));
    hp.port = std::string(rest.substr(colon + 1));
  }
  if (hp.host.empty() || hp.port.empty()) return Error::InvalidArgument("url has no host");
  return hp;
}

Task<Status> WsClient::Connect(std::string_view base_url, std::string_view access_token,
                               WsOptions options) {
  auto hp = ParseBaseUrl(base_url);
  if (!hp) co_return std::move(hp).error();
  auto& stream = beast::get_lowest_layer(impl_->ws);
  boost::system::error_code ec;
  tcp::endpoint target;
  auto addr = asio::ip::make_address(hp->host, ec);
  if (!ec) {
    target = tcp::endpoint(addr, static_cast<std::uint16_t>(std::stoi(hp->port)));
  } else {
    tcp::resolver resolver(impl_->ws.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(hp->host, hp->port, kTuple);
    if (rec || results.empty()) co_return Error::Unavailable("cannot resolve " + hp->host);
    target = *results.begin();
  }
  stream.socket().open(target.protocol(), ec);
  if (ec) co_return Error::Unavailable("socket: " + ec.message());
  if (!options.bind_address.empty()) {
#ifdef IP_BIND_ADDRESS_NO_PORT
    int one = 1;
    ::setsockopt(stream.socket().native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                 sizeof one);
#endif
    auto local = asio::ip::make_address(options.bind_address, ec);
    if (ec) co_return Error::InvalidArgument("bad bind address " + options.bind_address);
    stream.socket().bind(tcp::endpoint(local, 0), ec);
    if (ec) co_return Error::Unavailable("bind " + options.bind_address + ": " + ec.message());
  }
  stream.expires_after(options.connect_timeout);
  auto [cec] = co_await stream.async_connect(target, kTuple);
  if (cec) co_return Error::Unavailable("connect: " + cec.message());
  stream.socket().set_option(tcp::no_delay(true), ec);
  std::string path = "/v1/ws";
  if (options.token_in_query) {
    path += "?access_token=" + UrlEncode(access_token);
  } else {
    impl_->ws.set_option(websocket::stream_base::decorator(
        [auth = "Bearer " + std::string(access_token)](websocket::request_type& r) {
          r.set(beast::http::field::authorization, auth);
        }));
  }
  impl_->ws.read_message_max(options.max_message_bytes);
  websocket::response_type res;
  auto [hec] = co_await impl_->ws.async_handshake(res, hp->host + ":" + hp->port, path, kTuple);
  if (hec) {
    co_return Error::Unavailable("websocket handshake failed (HTTP " +
                                 std::to_string(res.result_int()) + "): " + hec.message());
  }
  stream.expires_never();
  websocket::stream_base::timeout t =
      websocket::stream_base::timeout::suggested(beast::role_type::client);
  impl_->ws.set_option(t);
  impl_->ws.text(true);
  co_return Ok();
}

Task<Result<std::string>> WsClient::ReadText() {
  auto [ec, n] = co_await impl_->ws.async_read(impl_->buffer, kTuple);
  if (ec) co_return Error::Unavailable("websocket closed: " + ec.message());
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(n);
  if (auto* rec = httpclient::ExchangeRecorder::Get()) rec->WsFrame(false, text);
  co_return text;
}

Task<Status> WsClient::WriteText(std::string_view text) {
  auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(text.data(), text.size()), kTuple);
  (void)n;
  if (ec) co_return Error::Unavailable("websocket write failed: " + ec.message());
  if (auto* rec = httpclient::ExchangeRecorder::Get()) rec->WsFrame(true, text);
  co_return Ok();
}

Task<void> WsClient::Close(std::uint16_t code) {
  if (!impl_->ws.is_open()) co_return;
  auto [ec] = co_await impl_->ws.async_close(websocket::close_reason(code), kTuple);
  (void)ec;
}

void WsClient::Abort() {
  boost::system::error_code ec;
  auto& sock = beast::get_lowest_layer(impl_->ws).socket();
  // RST rather than FIN: the peer sees a dead connection, as after a crash.
  sock.set_option(asio::socket_base::linger(true, 0), ec);
  sock.close(ec);
}

bool WsClient::is_open() const {
  return impl_->ws.is_open();
}

std::uint16_t WsClient::close_code() const {
  return static_cast<std::uint16_t>(impl_->ws.reason().code);
}

std::string WsClient::MessageSendFrame(std::string_view conversation_id,
                                       std::string_view client_msg_id, std::string_view body) {
  return ToJson(json::object{
      {"type", "message.send"},
      {"conversation_id", conversation_id},
      {"message",
       json::object{{"client_msg_id", client_msg_id}, {"type", "text"}, {"body", body}}}});
}

std::string WsClient::TypingFrame(std::string_view conversation_id) {
  return ToJson(json::object{{"type", "typing"}, {"conversation_id", conversation_id}});
}

std::string WsClient::PingFrame() {
  return R"({"type":"ping"})";
}

}  // namespace tchat::client
