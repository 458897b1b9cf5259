#include "quiet_hours.hpp"

#include <gtest/gtest.h>

#include <tchat/core/time.hpp>

namespace tchat::notification {
namespace {

SysTime At(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(SysTime{});
}

TEST(QuietHours, ZonesAndOffsets) {
  EXPECT_TRUE(IsValidTimeZone("Asia/Bangkok"));
  EXPECT_TRUE(IsValidTimeZone("Asia/Manila"));
  EXPECT_TRUE(IsValidTimeZone("UTC"));
  EXPECT_FALSE(IsValidTimeZone("Mars/Olympus"));
  EXPECT_FALSE(IsValidTimeZone(""));
  EXPECT_EQ(UtcOffset("Asia/Bangkok", At("2026-01-15T12:00:00Z")), std::chrono::hours(7));
  EXPECT_EQ(UtcOffset("Asia/Manila", At("2026-01-15T12:00:00Z")), std::chrono::hours(8));
  // DST is applied where a zone has it.
  EXPECT_EQ(UtcOffset("Europe/Berlin", At("2026-07-01T12:00:00Z")), std::chrono::hours(2));
  EXPECT_EQ(UtcOffset("Europe/Berlin", At("2026-01-01T12:00:00Z")), std::chrono::hours(1));
  EXPECT_EQ(LocalMinuteOfDay("Asia/Bangkok", At("2026-01-15T16:30:00Z")), 23 * 60 + 30);
  EXPECT_EQ(LocalMinuteOfDay("Asia/Manila", At("2026-01-15T16:30:00Z")), 30);  // next day 00:30
}

TEST(QuietHours, ParseAndFormatClock) {
  EXPECT_EQ(ParseClock("00:00"), 0);
  EXPECT_EQ(ParseClock("22:30"), 22 * 60 + 30);
  EXPECT_EQ(ParseClock("23:59"), 1439);
  for (const char* bad : {"24:00", "7:00", "07:60", "0700", "07:0a", "", "07:00:00"}) {
    EXPECT_FALSE(ParseClock(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatClock(7 * 60 + 5), "07:05");
}

// 22:00-07:00 in the user's zone, evaluated at UTC instants around midnight.
TEST(QuietHours, AcrossMidnightInBangkok) {
  const QuietHours q{22 * 60, 7 * 60, "Asia/Bangkok"};
  EXPECT_FALSE(InQuietHours(q, At("2026-01-15T14:59:00Z")));  // 21:59 local
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T15:00:00Z")));   // 22:00
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T16:59:00Z")));   // 23:59
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T17:00:00Z")));   // 00:00 next day
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T20:00:00Z")));   // 03:00 — the bug users notice
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T23:59:00Z")));   // 06:59
  EXPECT_FALSE(InQuietHours(q, At("2026-01-16T00:00:00Z")));  // 07:00: the window is [start, end)
  EXPECT_FALSE(InQuietHours(q, At("2026-01-16T05:00:00Z")));  // 12:00
}

TEST(QuietHours, AcrossMidnightInManilaIsAnHourEarlierInUtc) {
  const QuietHours q{22 * 60, 7 * 60, "Asia/Manila"};
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T14:30:00Z")));   // 22:30 Manila (21:30 Bangkok)
  EXPECT_FALSE(InQuietHours(q, At("2026-01-15T13:59:00Z")));  // 21:59 Manila
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T19:00:00Z")));   // 03:00 Manila
  EXPECT_TRUE(InQuietHours(q, At("2026-01-15T22:59:00Z")));   // 06:59 Manila
  EXPECT_FALSE(InQuietHours(q, At("2026-01-15T23:00:00Z")));  // 07:00 Manila (06:00 Bangkok)
  // The same instant, the same clock window, a different zone: different answers.
  const QuietHours bkk{22 * 60, 7 * 60, "Asia/Bangkok"};
  EXPECT_FALSE(InQuietHours(bkk, At("2026-01-15T14:30:00Z")));
  EXPECT_TRUE(InQuietHours(bkk, At("2026-01-15T23:30:00Z")));
  EXPECT_FALSE(InQuietHours(q, At("2026-01-15T23:30:00Z")));
}

TEST(QuietHours, DaytimeWindowEmptyWindowAndUnknownZone) {
  const QuietHours day{9 * 60, 17 * 60, "Asia/Bangkok"};
  EXPECT_TRUE(InQuietHours(day, At("2026-01-15T02:00:00Z")));   // 09:00
  EXPECT_FALSE(InQuietHours(day, At("2026-01-15T10:00:00Z")));  // 17:00
  EXPECT_FALSE(InQuietHours(QuietHours{600, 600, "Asia/Bangkok"}, At("2026-01-15T03:00:00Z")));
  // An unknown stored zone counts as UTC instead of silencing the user forever.
  const QuietHours bad{22 * 60, 7 * 60, "Nowhere/Zone"};
  EXPECT_TRUE(InQuietHours(bad, At("2026-01-15T23:00:00Z")));
  EXPECT_FALSE(InQuietHours(bad, At("2026-01-15T12:00:00Z")));
}

}  // namespace
}  // namespace tchat::notification
