#include "sink.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace tchat::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

struct HttpSink::Shared {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<SinkRequest> requests;
  std::map<std::string, std::deque<SinkReply>> scripts;
  bool stopping = false;
};

namespace {

std::string KeyOf(const json::object& body) {
  for (const char* f : {"token", "to"}) {
    if (auto it = body.find(f); it != body.end() && it->value().is_string()) {
      return std::string(it->value().as_string());
    }
  }
  return {};
}

asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<HttpSink::Shared> shared) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    auto [ec, n] =
        co_await bhttp::async_read(stream, buf, req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    SinkRequest rec;
    rec.path = std::string(req.target());
    rec.idempotency_key = std::string(req["Idempotency-Key"]);
    rec.at = std::chrono::steady_clock::now();
    boost::system::error_code jec;
    json::value v = json::parse(req.body(), jec);
    if (!jec && v.is_object()) rec.body = std::move(v.as_object());
    SinkReply reply;
    {
      std::lock_guard lock(shared->mu);
      auto it = shared->scripts.find(KeyOf(rec.body));
      if (it != shared->scripts.end() && !it->second.empty()) {
        reply = it->second.front();
        it->second.pop_front();
      }
      rec.status = reply.hang ? 0 : reply.status;
      shared->requests.push_back(rec);
    }
    shared->cv.notify_all();
    if (reply.hang) {
      // Say nothing until the client gives up (it closes the connection).
      char byte;
      (void)co_await stream.socket().async_read_some(asio::buffer(&byte, 1),
                                                     asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status),
                                            req.version()};
    res.set(bhttp::field::content_type, "application/json");
    if (reply.retry_after) res.set(bhttp::field::retry_after, std::to_string(*reply.retry_after));
    res.body() = reply.status < 300 ? R"({"ok":true})" : R"({"error":"scripted"})";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, std::shared_ptr<HttpSink::Shared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Session(std::move(socket), shared), asio::detached);
  }
}

}  // namespace

HttpSink::HttpSink(const std::string& host_port) : shared_(std::make_shared<Shared>()) {
  const auto colon = host_port.rfind(':');
  const std::string host = host_port.substr(0, colon);
  const auto port = static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1)));
  tcp::endpoint ep(asio::ip::make_address(host), port);
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  acceptor_->open(ep.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen();
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(io_, Accept(*acceptor_, shared_), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

HttpSink::~HttpSink() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void HttpSink::Script(const std::string& key, std::vector<SinkReply> replies) {
  std::lock_guard lock(shared_->mu);
  auto& q = shared_->scripts[key];
  for (auto& r : replies) q.push_back(r);
}

std::vector<SinkRequest> HttpSink::All() const {
  std::lock_guard lock(shared_->mu);
  return shared_->requests;
}

std::vector<SinkRequest> HttpSink::Matching(const std::string& field,
                                            const std::string& value) const {
  std::vector<SinkRequest> out;
  std::lock_guard lock(shared_->mu);
  for (const auto& r : shared_->requests) {
    auto it = r.body.find(field);
    if (it != r.body.end() && it->value().is_string() && it->value().as_string() == value) {
      out.push_back(r);
    }
  }
  return out;
}

bool HttpSink::WaitFor(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(shared_->mu);
  return shared_->cv.wait_for(lock, timeout, [&] { return pred(shared_->requests); });
}

bool HttpSink::WaitForCount(const std::string& field, const std::string& value, std::size_t n,
                            std::chrono::milliseconds timeout) const {
  return WaitFor(
      [&](const std::vector<SinkRequest>& all) {
        std::size_t c = 0;
        for (const auto& r : all) {
          auto it = r.body.find(field);
          if (it != r.body.end() && it->value().is_string() && it->value().as_string() == value) {
            ++c;
          }
        }
        return c >= n;
      },
      timeout);
}

}  // namespace tchat::e2e
