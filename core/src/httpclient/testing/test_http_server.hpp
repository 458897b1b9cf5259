#pragma once

// A tiny HTTP/1.1 server for hermetic tests of code that makes HTTP requests. It
// listens on 127.0.0.1, port 0, runs on the test's io_context (same thread as the
// code under test) and answers through a coroutine handler. Test-only.

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <tchat/core/task.hpp>

namespace tchat::testing {

struct TestRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int index_on_connection = 0;  // 0 for the first request of a connection
  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (std::equal(n.begin(), n.end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return v;
      }
    }
    return {};
  }
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  bool close = false;       // answer with Connection: close
  bool drop_after = false;  // advertise keep-alive but close the socket after answering
  bool abort = false;       // close the connection without answering
};

// nullopt: never answer (the connection stays open and silent).
using TestHandler = std::function<Task<std::optional<TestResponse>>(TestRequest)>;

class TestHttpServer {
 public:
  // Counters the tests assert on; shared with the session coroutines so that they
  // stay valid whatever is destroyed first.
  struct State {
    TestHandler handler;
    std::optional<boost::asio::ssl::context> tls;
    int connections = 0;  // accepted so far
    int open = 0;         // open now
    int max_open = 0;     // high-water mark of `open`
    int requests = 0;     // requests read
  };

  // `tls_cert_pem`/`tls_key_pem` non-empty: serve HTTPS.
  TestHttpServer(boost::asio::io_context& io, TestHandler handler, std::string tls_cert_pem = {},
                 std::string tls_key_pem = {})
      : state_(std::make_shared<State>()),
        acceptor_(std::make_shared<boost::asio::ip::tcp::acceptor>(
            io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0))) {
    state_->handler = std::move(handler);
    if (!tls_cert_pem.empty()) {
      state_->tls.emplace(boost::asio::ssl::context::tls_server);
      state_->tls->use_certificate_chain(boost::asio::buffer(tls_cert_pem));
      state_->tls->use_private_key(boost::asio::buffer(tls_key_pem),
                                   boost::asio::ssl::context::pem);
    }
    boost::asio::co_spawn(io, AcceptLoop(state_, acceptor_), boost::asio::detached);
  }
  ~TestHttpServer() { Close(); }

  // Stops accepting; open connections are left alone.
  void Close() {
    boost::system::error_code ec;
    acceptor_->close(ec);
  }

  std::uint16_t port() const { return port_; }
  std::string Url(std::string_view path, std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  const State& state() const { return *state_; }

 private:
  static constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  static Task<void> AcceptLoop(std::shared_ptr<State> st,
                               std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor) {
    for (;;) {
      auto [ec, sock] = co_await acceptor->async_accept(kUseTuple);
      if (ec) co_return;
      boost::asio::co_spawn(acceptor->get_executor(), Session(st, std::move(sock)),
                            boost::asio::detached);
    }
  }

  static Task<void> Session(std::shared_ptr<State> st, boost::asio::ip::tcp::socket sock) {
    ++st->connections;
    st->max_open = std::max(st->max_open, ++st->open);
    boost::beast::tcp_stream stream(std::move(sock));
    if (st->tls) {
      boost::beast::ssl_stream<boost::beast::tcp_stream> tls(std::move(stream), *st->tls);
      auto [ec] = co_await tls.async_handshake(boost::asio::ssl::stream_base::server, kUseTuple);
      if (!ec) co_await Serve(st, tls);
    } else {
      co_await Serve(st, stream);
    }
    --st->open;
  }

  template <typename Stream>
  static Task<void> Serve(std::shared_ptr<State> st, Stream& stream) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (int index = 0;; ++index) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, kUseTuple);
      if (ec) co_return;
      ++st->requests;
      TestRequest treq{std::string(req.method_string()),
                       std::string(req.target()),
                       {},
                       std::move(req.body()),
                       index};
      for (const auto& f : req) treq.headers.emplace_back(f.name_string(), f.value());
      auto answer = co_await st->handler(std::move(treq));
      if (!answer) {  // hang until the test tears the io_context down
        boost::asio::steady_timer forever(stream.get_executor());
        forever.expires_after(std::chrono::hours(1));
        co_await forever.async_wait(kUseTuple);
        co_return;
      }
      if (answer->abort) co_return;
      http::response<http::string_body> res{static_cast<http::status>(answer->status),
                                            req.version()};
      for (const auto& [name, value] : answer->headers) res.insert(name, value);
      res.body() = std::move(answer->body);
      res.keep_alive(req.keep_alive() && !answer->close);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
      if (wec || !res.keep_alive() || answer->drop_after) co_return;
    }
  }

  std::shared_ptr<State> state_;
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::uint16_t port_ = acceptor_->local_endpoint().port();
};

// Runs `body` on `io` until it finishes (or `limit` passes), then stops the
// io_context so that servers' loops do not keep it running. Returns false on a
// time-out. Exceptions from `body` propagate.
inline bool RunUntilDone(boost::asio::io_context& io, Task<void> body,
                         std::chrono::seconds limit = std::chrono::seconds(30)) {
  bool done = false;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    done = true;
    error = e;
    io.stop();
  });
  io.run_for(limit);
  if (error) std::rethrow_exception(error);
  return done;
}

}  // namespace tchat::testing
