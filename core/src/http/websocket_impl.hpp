#pragma once

// Private: the Beast stream behind tchat::http::WebSocket, shared by server.cpp
// (which performs the upgrade) and websocket.cpp.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <tchat/core/http/websocket.hpp>

namespace tchat::http {

struct WebSocket::Impl {
  explicit Impl(boost::beast::tcp_stream&& stream) : ws(std::move(stream)) {}
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws;
  bool closing = false;
};

}  // namespace tchat::http
