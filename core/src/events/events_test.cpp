// Hermetic tests of the events module: the event envelope and the relay's
// splitting of batch rows.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::events {
namespace {

using namespace std::chrono_literals;

TEST(Envelope, HasIdTypeTimestampAndData) {
  Event e = Event::Make("auth.otp.requested", json::object{{"phone", "+66812345678"}});
  EXPECT_TRUE(IsUuid(e.id));
  json::object env = Envelope(e);
  EXPECT_EQ(env.at("id").as_string(), e.id);
  EXPECT_EQ(env.at("type").as_string(), "auth.otp.requested");
  EXPECT_EQ(env.at("data").as_object().at("phone").as_string(), "+66812345678");
  const std::string ts(env.at("occurred_at").as_string());
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-01-31T12:34:56.789Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(OutboxWriter, InsertStatementCarriesTheEnvelope) {
  OutboxWriter w{std::string(kAuthStream)};
  Event e = Event::Make("auth.test", json::object{{"n", 1}});
  pg::Statement st = w.Insert(e);
  ASSERT_EQ(st.params.size(), 4);
  std::vector<const char*> v(4);
  st.params.Fill(v.data());
  EXPECT_EQ(std::string(v[0]), e.id);
  EXPECT_EQ(std::string(v[1]), "tchat.events.auth");
  EXPECT_EQ(std::string(v[2]), "auth.test");
  json::value payload = json::parse(v[3]);
  EXPECT_EQ(payload.at("id").as_string(), e.id);
  EXPECT_EQ(payload.at("data").at("n").as_int64(), 1);
  EXPECT_NE(st.sql.find("INSERT INTO outbox"), std::string_view::npos);
  EXPECT_EQ(st.sql.find("created_at"), std::string_view::npos);  // the database's now()
}

TEST(OutboxWriter, RowTimeOccurredAtStampsCreatedAt) {
  OutboxWriter w{std::string(kPaymentStream), nullptr, OutboxWriter::RowTime::kOccurredAt};
  Event e{"0190b4c2-7a1e-7c3d-9f0a-0123456789ab", "payment.test",
          std::chrono::system_clock::time_point(1'700'000'000'007ms), json::object{}};
  pg::Statement st = w.Insert(e);
  ASSERT_EQ(st.params.size(), 5);
  std::vector<const char*> v(5);
  st.params.Fill(v.data());
  EXPECT_EQ(std::string(v[1]), "tchat.events.payment");
  EXPECT_EQ(std::string(v[4]), "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(json::parse(v[3]).at("occurred_at").as_string(), "2023-11-14T22:13:20.007Z");
  EXPECT_NE(st.sql.find("created_at"), std::string_view::npos);
}

using detail::SplitJsonArray;
using Parts = std::vector<std::string_view>;

TEST(SplitJsonArray, ElementsAreTheExactTextBetweenTopLevelCommas) {
  // Strings hold brackets, commas, quotes and backslashes; elements nest.
  const std::string text =
      R"( [ {"id":"a","s":"x],{\"y\\"} , {"n":[1,[2,3]],"o":{"p":"}"}},"t" ,  7 ] )";
  auto parts = SplitJsonArray(text);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(*parts, (Parts{R"({"id":"a","s":"x],{\"y\\"})", R"({"n":[1,[2,3]],"o":{"p":"}"}})",
                           R"("t")", "7"}));
  EXPECT_EQ(SplitJsonArray("[]"), Parts{});
  EXPECT_EQ(SplitJsonArray(" [ \n ] "), Parts{});
  EXPECT_EQ(SplitJsonArray(R"([{"a":1}])"), (Parts{R"({"a":1})"}));
}

TEST(EnvelopeHead, ReadsIdAndTypeOnlyFromTheUsualShape) {
  auto h = detail::EnvelopeHead(R"({"id":"e-1","type":"message.created","data":{"x":1}})");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->first, "e-1");
  EXPECT_EQ(h->second, "message.created");
  // Anything else is left to the full parser.
  for (const char* other : {R"({"type":"t","id":"e"})", R"({ "id":"e","type":"t"})",
                            R"({"id":"e\"q","type":"t"})", R"({"id":"e","type":"t\u0041"})",
                            R"({"id":"e"})", R"({"id":"e","type":"t)", R"({"id":1,"type":"t"})"}) {
    EXPECT_FALSE(detail::EnvelopeHead(other).has_value()) << other;
  }
}

TEST(SplitJsonArray, RejectsWhatIsNotOneArray) {
  for (const char* bad : {"", " ", "{}", "[", "]", "[1,]", "[,1]", "[1,,2]", "[1] 2", "[1]]",
                          R"(["open])", R"(["a\"])", "[{]", "[}]", "[[1]", "[1}"}) {
    EXPECT_FALSE(SplitJsonArray(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tchat::events
