#pragma once

// Private to the HTTP server: responses written straight to the socket.
#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <tchat/core/http/types.hpp>

#include "conn_io.hpp"

namespace tchat::http {

// Statuses whose responses carry no body.
inline bool Bodiless(const Response& res) {
  return res.status == 204 || res.status == 304 || res.status < 200;
}

// Formats the head of a response built from our Response type into `h` (whose
// capacity a connection reuses); the body is sent after it in one gathered
// write (a third of the CPU of Beast's generic serializer on small responses).
void FormatHead(std::string& h, const Response& res, unsigned version, bool keep_alive,
                std::string_view request_id);

// The buffers of a response whose head is `h`: no body for HEAD or bodiless statuses.
inline std::array<boost::asio::const_buffer, 2> ResponseBuffers(const std::string& h,
                                                                const Response& res,
                                                                bool head_request) {
  std::array<boost::asio::const_buffer, 2> bufs{boost::asio::buffer(h),
                                                boost::asio::const_buffer()};
  if (!head_request && !Bodiless(res)) bufs[1] = boost::asio::buffer(res.body);
  return bufs;
}

// Writes a response outside the keep-alive loop (refusals before a request is
// complete, WebSocket upgrades that are denied). False when the write failed.
boost::asio::awaitable<bool> WriteResponse(ConnIo& io, const Response& res, unsigned version,
                                           bool keep_alive, const std::string& request_id,
                                           std::chrono::milliseconds timeout, bool head);

}  // namespace tchat::http
