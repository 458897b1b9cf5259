#include <gtest/gtest.h>

#include <tchat/core/http/router.hpp>

namespace tchat::http {
namespace {

Handler Noop() {
  return [](Request&) -> Task<Response> { co_return Response::NoContent(); };
}

TEST(RouterTest, MatchesLiteralsAndParams) {
  Router r;
  r.Get("/v1/conversations", Noop());
  r.Get("/v1/conversations/{id}/messages", Noop());
  r.Post("/v1/conversations/{id}/messages", Noop());
  r.Patch("/v1/conversations/{id}/messages/{seq}", Noop());

  auto m = r.Match(Method::kGet, "/v1/conversations/abc/messages");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/conversations/{id}/messages");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "abc");

  m = r.Match(Method::kPatch, "/v1/conversations/c1/messages/42");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[1].first, "seq");
  EXPECT_EQ(m.params[1].second, "42");

  EXPECT_NE(r.Match(Method::kGet, "/v1/conversations/").route, nullptr);  // trailing slash
  EXPECT_EQ(r.Match(Method::kGet, "/v1/conversation").route, nullptr);
  EXPECT_EQ(r.Match(Method::kGet, "/v1/conversations/a/b").route, nullptr);
  EXPECT_EQ(r.Match(Method::kGet, "/v1//conversations").route, nullptr);
}

TEST(RouterTest, LiteralBeatsParamWhateverTheOrder) {
  Router r;
  r.Get("/v1/users/{id}", Noop());
  r.Get("/v1/users/me", Noop());
  auto m = r.Match(Method::kGet, "/v1/users/me");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/me");
  m = r.Match(Method::kGet, "/v1/users/u-1");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/{id}");
}

TEST(RouterTest, WrongMethodReportsAllowed) {
  Router r;
  r.Get("/v1/devices", Noop());
  r.Post("/v1/devices", Noop());
  auto m = r.Match(Method::kDelete, "/v1/devices");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.method_not_allowed);
  EXPECT_EQ(m.allow, "GET, POST");
  auto none = r.Match(Method::kDelete, "/v1/nothing");
  EXPECT_FALSE(none.method_not_allowed);
}

TEST(RouterTest, DecodesParamsAndRejectsBadEscapes) {
  Router r;
  r.Put("/m/{seq}/reactions/{emoji}", Noop());
  auto m = r.Match(Method::kPut, "/m/3/reactions/%F0%9F%91%8D");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params[1].second, "\xF0\x9F\x91\x8D");
  EXPECT_EQ(r.Match(Method::kPut, "/m/3/reactions/%G1").route, nullptr);
  auto plus = r.Match(Method::kPut, "/m/3/reactions/a+b");
  ASSERT_NE(plus.route, nullptr);
  EXPECT_EQ(plus.params[1].second, "a+b");
}

TEST(RequestTest, QueryAndHeaders) {
  Request req;
  req.target = "/v1/users?phone=%2B66812345678&limit=5&flag&x=a+b";
  req.headers = {{"x-request-id", "abc"}};
  EXPECT_EQ(req.path(), "/v1/users");
  EXPECT_EQ(*req.Query("phone"), "+66812345678");
  EXPECT_EQ(*req.Query("limit"), "5");
  EXPECT_EQ(*req.Query("flag"), "");
  EXPECT_EQ(*req.Query("x"), "a b");
  EXPECT_FALSE(req.Query("missing").has_value());
  EXPECT_EQ(req.Header("X-Request-ID"), "abc");
  EXPECT_EQ(req.Header("missing"), "");
}

TEST(RequestTest, CallerIdIsTheCanonicalSubjectOfAVerifiedToken) {
  Request req;
  auto none = CallerId(req);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kUnauthenticated);
  req.auth = AuthContext{"0190B4C2-7A1E-7C3D-9F0A-0123456789AB", "s", {}};
  auto id = CallerId(req);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "0190b4c2-7a1e-7c3d-9f0a-0123456789ab");
  req.auth->user_id = "admin";
  auto bad = CallerId(req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);
}

TEST(RequestTest, BearerMatchesOnlyTheWholeSecret) {
  Request req;
  EXPECT_FALSE(BearerMatches(req, "s3cret"));
  req.headers = {{"authorization", "Bearer s3cret"}};
  EXPECT_TRUE(BearerMatches(req, "s3cret"));
  EXPECT_FALSE(BearerMatches(req, "s3cre"));
  EXPECT_FALSE(BearerMatches(req, "s3cret2"));
  EXPECT_FALSE(BearerMatches(req, ""));
  req.headers = {{"authorization", "Basic s3cret"}};
  EXPECT_FALSE(BearerMatches(req, "s3cret"));
  req.headers = {{"authorization", "Bearer "}};
  EXPECT_FALSE(BearerMatches(req, " "));
}

TEST(ResponseTest, ErrorBodyAndRetryAfter) {
  auto r = Response::FromError(Error::RateLimited("too many", std::chrono::seconds(30)));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"error":{"code":"rate_limited","message":"too many"}})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "30");
  auto d = Response::FromError(Error::Unprocessable("insufficient_funds", "no money"));
  EXPECT_EQ(d.status, 422);
  EXPECT_EQ(d.body, R"({"error":{"code":"insufficient_funds","message":"no money"}})");
}

// Server-side failures and database errors never reach the client's body: it
// gets a generic message, the detail stays in error_detail for the log.
TEST(ResponseTest, ErrorBodiesKeepInternalTextOut) {
  Error dup{ErrorCode::kConflict,
            R"(duplicate key value violates unique constraint "users_phone_key")"};
  dup.sqlstate = "23505";
  auto c = Response::FromError(dup);
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(c.body,
            R"({"error":{"code":"conflict","message":"the request could not be processed"}})");
  EXPECT_NE(c.error_detail.find("23505"), std::string::npos);
  EXPECT_NE(c.error_detail.find("users_phone_key"), std::string::npos);

  auto i = Response::FromError(Error::Internal("pg: relation \"wallets\" does not exist"));
  EXPECT_EQ(i.status, 500);
  EXPECT_EQ(i.body, R"({"error":{"code":"internal","message":"internal error"}})");
  EXPECT_EQ(i.error_detail, "pg: relation \"wallets\" does not exist");
  auto u = Response::FromError(Error::Unavailable("connect to 10.0.0.7:5432 refused"));
  EXPECT_EQ(u.status, 503);
  EXPECT_EQ(u.body.find("10.0.0.7"), std::string::npos) << u.body;

  // A client's own mistake keeps its message (nothing internal in it).
  auto b = Response::FromError(Error::InvalidArgument("amount must be positive"));
  EXPECT_EQ(b.body, R"({"error":{"code":"invalid_argument","message":"amount must be positive"}})");
  EXPECT_TRUE(b.error_detail.empty());
}

// Literal templates are found without a scan; the answer must be the scan's.
TEST(RouterTest, LiteralPathsMatchLikeTheScan) {
  Router r;
  r.Get("/health", Noop());
  r.Get("/v1/users/{id}", Noop());
  r.Post("/v1/users/me", Noop());
  r.Get("/v1/users/me", Noop());

  auto m = r.Match(Method::kGet, "/v1/users/me");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/me");
  EXPECT_EQ(m.route->method, Method::kGet);
  EXPECT_TRUE(m.params.empty());

  // A trailing slash is the same path to the scan.
  m = r.Match(Method::kGet, "/health/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/health");

  // The literal exists for another method only: 405 with every allowed method.
  m = r.Match(Method::kDelete, "/v1/users/me");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.method_not_allowed);
  EXPECT_EQ(m.allow, "GET, POST");

  // Another method that a parameter route allows falls back to it.
  m = r.Match(Method::kGet, "/v1/users/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/{id}");
}

}  // namespace
}  // namespace tchat::http
