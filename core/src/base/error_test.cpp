#include <gtest/gtest.h>

#include <tchat/core/error.hpp>
#include <tchat/core/result.hpp>

namespace tchat {
namespace {

TEST(ErrorTest, EveryCodeMapsToItsStatusAndName) {
  struct Case {
    ErrorCode code;
    int status;
    std::string_view name;
  };
  const Case cases[] = {
      {ErrorCode::kInvalidArgument, 400, "invalid_argument"},
      {ErrorCode::kUnauthenticated, 401, "unauthenticated"},
      {ErrorCode::kPermissionDenied, 403, "permission_denied"},
      {ErrorCode::kNotFound, 404, "not_found"},
      {ErrorCode::kConflict, 409, "conflict"},
      {ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
      {ErrorCode::kUnprocessable, 422, "unprocessable"},
      {ErrorCode::kRateLimited, 429, "rate_limited"},
      {ErrorCode::kInternal, 500, "internal"},
      {ErrorCode::kUnavailable, 503, "unavailable"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ErrorCodeHttpStatus(c.code), c.status) << c.name;
    EXPECT_EQ(ErrorCodeName(c.code), c.name);
  }
}

TEST(ErrorTest, DomainCodeOverridesWireCode) {
  Error e = Error::Unprocessable("insufficient_funds", "not enough money");
  EXPECT_EQ(e.WireCode(), "insufficient_funds");
  EXPECT_EQ(ErrorCodeHttpStatus(e.code), 422);
  EXPECT_EQ(Error::NotFound("x").WireCode(), "not_found");
}

TEST(ErrorTest, SqlstatePredicates) {
  Error e = Error::Conflict("dup");
  e.sqlstate = "23505";
  EXPECT_TRUE(e.IsUniqueViolation());
  EXPECT_FALSE(e.IsSerializationFailure());
  e.sqlstate = "40001";
  EXPECT_TRUE(e.IsSerializationFailure());
  e.sqlstate = "40P01";
  EXPECT_TRUE(e.IsDeadlock());
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  Result<int> bad = Error::NotFound("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().IsNotFound());
  EXPECT_EQ(bad.error().message, "nope");
  Status s = Ok();
  EXPECT_TRUE(s.ok());
  Status f = Error::Internal("boom");
  EXPECT_FALSE(f.ok());
}

TEST(ErrorTest, RateLimitedCarriesRetryAfter) {
  Error e = Error::RateLimited("slow down", std::chrono::seconds(42));
  ASSERT_TRUE(e.retry_after.has_value());
  EXPECT_EQ(e.retry_after->count(), 42);
  EXPECT_EQ(ErrorCodeHttpStatus(e.code), 429);
}

}  // namespace
}  // namespace tchat
