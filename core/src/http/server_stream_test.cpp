// Streaming request bodies (RouteOptions::open_sink): the body goes to a sink as
// it arrives, the route's own limit holds, the caller is checked first.
#include <atomic>
#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <tchat/core/http/server.hpp>
#include <tchat/core/worker.hpp>

namespace tchat::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Counts what it is given; refuses more than 4096 bytes with its own 413.
class CountingSink : public BodySink {
 public:
  explicit CountingSink(std::atomic<int>& open) : open_(open) { ++open_; }
  ~CountingSink() override { --open_; }
  Status Write(std::string_view piece) override {
    bytes += piece.size();
    if (bytes > 4096) return Error::PayloadTooLarge("sink: over 4096");
    return Ok();
  }
  std::size_t bytes = 0;

 private:
  std::atomic<int>& open_;
};

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouteOptions o;
    o.max_body_bytes = 8192;
    o.open_sink = [this](Request& req) -> Task<Result<std::shared_ptr<BodySink>>> {
      ++opened_;
      if (req.Query("refuse")) co_return Error::Unprocessable("quota_exceeded", "no room");
      co_return std::shared_ptr<BodySink>(std::make_shared<CountingSink>(live_));
    };
    router_.Post(
        "/upload",
        [](Request& req) -> Task<Response> {
          auto* sink = static_cast<CountingSink*>(req.body_sink.get());
          co_return Response::Json(
              200, json::object{{"bytes", sink->bytes}, {"buffered", req.body.size()}});
        },
        o);
    router_.Post("/echo",
                 [](Request& req) -> Task<Response> { co_return Response::Text(200, req.body); },
                 {.authenticated = false});
    io_ = std::make_unique<asio::io_context>(1);
    worker_ = std::make_unique<Worker>(0, *io_);
    ServerOptions opts;
    opts.address = "127.0.0.1";
    opts.max_body_bytes = 1024;
    opts.body_timeout = 1s;
    Authenticator auth = [](std::string_view token) -> Result<AuthContext> {
      if (token == "good") return AuthContext{"user-1", "sess-1", {}};
      return Error::Unauthenticated("bad token");
    };
    server_ = std::make_unique<Server>(opts, router_, auth, std::vector<Worker*>{worker_.get()});
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
    guard_.emplace(io_->get_executor());
    thread_ = std::thread([this] { io_->run(); });
  }
  void TearDown() override {
    server_->Shutdown();
    guard_.reset();
    for (int i = 0; i < 100 && server_->active_connections() > 0; ++i)
      std::this_thread::sleep_for(10ms);
    io_->stop();
    thread_.join();
  }
  std::string Raw(const std::string& bytes) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
    std::string out;
    char buf[4096];
    do {
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
    } while (!ec);
    return out;
  }
  // Sends the request's head, then `pieces` pieces of the body `gap` apart.
  std::string SlowPost(const std::string& path, int pieces, std::chrono::milliseconds gap) {
    const std::string piece(100, 'x');
    const std::string head = Post(path, "").substr(0, Post(path, "").find("Content-Length"));
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    boost::system::error_code ec;
    asio::write(s,
                asio::buffer(head + "Content-Length: " + std::to_string(piece.size() * pieces) +
                             "\r\n\r\n"),
                ec);
    for (int i = 0; i < pieces && !ec; ++i) {
      std::this_thread::sleep_for(gap);
      asio::write(s, asio::buffer(piece), ec);
    }
    std::string out;
    char buf[4096];
    while (!ec) {
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
    }
    return out;
  }
  // The server lets go of a connection (and its request's sink) once the client
  // closed its end, a moment after the client has read the answer.
  bool NoSinkLeft() {
    for (int i = 0; i < 200 && live_.load() != 0; ++i) std::this_thread::sleep_for(5ms);
    return live_.load() == 0;
  }
  static std::string Post(const std::string& path, const std::string& body,
                          const std::string& extra = "Authorization: Bearer good\r\n") {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  Router router_;
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<Worker> worker_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<Server> server_;
  std::atomic<int> opened_{0};
  std::atomic<int> live_{0};
};

TEST_F(StreamTest, BodyGoesToTheSinkNotTheRequest) {
  std::string r = Raw(Post("/upload", std::string(3000, 'x')));
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"bytes":3000,"buffered":0})"), std::string::npos) << r;
  // Chunked as well.
  r =
      Raw("POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer good\r\n"
          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_NE(r.find(R"({"bytes":8,"buffered":0})"), std::string::npos) << r;
  EXPECT_TRUE(NoSinkLeft());  // released with the request
}

TEST_F(StreamTest, TheRoutesLimitHoldsNotTheServers) {
  // 2000 bytes: over the server's 1024 but within the route's 8192.
  EXPECT_NE(Raw(Post("/upload", std::string(2000, 'x'))).find("HTTP/1.1 200"), std::string::npos);
  // Over the route's limit: 413 from the length alone, the sink never opened.
  const int before = opened_.load();
  std::string r =
      Raw("POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
          "Content-Length: 9000\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_EQ(opened_.load(), before);
  // Other routes keep the server's limit though the header parser allows more.
  r = Raw(Post("/echo", std::string(2000, 'x'), ""));
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  r = Raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
          std::string(0x800, 'a') + "\r\n0\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
}

TEST_F(StreamTest, TheSinksRefusalIsTheAnswer) {
  std::string r = Raw(Post("/upload", std::string(6000, 'x')));
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find("sink: over 4096"), std::string::npos) << r;
  EXPECT_TRUE(NoSinkLeft());
}

TEST_F(StreamTest, OpenSinkCanRefuseBeforeTheBody) {
  std::string r = Raw(Post("/upload?refuse=1", std::string(100, 'x')));
  EXPECT_NE(r.find("HTTP/1.1 422"), std::string::npos) << r;
  EXPECT_NE(r.find("quota_exceeded"), std::string::npos) << r;
}

TEST_F(StreamTest, TheCallerIsCheckedBeforeTheBody) {
  const int before = opened_.load();
  std::string r = Raw(Post("/upload", std::string(100, 'x'), "Authorization: Bearer bad\r\n"));
  EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << r;
  EXPECT_EQ(opened_.load(), before);
}

TEST_F(StreamTest, AStreamedBodyMayTakeLongerThanTheBodyTimeoutWhileItFlows) {
  // 8 pieces 300 ms apart: 2.4 s in all, over the 1 s body timeout, never 1 s idle.
  std::string r = SlowPost("/upload", 8, 300ms);
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"bytes":800,"buffered":0})"), std::string::npos) << r;
  // A stall as long as the timeout cuts it.
  r = SlowPost("/upload", 2, 1500ms);
  EXPECT_EQ(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_TRUE(NoSinkLeft());
}

TEST_F(StreamTest, ABufferedBodyKeepsItsWholeDeadline) {
  // The same trickle to a route that buffers its body is cut after 1 s in all.
  std::string r = SlowPost("/echo", 8, 300ms);
  EXPECT_EQ(r.find("HTTP/1.1 200"), std::string::npos) << r;
}

}  // namespace
}  // namespace tchat::http
