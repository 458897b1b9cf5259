#include "response_head.hpp"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

namespace tchat::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

bool SafeHeaderText(std::string_view v) {
  return v.find_first_of("\r\n") == std::string_view::npos;
}

void AppendNumber(std::string& out, std::size_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void FormatHead(std::string& h, const Response& res, unsigned version, bool keep_alive,
                std::string_view request_id) {
  h.clear();
  h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendNumber(h, static_cast<std::size_t>(res.status));
  h += ' ';
  h += bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  h += "\r\n";
  if (!res.content_type.empty()) {
    h += "Content-Type: ";
    h += res.content_type;
    h += "\r\n";
  }
  if (!Bodiless(res)) {
    h += "Content-Length: ";
    AppendNumber(h, res.body.size());
    h += "\r\n";
  }
  if (!request_id.empty()) {
    h += "X-Request-ID: ";
    h += request_id;
    h += "\r\n";
  }
  for (const auto& [k, v] : res.headers) {
    if (!SafeHeaderText(k) || !SafeHeaderText(v)) continue;  // no response splitting
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (!keep_alive) {
    h += "Connection: close\r\n";
  } else if (version == 10) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
}

asio::awaitable<bool> WriteResponse(ConnIo& io, const Response& res, unsigned version,
                                    bool keep_alive, const std::string& request_id,
                                    std::chrono::milliseconds timeout, bool head) {
  std::string h;
  FormatHead(h, res, version, keep_alive, request_id);
  const auto bufs = ResponseBuffers(h, res, head);
  io.Expire(timeout);
  auto [ec, n] = co_await asio::async_write(io.socket, bufs, asio::as_tuple(asio::use_awaitable));
  (void)n;
  co_return !ec;
}

}  // namespace tchat::http
