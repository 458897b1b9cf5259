#include <cstdio>
#include <ctime>
#include <random>

#include <gtest/gtest.h>

#include <tchat/core/time.hpp>

namespace tchat {
namespace {

using namespace std::chrono_literals;

// The C library's rendering of the same instant, as the services printed it
// before they shared this formatter.
std::string Reference(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(1714564800123), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Ms(1714564800999), "2024-05-01T12:00:00.999Z");
  EXPECT_EQ(FormatRfc3339Ms(1714564801000), "2024-05-01T12:00:01.000Z");
  EXPECT_EQ(FormatRfc3339Ms(1714564800005), "2024-05-01T12:00:00.005Z");
  EXPECT_EQ(FormatRfc3339Ms(1'767'225'600'123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatRfc3339Ms(951'782'400'999), "2000-02-29T00:00:00.999Z");
  EXPECT_EQ(FormatRfc3339Ms(SysTime(1'700'000'000'007ms)), "2023-11-14T22:13:20.007Z");
  // A time point is floored to its millisecond, also before 1970.
  EXPECT_EQ(FormatRfc3339Ms(SysTime(1'700'000'000'007'900us)), "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(FormatRfc3339Ms(SysTime(-500us)), "1969-12-31T23:59:59.999Z");
}

TEST(Time, MatchesTheCLibraryAcrossFourCenturies) {
  std::mt19937_64 rng(42);
  // 1900-01-01 .. 2299-12-31, plus the edges of every second around a day change.
  std::uniform_int_distribution<std::int64_t> any(-2'208'988'800'000, 10'413'791'999'999);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t ms = any(rng);
    ASSERT_EQ(FormatRfc3339Ms(ms), Reference(ms)) << ms;
  }
  for (std::int64_t ms = 86'400'000LL * 20000 - 2000; ms < 86'400'000LL * 20000 + 2000; ms += 7) {
    ASSERT_EQ(FormatRfc3339Ms(ms), Reference(ms)) << ms;
  }
}

TEST(Time, AppendReusesTheSecondButNotTheMilliseconds) {
  std::string out = "x";
  AppendRfc3339Ms(out, 1714564800123);
  AppendRfc3339Ms(out, 1714564800124);
  AppendRfc3339Ms(out, 1714564799999);
  EXPECT_EQ(out, "x2024-05-01T12:00:00.123Z2024-05-01T12:00:00.124Z2024-05-01T11:59:59.999Z");
}

TEST(Time, ClampsToFourDigitYears) {
  EXPECT_EQ(FormatRfc3339Ms(-62'167'219'200'000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(-62'167'219'200'001), "0000-01-01T00:00:00.999Z");
  EXPECT_EQ(FormatRfc3339Ms(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Ms(INT64_MAX).substr(0, 20), "9999-12-31T23:59:59.");
  EXPECT_EQ(FormatRfc3339Ms(INT64_MIN).substr(0, 20), "0000-01-01T00:00:00.");
}

TEST(Time, ParsesRfc3339AndRoundTrips) {
  auto t = ParseRfc3339("2026-11-26T22:27:46.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339Ms(*t), "2026-11-26T22:27:46.123Z");
  EXPECT_EQ(ParseRfc3339("2026-11-27T05:27:46.123+07:00"), t);
  EXPECT_EQ(ParseRfc3339("2026-11-26t22:27:46.123z"), t);
  EXPECT_EQ(ParseRfc3339("2026-11-26 21:27:46.123-01:00"), t);
  EXPECT_EQ(ParseRfc3339("2026-11-26T22:27:46.1234567891234Z"), *t + 456789ns);
  EXPECT_EQ(FormatRfc3339Ms(*ParseRfc3339("2026-01-01T00:00:00Z")), "2026-01-01T00:00:00.000Z");
  for (const char* bad : {"2026-02-30T00:00:00Z", "2026-01-01 00:00:00", "2026-01-01T00:00:00",
                          "2026-01-01T25:00:00Z", "yesterday", "2026-01-01T00:00:00.Z",
                          "2026-01-01T00:00:00Zx", "2026-01-01T00:00:00+7:00", ""}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(Time, UnixConversions) {
  const SysTime t = FromUnixMillis(1'700'000'000'007);
  EXPECT_EQ(UnixMillis(t), 1'700'000'000'007);
  EXPECT_EQ(UnixSeconds(t), 1'700'000'000);
  EXPECT_EQ(UnixMillis(FromUnixMillis(-1)), -1);
  const std::int64_t before = UnixMillis(std::chrono::system_clock::now());
  const std::int64_t now = NowUnixMs();
  EXPECT_GE(now, before);
  EXPECT_LT(now - before, 60'000);
}

}  // namespace
}  // namespace tchat
