#include <chrono>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>

#include <tchat/core/http/server.hpp>
#include <tchat/core/http/websocket.hpp>
#include <tchat/core/metrics.hpp>
#include <tchat/core/worker.hpp>

namespace tchat::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A server with two workers on 127.0.0.1:<ephemeral>, torn down after each test.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Get(
        "/hello",
        [](Request& req) -> Task<Response> {
          co_return Response::Json(200, json::object{{"hello", "world"}, {"rid", req.request_id}});
        },
        {.authenticated = false});
    router_.Post("/echo",
                 [](Request& req) -> Task<Response> {
                   auto body = ParseJsonObject(req.body);
                   if (!body) co_return Response::FromError(body.error());
                   co_return Response::Json(200, *body);
                 },
                 {.authenticated = false});
    router_.Get("/items/{id}",
                [](Request& req) -> Task<Response> {
                  co_return Response::Json(200, json::object{{"id", req.PathParam("id")}});
                },
                {.authenticated = false});
    router_.Post("/whoami",
                 [](Request& req) -> Task<Response> {
                   co_return Response::Json(
                       200, json::object{{"user", req.user_id()},
                                         {"headers", static_cast<int>(req.headers.size())},
                                         {"body", req.body},
                                         {"params", static_cast<int>(req.path_params.size())}});
                 },
                 {.authenticated = false});
    router_.Get("/client",
                [](Request& req) -> Task<Response> {
                  co_return Response::Json(
                      200, json::object{{"ip", req.remote_ip}, {"key", req.client_key}});
                },
                {.authenticated = false});
    router_.Get("/me", [](Request& req) -> Task<Response> {
      co_return Response::Json(200, json::object{{"user", req.user_id()}});
    });
    router_.Get("/boom",
                [](Request&) -> Task<Response> {
                  throw std::runtime_error("kaboom");
                  co_return Response::NoContent();
                },
                {.authenticated = false});
    router_.Get("/slow",
                [](Request&) -> Task<Response> {
                  asio::steady_timer t(co_await asio::this_coro::executor, 400ms);
                  co_await t.async_wait(asio::use_awaitable);
                  co_return Response::Json(200, json::object{{"slow", true}});
                },
                {.authenticated = false});
    router_.WebSocketRoute("/ws", [](Request& req, WebSocket& ws) -> Task<void> {
      // The credentials stay out of the Request a WebSocket keeps for its lifetime.
      const bool token_kept = !req.Header("authorization").empty();
      (void)co_await ws.Write("hello " + req.user_id() + (token_kept ? " (token kept)" : ""));
      for (;;) {
        auto msg = co_await ws.Read();
        if (!msg && msg.error().code == ErrorCode::kInvalidArgument) {
          (void)co_await ws.Write("binary refused");
          continue;
        }
        if (!msg) co_return;
        if (msg->starts_with("many:")) {  // that many messages in one write
          std::vector<std::string> texts;
          for (int i = 0; i < std::stoi(msg->substr(5)); ++i)
            texts.push_back("m" + std::to_string(i));
          std::vector<std::string_view> views(texts.begin(), texts.end());
          (void)co_await ws.WriteMany(views);
          continue;
        }
        (void)co_await ws.Write(*msg);
      }
    });

    for (int i = 0; i < 2; ++i) {
      ios_.push_back(std::make_unique<asio::io_context>(1));
      workers_.push_back(std::make_unique<Worker>(i, *ios_.back()));
    }
    ServerOptions opts;
    opts.service = "test";
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.max_body_bytes = 1024;
    opts.header_timeout = 300ms;
    opts.idle_timeout = 300ms;
    std::vector<Worker*> ws;
    for (auto& w : workers_) ws.push_back(w.get());
    Authenticator auth = [](std::string_view token) -> Result<AuthContext> {
      if (token == "good") return AuthContext{"user-1", "sess-1", {}};
      return Error::Unauthenticated("bad token");
    };
    server_ = std::make_unique<Server>(opts, router_, auth, ws);
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
    for (auto& io : ios_) {
      guards_.emplace_back(io->get_executor());
      threads_.emplace_back([&io = *io] { io.run(); });
    }
  }

  void TearDown() override {
    server_->Shutdown();
    guards_.clear();
    for (int i = 0; i < 100 && server_->active_connections() > 0; ++i)
      std::this_thread::sleep_for(10ms);
    for (auto& io : ios_) io->stop();
    for (auto& t : threads_) t.join();
  }

  // Sends raw bytes on a fresh connection and reads until the server closes or
  // `max` bytes arrive.
  std::string Raw(const std::string& bytes, bool read_until_close = true) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    asio::write(s, asio::buffer(bytes));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    do {
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (!read_until_close && out.find("\r\n\r\n") != std::string::npos) break;
    } while (!ec);
    return out;
  }

  std::string Get(const std::string& path, const std::string& extra = "") {
    return Raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n");
  }

  Router router_;
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, ServesJsonAndEchoesRequestId) {
  std::string r = Get("/hello", "X-Request-ID: req-123\r\n");
  EXPECT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("X-Request-ID: req-123"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"hello":"world","rid":"req-123"})"), std::string::npos) << r;
  std::string g = Get("/hello", "X-Request-ID: bad id with spaces\r\n");
  EXPECT_EQ(g.find("bad id"), std::string::npos);
  EXPECT_NE(g.find("X-Request-ID: "), std::string::npos);
}

// The test's client connects from loopback, a trusted proxy by default: the
// headers name the client when they hold addresses, and only then.
TEST_F(ServerTest, ClientAddressComesFromTrustedForwardingHeaders) {
  EXPECT_NE(Get("/client").find(R"({"ip":"127.0.0.1","key":"127.0.0.1"})"), std::string::npos);
  EXPECT_NE(Get("/client", "X-Real-IP: 203.0.113.7\r\n").find(R"("ip":"203.0.113.7")"),
            std::string::npos);
  EXPECT_NE(Get("/client", "X-Real-IP: not-an-address\r\n").find(R"("ip":"127.0.0.1")"),
            std::string::npos);
  EXPECT_NE(Get("/client", "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\nX-Real-IP: 1.1.1.1\r\n")
                .find(R"("ip":"203.0.113.9")"),
            std::string::npos);
  // A second header cannot hide the hop the proxy appended to the first.
  EXPECT_NE(Get("/client", "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 6.6.6.6\r\n")
                .find(R"("ip":"6.6.6.6")"),
            std::string::npos);
  EXPECT_NE(Get("/client", "X-Real-IP: 2001:db8:1:2:3:4:5:6\r\n")
                .find(R"({"ip":"2001:db8:1:2:3:4:5:6","key":"2001:db8:1:2::/64"})"),
            std::string::npos);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string two =
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n";
  std::string r = Raw(two);
  EXPECT_NE(r.find(R"({"id":"1"})"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"id":"2"})"), std::string::npos) << r;
}

// A connection reuses its request and response buffers: nothing of one request
// (identity, headers, body, parameters, request id) may show in the next.
TEST_F(ServerTest, KeepAliveRequestsShareNothing) {
  std::string three =
      "GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nX-Request-ID: first\r\n\r\n"
      "GET /items/9 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi";
  std::string r = Raw(three);
  EXPECT_NE(r.find(R"({"user":"user-1"})"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"id":"9"})"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"user":"","headers":3,"body":"hi","params":0})"), std::string::npos) << r;
  EXPECT_EQ(r.find("X-Request-ID: first"), r.rfind("X-Request-ID: first")) << r;
}

TEST_F(ServerTest, UnknownRouteIsJson404AndWrongMethod405) {
  std::string r = Get("/nope");
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"error":{"code":"not_found","message":"no route for GET /nope"}})"),
            std::string::npos)
      << r;
  std::string m = Raw("DELETE /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(m.find("HTTP/1.1 405"), std::string::npos) << m;
  EXPECT_NE(m.find("Allow: GET"), std::string::npos) << m;
}

TEST_F(ServerTest, BadJsonIs400WithErrorBody) {
  std::string body = "{not json";
  std::string r = Raw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("code":"invalid_argument")"), std::string::npos) << r;
  std::string ok = R"({"a":1})";
  std::string r2 = Raw("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(ok.size()) + "\r\n\r\n" + ok);
  EXPECT_NE(r2.find("HTTP/1.1 200"), std::string::npos) << r2;
}

TEST_F(ServerTest, OversizedBodyIs413) {
  std::string r = Raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("code":"payload_too_large")"), std::string::npos) << r;
  std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
      std::string(0x800, 'a') + "\r\n0\r\n\r\n";
  std::string r2 = Raw(chunked);
  EXPECT_NE(r2.find("HTTP/1.1 413"), std::string::npos) << r2;
}

TEST_F(ServerTest, AClientStillSendingARefusedBodyReadsThe413) {
  // The server answers 413 as soon as it sees the length, while the client is
  // still writing: closing at once would reset the connection under the client
  // (its write fails, the answer is lost). The server reads and drops the rest.
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  const std::size_t size = 16u << 20;
  std::string req =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n";
  req += std::string(size, 'a');
  boost::system::error_code ec;
  asio::write(s, asio::buffer(req), ec);
  EXPECT_FALSE(ec) << "writing the body failed: " << ec.message();
  std::string answer;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    answer.append(buf, n);
    if (ec) break;
  }
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << ec.message();
}

TEST_F(ServerTest, ChunkedBodyIsDecoded) {
  std::string r = Raw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\n{\"a\r\n4;ext=1\r\n\":1}\r\n0\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"a":1})"), std::string::npos) << r;
}

TEST_F(ServerTest, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  std::string body = R"({"b":2})";
  asio::write(s, asio::buffer("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                              "Connection: close\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n"));
  char buf[4096];
  std::size_t n = s.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n), "HTTP/1.1 100 Continue\r\n\r\n");
  asio::write(s, asio::buffer(body));
  std::string out;
  boost::system::error_code ec;
  do {
    n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
  } while (!ec);
  EXPECT_NE(out.find("HTTP/1.1 200"), std::string::npos) << out;
  EXPECT_NE(out.find(body), std::string::npos) << out;
}

TEST_F(ServerTest, HeadAnswersTheHeadersOfGetWithoutTheBody) {
  std::string r = Raw("HEAD /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Length: 10\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find(R"({"id":"7"})"), std::string::npos) << r;
}

TEST_F(ServerTest, Http10IsKeptAliveOnlyWhenAsked) {
  std::string two =
      "GET /items/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /items/2 HTTP/1.0\r\n\r\n";
  std::string r = Raw(two);
  EXPECT_NE(r.find("HTTP/1.0 200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"id":"2"})"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
}

TEST_F(ServerTest, OversizedHeaderIs413AndPlainGetOnWebSocketRouteIs400) {
  std::string r =
      Raw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r.substr(0, 200);
  std::string ws = Get("/ws", "Authorization: Bearer good\r\n");
  EXPECT_NE(ws.find("HTTP/1.1 400"), std::string::npos) << ws;
  EXPECT_NE(ws.find("needs a WebSocket upgrade"), std::string::npos) << ws;
}

TEST_F(ServerTest, MalformedRequestIs400AndServerKeepsServing) {
  std::string r = Raw("GARBAGE\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
  std::string r2 = Raw("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  EXPECT_NE(r2.find("HTTP/1.1 400"), std::string::npos) << r2;
  EXPECT_NE(Get("/hello").find("200 OK"), std::string::npos);
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterHeaderTimeout) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  asio::write(s,
              asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n")));  // never finished
  auto start = std::chrono::steady_clock::now();
  char buf[256];
  boost::system::error_code ec;
  std::size_t n = s.read_some(asio::buffer(buf), ec);  // blocks until the server closes
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec) << "server answered a request it never fully received: " << std::string(buf, n);
  EXPECT_LT(waited, 5s);
  EXPECT_NE(Get("/hello").find("200 OK"), std::string::npos);  // unaffected
}

TEST_F(ServerTest, ASecondServerCannotShareATakenPort) {
  // SO_REUSEPORT must not let a second process split this one's traffic.
  asio::io_context io(1);
  Worker w(0, io);
  ServerOptions opts;
  opts.service = "second";
  opts.address = "127.0.0.1";
  opts.port = server_->port();
  Server second(opts, router_, nullptr, {&w});
  Status st = second.Listen();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot bind"), std::string::npos) << st.error().message;
  EXPECT_NE(Get("/hello").find("200 OK"), std::string::npos);
}

TEST_F(ServerTest, KeepAliveConnectionThatGoesQuietIsClosedAfterIdleTimeout) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  // Requests spread over more than one idle timeout keep the connection open: the
  // deadline moves with each one.
  char buf[4096];
  for (int i = 0; i < 4; ++i) {
    asio::write(s, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::size_t n = s.read_some(asio::buffer(buf));
    ASSERT_NE(std::string(buf, n).find("200 OK"), std::string::npos) << "request " << i;
    std::this_thread::sleep_for(150ms);
  }
  // Then silence: the server closes within about one idle timeout (300 ms).
  auto start = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  std::size_t n = s.read_some(asio::buffer(buf), ec);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec) << std::string(buf, n);
  EXPECT_GT(waited, 100ms);
  EXPECT_LT(waited, 3s);
}
TEST_F(ServerTest, AuthenticatedRoutesNeedAValidBearerToken) {
  std::string none = Get("/me");
  EXPECT_NE(none.find("HTTP/1.1 401"), std::string::npos) << none;
  EXPECT_NE(none.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_NE(Get("/me", "Authorization: Bearer nope\r\n").find("HTTP/1.1 401"), std::string::npos);
  std::string ok = Get("/me", "Authorization: Bearer good\r\n");
  EXPECT_NE(ok.find(R"({"user":"user-1"})"), std::string::npos) << ok;
}

TEST_F(ServerTest, HandlerExceptionIs500AndCounted) {
  std::string r = Get("/boom");
  EXPECT_NE(r.find("HTTP/1.1 500"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("code":"internal")"), std::string::npos);
  EXPECT_EQ(r.find("kaboom"), std::string::npos) << "internal detail leaked";
  std::string text = metrics::Registry::Default().Expose();
  EXPECT_NE(
      text.find(R"(http_requests_total{service="test",method="GET",route="/boom",status="500"})"),
      std::string::npos);
  EXPECT_NE(
      text.find(
          R"(http_request_duration_seconds_bucket{service="test",method="GET",route="/items/{id}")"),
      std::string::npos);
}

TEST_F(ServerTest, WebSocketUpgradeNeedsTokenAndEchoes) {
  std::string denied =
      Raw("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_NE(denied.find("HTTP/1.1 401"), std::string::npos) << denied;

  asio::io_context io;
  boost::beast::websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  ws.handshake("x", "/ws?access_token=good");
  boost::beast::flat_buffer buf;
  ws.read(buf);
  EXPECT_EQ(boost::beast::buffers_to_string(buf.data()), "hello user-1");
  buf.clear();
  ws.write(asio::buffer(std::string("ping-1")));
  ws.read(buf);
  EXPECT_EQ(boost::beast::buffers_to_string(buf.data()), "ping-1");
  ws.close(boost::beast::websocket::close_code::normal);
}

// Read() waits for a message with no buffer and then reads it frame by frame:
// large, fragmented and empty messages arrive whole; one over the limit ends it.
TEST_F(ServerTest, WebSocketReadsWholeMessagesOfAnySize) {
  asio::io_context io;
  boost::beast::websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  ws.set_option(boost::beast::websocket::stream_base::decorator(
      [](boost::beast::websocket::request_type& r) { r.set("Authorization", "Bearer good"); }));
  ws.handshake("x", "/ws");
  boost::beast::flat_buffer buf;
  ws.read(buf);
  EXPECT_EQ(boost::beast::buffers_to_string(buf.data()), "hello user-1");

  auto echo = [&](const std::string& sent) {
    buf.clear();
    ws.read(buf);
    return boost::beast::buffers_to_string(buf.data()) == sent;
  };
  std::string big(50000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  ws.write(asio::buffer(big));
  EXPECT_TRUE(echo(big));

  // One message in three frames, the first two of them written before the last.
  ws.write_some(false, asio::buffer(big.data(), 3000));
  ws.write_some(false, asio::buffer(big.data() + 3000, 10));
  ws.write_some(true, asio::buffer(big.data() + 3010, 7000));
  EXPECT_TRUE(echo(big.substr(0, 10010)));

  // Two small messages sent back to back, then an empty one.
  ws.write(asio::buffer(std::string("one")));
  ws.write(asio::buffer(std::string("two")));
  EXPECT_TRUE(echo("one"));
  EXPECT_TRUE(echo("two"));
  ws.write(asio::buffer(std::string()));
  EXPECT_TRUE(echo(""));

  // Over max_ws_message_bytes (64 KiB): the server gives up on the connection.
  boost::system::error_code ec;
  ws.write(asio::buffer(std::string(70000, 'y')), ec);  // may fail: the server closes early
  buf.clear();
  ws.read(buf, ec);
  EXPECT_TRUE(ec) << boost::beast::buffers_to_string(buf.data());
}

// The framing the server does itself: pings answered, binary messages refused
// without ending the connection, several messages in one write arriving in
// order and whole, a clean close echoed.
TEST_F(ServerTest, WebSocketControlFramesBinaryAndBatchedWrites) {
  asio::io_context io;
  boost::beast::websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  ws.handshake("x", "/ws?access_token=good");
  boost::beast::flat_buffer buf;
  auto next = [&] {
    buf.clear();
    ws.read(buf);
    return boost::beast::buffers_to_string(buf.data());
  };
  EXPECT_EQ(next(), "hello user-1");
  std::string pong;
  ws.control_callback([&](boost::beast::websocket::frame_type kind, boost::beast::string_view p) {
    if (kind == boost::beast::websocket::frame_type::pong) pong = std::string(p);
  });
  ws.ping("are you there");
  ws.write(asio::buffer(std::string("after ping")));
  EXPECT_EQ(next(), "after ping");
  EXPECT_EQ(pong, "are you there");

  ws.binary(true);
  ws.write(asio::buffer(std::string("\x00\x01", 2)));
  ws.text(true);
  EXPECT_EQ(next(), "binary refused");
  ws.write(asio::buffer(std::string("still here")));
  EXPECT_EQ(next(), "still here");

  ws.write(asio::buffer(std::string("many:300")));
  for (int i = 0; i < 300; ++i) ASSERT_EQ(next(), "m" + std::to_string(i));
  ws.write(asio::buffer(std::string("many:0")));
  ws.write(asio::buffer(std::string("after none")));
  EXPECT_EQ(next(), "after none");

  ws.close(boost::beast::websocket::close_code::normal);
  EXPECT_EQ(ws.reason().code, boost::beast::websocket::close_code::normal);
}

// A malformed header or chunked body gets a 400 at once, however it is split
// into segments (a bare-LF header in two used to wait for the header timeout; a
// bad chunked body used to be closed without an answer).
TEST_F(ServerTest, MalformedRequestsGet400AtOnce) {
  auto answer = [&](std::vector<std::string> segments) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    for (const auto& seg : segments) {
      asio::write(s, asio::buffer(seg));
      std::this_thread::sleep_for(30ms);
    }
    const auto start = std::chrono::steady_clock::now();
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (!ec) out.append(buf, s.read_some(asio::buffer(buf), ec));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 200ms) << out;  // not the 300 ms timeout
    return out.substr(0, out.find("\r\n"));
  };
  EXPECT_EQ(answer({"GET /hello HTTP/1.1\nHost: x\n\n"}), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(answer({"GET /hello HTTP/1.1", "\nHost: x\n", "\n"}), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(answer({"GET /hello HTTP/1.1\r\nHost: x", "\nA: b\r\n", "\r\n"}),
            "HTTP/1.1 400 Bad Request");
  const std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* body : {"zz\r\nhi\r\n0\r\n\r\n", "fffffffffffffffffffff\r\n",
                           "2\r\nhello\r\n0\r\n\r\n", "2\r\nhi\r\n0\r\n\x01\x02\r\n\r\n"}) {
    EXPECT_EQ(answer({chunked, body}), "HTTP/1.1 400 Bad Request") << body;
  }
}

// Frames that break RFC 6455 end the connection with the code it names.
TEST_F(ServerTest, WebSocketProtocolViolationsCloseWithTheirCodes) {
  auto close_code_after = [&](const std::string& frame) -> int {
    asio::io_context io;
    boost::beast::websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    ws.handshake("x", "/ws?access_token=good");
    boost::beast::flat_buffer buf;
    ws.read(buf);  // hello
    asio::write(ws.next_layer(), asio::buffer(frame));
    boost::system::error_code ec;
    buf.clear();
    ws.read(buf, ec);
    if (ec != boost::beast::websocket::error::closed) {
      ADD_FAILURE() << ec.message();
      return -1;
    }
    return ws.reason().code;
  };
  // Masked frames with the key 0 keep the payload as it is written here.
  const std::string mask(4, '\0');
  EXPECT_EQ(close_code_after(std::string("\x81\x02", 2) + "hi"), 1002) << "unmasked";
  EXPECT_EQ(close_code_after(std::string("\x81\x82", 2) + mask + "\xff\xfe"), 1007);
  EXPECT_EQ(close_code_after(std::string("\xc1\x82", 2) + mask + "hi"), 1002) << "RSV1";
  EXPECT_EQ(close_code_after(std::string("\x83\x82", 2) + mask + "hi"), 1002) << "opcode 3";
  EXPECT_EQ(close_code_after(std::string("\x09\x82", 2) + mask + "hi"), 1002) << "fragmented ping";
  EXPECT_EQ(close_code_after(std::string("\x80\x82", 2) + mask + "hi"), 1002)
      << "continuation of nothing";
  std::string huge("\x81\xff", 2);
  huge += std::string("\x00\x00\x00\x00\x01\x00\x00\x00", 8);  // 16 MiB announced
  EXPECT_EQ(close_code_after(huge + mask), 1009);
  // A close frame's code is echoed when it may be sent, else answered with 1002.
  // (Read raw: the server closes the connection right after its answer.)
  auto close_with = [&](unsigned code) -> int {
    asio::io_context io;
    boost::beast::websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    ws.handshake("x", "/ws?access_token=good");
    boost::beast::flat_buffer buf;
    ws.read(buf);  // hello
    asio::write(ws.next_layer(),
                asio::buffer(std::string("\x88\x82", 2) + mask + static_cast<char>(code >> 8) +
                             static_cast<char>(code & 0xFF)));
    unsigned char frame[4] = {};
    boost::system::error_code ec;
    asio::read(ws.next_layer(), asio::buffer(frame), ec);
    if (ec || frame[0] != 0x88 || frame[1] != 2) return -1;
    return frame[2] << 8 | frame[3];
  };
  for (unsigned ok : {1000u, 1001u, 1003u, 1011u, 3000u, 4999u}) EXPECT_EQ(close_with(ok), ok);
  for (unsigned bad : {0u, 999u, 1004u, 1005u, 1006u, 1015u, 2999u, 5000u, 65535u}) {
    EXPECT_EQ(close_with(bad), 1002) << bad;
  }
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinish) {
  std::string result;
  std::thread client([&] { result = Get("/slow"); });
  std::this_thread::sleep_for(100ms);  // the request is now inside the handler
  server_->Shutdown();
  client.join();
  EXPECT_NE(result.find(R"({"slow":true})"), std::string::npos) << result;
  for (int i = 0; i < 100 && server_->active_connections() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->active_connections(), 0u);
}

}  // namespace
}  // namespace tchat::http
