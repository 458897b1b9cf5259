#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <tchat/core/async.hpp>
#include <tchat/core/httpclient/http_client.hpp>

#include "test_http_server.hpp"

namespace tchat::httpclient {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tchat::testing::RunUntilDone;
using tchat::testing::TestHttpServer;
using tchat::testing::TestRequest;
using tchat::testing::TestResponse;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Echoes the request back: method and target in headers, body as body.
Task<std::optional<TestResponse>> Echo(TestRequest req) {
  TestResponse res;
  res.headers = {{"X-Echo-Method", req.method},
                 {"X-Echo-Target", req.target},
                 {"X-Echo-Type", req.Header("content-type")},
                 {"X-Echo-Host", req.Header("host")}};
  res.body = req.body;
  co_return res;
}

class HttpClientTest : public ::testing::Test {
 protected:
  asio::io_context io_;
};

TEST_F(HttpClientTest, GetAndPost) {
  TestHttpServer server(io_, Echo);
  HttpClient client(io_.get_executor());
  Result<HttpResponse> get = Error::Internal("not run"), post = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    get = co_await client.Send({"GET", server.Url("/v1/things?x=1&y=%20")});
    HttpRequest req("POST", server.Url("/hooks"), R"({"a":1})");
    req.headers.Add("Content-Type", "application/json");
    post = co_await client.Send(std::move(req));
  }()));
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->headers.Get("x-echo-method"), "GET");
  EXPECT_EQ(get->headers.Get("X-ECHO-TARGET"), "/v1/things?x=1&y=%20");
  EXPECT_EQ(get->headers.Get("x-echo-host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(get->headers.Get("x-missing").has_value());
  ASSERT_TRUE(post.ok()) << post.error().message;
  EXPECT_EQ(post->headers.Get("X-Echo-Method"), "POST");
  EXPECT_EQ(post->headers.Get("X-Echo-Type"), "application/json");
  EXPECT_EQ(post->body, R"({"a":1})");
}

TEST_F(HttpClientTest, AnyStatusIsAResponse) {
  TestHttpServer server(io_, [](TestRequest) -> Task<std::optional<TestResponse>> {
    co_return TestResponse{.status = 503, .body = "down"};
  });
  HttpClient client(io_.get_executor());
  Result<HttpResponse> r = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    r = co_await client.Send({"GET", server.Url("/")});
  }()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "down");
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  TestHttpServer server(io_, Echo);
  HttpClient client(io_.get_executor());
  int ok = 0;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    for (int i = 0; i < 5; ++i) {
      auto r = co_await client.Send(
          {i % 2 ? "POST" : "GET", server.Url("/k"), std::string(i * 100, 'x')});
      if (r.ok() && r->status == 200 && r->body.size() == static_cast<std::size_t>(i * 100)) ++ok;
    }
  }()));
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(server.state().connections, 1);
  EXPECT_EQ(server.state().requests, 5);
  EXPECT_EQ(client.IdleConnections(), 1u);
}

TEST_F(HttpClientTest, ConnectionCloseIsNotReused) {
  TestHttpServer server(io_, [](TestRequest) -> Task<std::optional<TestResponse>> {
    co_return TestResponse{.body = "bye", .close = true};
  });
  HttpClient client(io_.get_executor());
  int ok = 0;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto r = co_await client.Send({"GET", server.Url("/")});
      if (r.ok() && r->body == "bye") ++ok;
    }
  }()));
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(server.state().connections, 3);
  EXPECT_EQ(client.OpenConnections(), 0u);
}

TEST_F(HttpClientTest, ServerClosingAnIdleConnectionIsSurvived) {
  TestHttpServer server(io_, [](TestRequest) -> Task<std::optional<TestResponse>> {
    co_return TestResponse{.body = "ok", .drop_after = true};
  });
  HttpClient client(io_.get_executor());
  int ok = 0;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto r = co_await client.Send({"GET", server.Url("/")});
      if (r.ok() && r->body == "ok") ++ok;
      co_await Sleep(20ms);  // lets the FIN arrive
    }
  }()));
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(server.state().connections, 3);
}

// The server drops a kept-alive connection on its second request without a word,
// as one whose idle timer fired just then would: GET is retried on a new
// connection, POST is not (it might have been processed).
TEST_F(HttpClientTest, StaleConnectionRetriesOnlyIdempotentRequests) {
  TestHttpServer server(io_, [](TestRequest req) -> Task<std::optional<TestResponse>> {
    co_return TestResponse{.body = req.method, .abort = req.index_on_connection == 1};
  });
  HttpClient client(io_.get_executor());
  Result<HttpResponse> get = Error::Internal("not run"), post = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    (void)co_await client.Send({"GET", server.Url("/1")});
    get = co_await client.Send({"GET", server.Url("/2")});
    post = co_await client.Send({"POST", server.Url("/3"), "x"});
  }()));
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->body, "GET");
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(server.state().requests, 4);  // GET, GET (dropped), GET again, POST (dropped)
  EXPECT_EQ(server.state().connections, 2);
}

TEST_F(HttpClientTest, TimeoutAgainstSilentServer) {
  TestHttpServer server(
      io_, [](TestRequest) -> Task<std::optional<TestResponse>> { co_return std::nullopt; });
  HttpClient client(io_.get_executor(), {.timeout = 5s});
  Result<HttpResponse> r = Error::Internal("not run");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    HttpRequest req("GET", server.Url("/slow"));
    req.timeout = 200ms;
    r = co_await client.Send(std::move(req));
  }()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(client.OpenConnections(), 0u);
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  std::uint16_t port;
  {
    asio::ip::tcp::acceptor a(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  HttpClient client(io_.get_executor());
  Result<HttpResponse> r = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    r = co_await client.Send({"GET", "http://127.0.0.1:" + std::to_string(port) + "/"});
  }()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
  EXPECT_EQ(client.OpenConnections(), 0u);
}

TEST_F(HttpClientTest, MaxConnsPerHostIsRespected) {
  TestHttpServer server(io_, [](TestRequest req) -> Task<std::optional<TestResponse>> {
    co_await Sleep(30ms);
    co_return TestResponse{.body = req.target};
  });
  HttpClient client(io_.get_executor(), {.max_conns_per_host = 2});
  constexpr int kRequests = 7;
  int ok = 0;
  int finished = 0;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < kRequests; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> Task<void> {
            auto path = "/r" + std::to_string(i);
            auto r = co_await client.Send({"GET", server.Url(path)});
            if (r.ok() && r->body == path) ++ok;
            ++finished;
          },
          asio::detached);
    }
    while (finished < kRequests) co_await Sleep(5ms);
  }()));
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(server.state().requests, kRequests);
  EXPECT_LE(server.state().max_open, 2);
  EXPECT_EQ(server.state().connections, 2);
  EXPECT_EQ(client.IdleConnections(), 2u);
}

TEST_F(HttpClientTest, WaitingForABusyHostTimesOut) {
  TestHttpServer server(
      io_, [](TestRequest) -> Task<std::optional<TestResponse>> { co_return std::nullopt; });
  HttpClient client(io_.get_executor(), {.max_conns_per_host = 1});
  Result<HttpResponse> second = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> Task<void> {
          HttpRequest req("GET", server.Url("/hang"));
          req.timeout = 10s;
          (void)co_await client.Send(std::move(req));
        },
        asio::detached);
    co_await Sleep(20ms);
    HttpRequest req("GET", server.Url("/next"));
    req.timeout = 100ms;
    second = co_await client.Send(std::move(req));
  }()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(server.state().connections, 1);
}

TEST_F(HttpClientTest, ResponseBodyLimit) {
  TestHttpServer server(io_, [](TestRequest) -> Task<std::optional<TestResponse>> {
    co_return TestResponse{.body = std::string(5000, 'z')};
  });
  HttpClient client(io_.get_executor(), {.max_body_bytes = 1000});
  Result<HttpResponse> r = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    r = co_await client.Send({"GET", server.Url("/big")});
  }()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST_F(HttpClientTest, BadInputIsInvalidArgument) {
  HttpClient client(io_.get_executor());
  std::vector<Result<HttpResponse>> results;
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    results.push_back(co_await client.Send({"GET", "not a url"}));
    results.push_back(co_await client.Send({"GET", "ftp://127.0.0.1/"}));
    results.push_back(co_await client.Send({"GET", "http://user:pw@127.0.0.1/"}));
    HttpRequest injected("GET", "http://127.0.0.1:1/");
    injected.headers.Add("X-A", "a\r\nX-B: b");
    results.push_back(co_await client.Send(std::move(injected)));
    results.push_back(co_await client.Send({"GET /x", "http://127.0.0.1:1/"}));
  }()));
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
  }
}

// A self-signed certificate for 127.0.0.1, made on the fly.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

TestCert MakeSelfSignedCert() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tchat-test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  };
  TestCert cert{to_string([&](BIO* b) { PEM_write_bio_X509(b, x); }), to_string([&](BIO* b) {
                  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
                })};
  X509_free(x);
  EVP_PKEY_free(key);
  return cert;
}

TEST_F(HttpClientTest, HttpsVerifiesThePeer) {
  const TestCert cert = MakeSelfSignedCert();
  ASSERT_NE(cert.cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  TestHttpServer server(io_, Echo, cert.cert_pem, cert.key_pem);
  HttpClient trusting(io_.get_executor(), {.extra_ca_pem = cert.cert_pem});
  HttpClient strict(io_.get_executor());
  Result<HttpResponse> a = Error::Internal("not run"), b = Error::Internal("not run"),
                       untrusted = Error::Internal("not run");
  ASSERT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
    a = co_await trusting.Send({"GET", server.Url("/tls", "https")});
    b = co_await trusting.Send({"POST", server.Url("/tls2", "https"), "x"});
    untrusted = co_await strict.Send({"GET", server.Url("/tls", "https")});
  }()));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->headers.Get("X-Echo-Target"), "/tls");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->body, "x");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(server.state().connections, 2);  // one reused by `trusting`, one refused
}

}  // namespace
}  // namespace tchat::httpclient
