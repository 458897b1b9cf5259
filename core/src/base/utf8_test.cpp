#include <gtest/gtest.h>

#include <tchat/core/utf8.hpp>

namespace tchat {
namespace {

TEST(Utf8, AcceptsValidAndRejectsMalformed) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8("hello"));
  EXPECT_TRUE(ValidUtf8("สวัสดี"));
  EXPECT_TRUE(ValidUtf8("Xin chào 👋"));
  EXPECT_TRUE(ValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_FALSE(ValidUtf8("\xFF"));
  EXPECT_FALSE(ValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(ValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(ValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(ValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(ValidUtf8("abc\xE2\x82"));       // truncated
  EXPECT_FALSE(ValidUtf8("\x80"));              // lone continuation
}

TEST(Utf8, CodePoints) {
  EXPECT_EQ(CodePoints(""), 0u);
  EXPECT_EQ(CodePoints("abc"), 3u);
  EXPECT_EQ(CodePoints("กขค"), 3u);
  EXPECT_EQ(CodePoints("👍👍"), 2u);
}

TEST(Utf8, DecodeReturnsTheCodePointOfValidSequencesOnly) {
  char32_t cp = 0;
  EXPECT_EQ(Utf8Decode("A", 0, cp), 1u);
  EXPECT_EQ(cp, U'A');
  EXPECT_EQ(Utf8Decode("xก", 1, cp), 3u);
  EXPECT_EQ(cp, U'ก');
  EXPECT_EQ(Utf8Decode("é", 0, cp), 2u);
  EXPECT_EQ(cp, U'é');
  EXPECT_EQ(Utf8Decode("👍", 0, cp), 4u);
  EXPECT_EQ(cp, U'👍');
  EXPECT_EQ(Utf8Decode("\u202E", 0, cp), 3u);
  EXPECT_EQ(cp, U'\u202E');
  cp = 0;
  for (std::string_view bad : {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\x80", "\x80",
                               "\xF8\x88\x80\x80\x80"}) {
    EXPECT_EQ(Utf8Decode(bad, 0, cp), 0u) << bad.size();
    EXPECT_FALSE(ValidUtf8(bad));
  }
  EXPECT_EQ(cp, 0u);  // untouched by invalid input
}

}  // namespace
}  // namespace tchat
