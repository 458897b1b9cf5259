#include <gtest/gtest.h>

#include <tchat/core/json.hpp>

namespace tchat {
namespace {

TEST(JsonTest, ParsesObjects) {
  auto o = ParseJsonObject(R"({"a":"x","n":5,"b":true})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*RequireString(*o, "a"), "x");
  EXPECT_EQ(*RequireInt(*o, "n"), 5);
  EXPECT_EQ(**OptionalBool(*o, "b"), true);
  EXPECT_FALSE(OptionalString(*o, "missing")->has_value());
}

TEST(JsonTest, RejectsNonObjectsAndGarbage) {
  for (const char* bad : {"", "[]", "3", "{", "{\"a\":}", "nul", "{\"a\":1}x"}) {
    auto o = ParseJsonObject(bad);
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(JsonTest, DeepNestingIsRejectedNotCrashing) {
  std::string deep(10000, '[');
  auto o = ParseJsonObject("{\"a\":" + deep + "}");
  EXPECT_FALSE(o.ok());
}

TEST(JsonTest, WrongTypesNameTheField) {
  auto o = ParseJsonObject(R"({"a":1,"n":"5","big":18446744073709551615})");
  ASSERT_TRUE(o.ok());
  auto s = RequireString(*o, "a");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("a must be"), std::string::npos);
  EXPECT_FALSE(RequireInt(*o, "n").ok());
  EXPECT_FALSE(RequireInt(*o, "big").ok());
  auto m = RequireString(*o, "zzz");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("zzz is required"), std::string::npos);
}

}  // namespace

TEST(JsonTest, StringOrEmptyAndStringValue) {
  auto o = ParseJsonObject(R"({"s":"x","n":5,"z":null})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*StringOrEmpty(*o, "s"), "x");
  EXPECT_EQ(*StringOrEmpty(*o, "missing"), "");
  EXPECT_EQ(*StringOrEmpty(*o, "z"), "");
  ASSERT_FALSE(StringOrEmpty(*o, "n").ok());
  EXPECT_NE(StringOrEmpty(*o, "n").error().message.find("n"), std::string::npos);
  // Lenient: never an error.
  EXPECT_EQ(StringValue(*o, "s"), "x");
  EXPECT_EQ(StringValue(*o, "n"), "");
  EXPECT_EQ(StringValue(*o, "z"), "");
  EXPECT_EQ(StringValue(*o, "missing"), "");
}

TEST(Json, AppendJsonStringEscapesAsTheSerializerDoes) {
  std::string out = "x";
  AppendJsonString(out, std::string("a\"b\\c\nd\re\tf\x01g\x1fh\x7f\xc3\xa9/", 19));
  EXPECT_EQ(out, "x\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\x7f\xc3\xa9/\"");
  const std::string raw = "\x01 \"quoted\" \\ \xe0\xb8\x81";
  std::string quoted;
  AppendJsonString(quoted, raw);
  EXPECT_EQ(json::parse(quoted).as_string(), raw);
  EXPECT_EQ(quoted, ToJson(json::value(raw)));
  quoted.clear();
  AppendJsonString(quoted, "");
  EXPECT_EQ(quoted, "\"\"");
}

}  // namespace tchat
