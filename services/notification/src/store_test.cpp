#include "store.hpp"

#include <gtest/gtest.h>

namespace tchat::notification {
namespace {

TEST(InboxCursor, RoundTripsAndRejectsGarbage) {
  const InboxCursor c{1767225600123456, "0190f8a0-0000-7000-8000-000000000001"};
  const std::string text = FormatInboxCursor(c);
  EXPECT_EQ(text, "1767225600123456_0190f8a0-0000-7000-8000-000000000001");
  auto back = ParseInboxCursor(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_at_us, c.created_at_us);
  EXPECT_EQ(back->id, c.id);
  for (const char* bad :
       {"", "zzz", "_0190f8a0-0000-7000-8000-000000000001", "12_", "12_not-a-uuid",
        "-5_0190f8a0-0000-7000-8000-000000000001", "1x_0190f8a0-0000-7000-8000-000000000001",
        "1234567890123456789_0190f8a0-0000-7000-8000-000000000001"}) {
    EXPECT_FALSE(ParseInboxCursor(bad)) << bad;
  }
}

TEST(InboxCursor, AnEntryIdIsThePositionOfItsUuidV7Time) {
  // The first 48 bits are Unix milliseconds; the position is in microseconds.
  auto c = ParseInboxCursor("0190f8a0-1234-7000-8000-000000000001");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->created_at_us, std::int64_t{0x0190f8a01234} * 1000);
  EXPECT_EQ(c->id, "0190f8a0-1234-7000-8000-000000000001");
}

}  // namespace
}  // namespace tchat::notification
