// Hermetic: array literals and their parsing (no server needed).
#include <gtest/gtest.h>

#include <tchat/core/pg/array.hpp>

namespace tchat::pg {
namespace {

using Strings = std::vector<std::string>;

TEST(PgArray, QuotesEscapesAndParsesBack) {
  ArrayBuilder a;
  a.Add("abc");
  a.Add("d e");
  a.AddNull();
  a.Add(R"(q"x\y)");
  a.AddOptional(std::nullopt);
  a.AddOptional(std::string("NULL"));
  a.Add("");
  EXPECT_EQ(a.size(), 7u);
  EXPECT_EQ(a.str(), R"({"abc","d e",NULL,"q\"x\\y",NULL,"NULL",""})");
  EXPECT_EQ(ParseArray(a.str()), (Strings{"abc", "d e", R"(q"x\y)", "NULL", ""}));
  EXPECT_EQ(ArrayBuilder().str(), "{}");
}

TEST(PgArray, AppendKeepsOrderAndNulls) {
  ArrayBuilder a, b, empty;
  a.Add("x");
  b.AddNull();
  b.Add("y,z");
  a.Append(empty);
  EXPECT_EQ(a.str(), R"({"x"})");
  a.Append(b);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.str(), R"({"x",NULL,"y,z"})");
  empty.Append(b);
  EXPECT_EQ(empty.str(), R"({NULL,"y,z"})");
}

TEST(PgArray, ToArrayQuotesEveryElement) {
  EXPECT_EQ(ToArray(Strings{"1", "2"}), R"({"1","2"})");
  EXPECT_EQ(ToArray(Strings{}), "{}");
  EXPECT_EQ(ToArray(std::vector<std::string_view>{"a"}), R"({"a"})");
}

TEST(PgArray, ParsesWhatPostgresPrints) {
  EXPECT_EQ(ParseArray("{}"), Strings{});
  EXPECT_EQ(ParseArray("{a,b}"), (Strings{"a", "b"}));
  EXPECT_EQ(ParseArray("{a,NULL}"), Strings{"a"});
  EXPECT_EQ(ParseArray(R"({abc,"d e",NULL,"q\"x"})"), (Strings{"abc", "d e", R"(q"x)"}));
  EXPECT_EQ(
      ParseArray("{0190b4c2-7a1e-7c3d-9f0a-000000000001,0190b4c2-7a1e-7c3d-9f0a-000000000002}"),
      (Strings{"0190b4c2-7a1e-7c3d-9f0a-000000000001", "0190b4c2-7a1e-7c3d-9f0a-000000000002"}));
  for (const char* bad : {"", "garbage", "{", "a,b}", R"({"open})", R"({"a"x})"}) {
    EXPECT_EQ(ParseArray(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace tchat::pg
