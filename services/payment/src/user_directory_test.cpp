// Hermetic tests of UserDirectory against a local HTTP server standing in for auth:
// what each answer of auth becomes, that only positive answers are cached (and
// for a bounded time and number), and that a silent or absent auth is a quick 503.
#include "user_directory.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <test_http_server.hpp>

namespace tchat::payment {
namespace {

using namespace std::chrono_literals;
using tchat::testing::RunUntilDone;
using tchat::testing::TestHttpServer;
using tchat::testing::TestRequest;
using tchat::testing::TestResponse;

constexpr const char* kAlice = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
constexpr const char* kBob = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
constexpr const char* kCarol = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";
constexpr const char* kBearer = "Bearer caller-token";

class UserDirectoryTest : public ::testing::Test {
 protected:
  // A stand-in for auth answering `status` for every id, or never when `status` is 0.
  void ServeStatus(int status) { status_ = status; }

  UserDirectoryOptions Options() {
    UserDirectoryOptions o;
    o.auth_url = server_.Url("/");  // the trailing slash is dropped
    o.timeout = 300ms;
    return o;
  }

  // The Status of each RequireUser(id) in order, with one directory.
  std::vector<Status> Ask(UserDirectory& d, const std::vector<std::string>& ids) {
    std::vector<Status> out;
    EXPECT_TRUE(RunUntilDone(io_, [&]() -> Task<void> {
      for (const auto& id : ids) out.push_back(co_await d.RequireUser(id, kBearer));
    }()));
    io_.restart();
    return out;
  }

  boost::asio::io_context io_;
  int status_ = 200;
  std::vector<TestRequest> seen_;
  TestHttpServer server_{
      io_, [this](TestRequest req) -> Task<std::optional<TestResponse>> {
        seen_.push_back(req);
        if (status_ == 0) co_return std::nullopt;
        co_return TestResponse{status_, {{"Content-Type", "application/json"}}, "{}"};
      }};
};

TEST_F(UserDirectoryTest, AsksAuthWithTheCallersTokenAndCachesAUserThatExists) {
  UserDirectory d(io_.get_executor(), Options());
  auto r = Ask(d, {kAlice, kAlice, kAlice});
  for (const Status& s : r) EXPECT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(seen_.size(), 1u) << "repeat checks of a known user must not reach auth";
  EXPECT_EQ(seen_[0].method, "GET");
  EXPECT_EQ(seen_[0].target, std::string("/v1/users/") + kAlice);
  EXPECT_EQ(seen_[0].Header("Authorization"), kBearer);
  EXPECT_EQ(d.cached(), 1u);
}

TEST_F(UserDirectoryTest, UnknownUserIsUserNotFoundAndIsNotCached) {
  ServeStatus(404);
  UserDirectory d(io_.get_executor(), Options());
  auto r = Ask(d, {kBob, kBob});
  for (const Status& s : r) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(s.error().WireCode(), "user_not_found");
  }
  EXPECT_EQ(seen_.size(), 2u) << "a negative answer must be asked again";
  // The user signs up: the next check passes at once.
  ServeStatus(200);
  EXPECT_TRUE(Ask(d, {kBob})[0].ok());
}

TEST_F(UserDirectoryTest, RefusedTokenIsUnauthenticated) {
  ServeStatus(401);
  UserDirectory d(io_.get_executor(), Options());
  auto r = Ask(d, {kAlice});
  ASSERT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(d.cached(), 0u);
}

TEST_F(UserDirectoryTest, AuthErrorsAndSilenceAreDependencyUnavailable) {
  UserDirectory d(io_.get_executor(), Options());
  for (int status : {500, 502, 503, 429, 400, 0}) {
    ServeStatus(status);
    const auto start = std::chrono::steady_clock::now();
    auto r = Ask(d, {kCarol});
    ASSERT_FALSE(r[0].ok()) << status;
    EXPECT_EQ(r[0].error().code, ErrorCode::kUnavailable) << status;
    EXPECT_EQ(r[0].error().WireCode(), "dependency_unavailable") << status;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "the timeout is 300ms";
  }
  EXPECT_EQ(d.cached(), 0u);
}

TEST_F(UserDirectoryTest, UnreachableAuthIsDependencyUnavailable) {
  std::uint16_t closed_port = 0;
  {
    boost::asio::ip::tcp::acceptor probe(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  UserDirectoryOptions o = Options();
  o.auth_url = "http://127.0.0.1:" + std::to_string(closed_port);
  UserDirectory d(io_.get_executor(), o);
  auto r = Ask(d, {kAlice});
  ASSERT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error().WireCode(), "dependency_unavailable");
}

TEST_F(UserDirectoryTest, CacheIsBoundedInSizeAndTime) {
  UserDirectoryOptions o = Options();
  o.max_entries = 2;
  UserDirectory bounded(io_.get_executor(), o);
  Ask(bounded, {kAlice, kBob, kCarol});
  EXPECT_LE(bounded.cached(), 2u);
  seen_.clear();
  Ask(bounded, {kCarol});
  EXPECT_EQ(seen_.size(), 0u) << "the newest entry stays";

  o.max_entries = 100;
  o.positive_ttl = 0ms;
  UserDirectory expiring(io_.get_executor(), o);
  seen_.clear();
  Ask(expiring, {kAlice, kAlice});
  EXPECT_EQ(seen_.size(), 2u) << "an expired entry is asked again";
}

}  // namespace
}  // namespace tchat::payment
