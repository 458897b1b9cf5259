#pragma once

// Private: the state behind tchat::http::WebSocket, shared by server.cpp (which
// performs the upgrade with Beast and then hands the socket over) and
// websocket.cpp (RFC 6455 framing on that socket).
#include <cstddef>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/http/websocket.hpp>

namespace tchat::http {

struct WebSocket::Impl {
  Impl(boost::asio::ip::tcp::socket s, std::size_t max_message_bytes)
      : socket(std::move(s)),
        max_message(max_message_bytes),
        write_done(socket.get_executor()),
        close_wait(socket.get_executor()) {
    // Never expires: cancel() is the wake-up, and waiters never disturb one
    // another (setting an expiry would cancel the others' waits).
    write_done.expires_at(boost::asio::steady_timer::time_point::max());
  }

  boost::asio::ip::tcp::socket socket;
  std::size_t max_message;
  // Received bytes not parsed yet: [rpos, rbuf.size()). Between frames it
  // keeps a small capacity (kWaitBuffer, websocket.cpp) to wait with.
  std::string rbuf;
  std::size_t rpos = 0;
  bool last_read_full = false;  // the last read filled its buffer: more may be queued
  bool close_sent = false;
  bool close_received = false;
  bool failed = false;
  bool reading = false;  // Read is waiting on the socket
  // One write on the wire at a time. Control frames (pong, close) that arrive
  // during a write go out right after it; other writers wait on write_done.
  bool writing = false;
  std::string control;
  boost::asio::steady_timer write_done;
  // After our close frame: how long the peer has to answer before the
  // connection is cut.
  boost::asio::steady_timer close_wait;
};

}  // namespace tchat::http
