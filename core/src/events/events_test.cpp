// Hermetic tests of the events module: UUIDv7 ids, the event envelope and the
// relay's splitting of batch rows.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/events/uuid.hpp>

namespace tchat::events {
namespace {

using namespace std::chrono_literals;

TEST(UuidV7, CanonicalLayoutVersionAndVariant) {
  const auto now = std::chrono::system_clock::time_point(1'700'000'000'123ms);
  const std::string id = NewUuidV7(now);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(IsUuid(id));
  EXPECT_EQ(id[14], '7') << id;                                          // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  EXPECT_EQ(UuidV7Millis(id), 1'700'000'000'123);
  // 1700000000123 = 0x018bcfe5687b
  EXPECT_EQ(id.substr(0, 13), "018bcfe5-687b");
}

TEST(UuidV7, StrictlyIncreasingWithinOneMillisecondAndWhenTheClockStepsBack) {
  const auto t = std::chrono::system_clock::time_point(1'800'000'000'000ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(NewUuidV7(t));  // forces counter overflow
  ids.push_back(NewUuidV7(t - 5s));
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
}

TEST(UuidV7, UniqueAcrossThreads) {
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::vector<std::string>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out, t] {
      for (int i = 0; i < kEach; ++i) out[static_cast<std::size_t>(t)].push_back(NewUuidV7());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(UuidV7, ForkedChildDoesNotRepeatItsParentsRandomBits) {
  (void)NewUuidV7();  // the parent now holds buffered random bytes
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string id = NewUuidV7();
    const auto n = ::write(fds[1], id.data(), id.size());
    ::_exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = NewUuidV7();
  std::string theirs(36, '\0');
  ASSERT_EQ(::read(fds[0], theirs.data(), theirs.size()), 36);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // The last 16 hex digits are random (after the variant bits).
  EXPECT_NE(mine.substr(20), theirs.substr(20)) << mine << " " << theirs;
}

TEST(UuidV7, IsUuidRejectsMalformedText) {
  EXPECT_TRUE(IsUuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(IsUuid("0190B4C2-7A1E-7C3D-9F0A-0123456789AB"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0190b4c27a1e7c3d9f0a0123456789ab"));
  EXPECT_FALSE(IsUuid("0190b4c2-7a1e-7c3d-9f0a-0123456789ag"));
  EXPECT_FALSE(IsUuid("0190b4c2-7a1e-7c3d-9f0a-0123456789abc"));
  EXPECT_FALSE(IsUuid("'; DROP TABLE users; --'''''''''''''''"));
  EXPECT_EQ(UuidV7Millis("00000000-0000-4000-8000-000000000000"), -1);  // v4
}

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

TEST(Envelope, FormatTimestampIsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(std::chrono::system_clock::time_point(1'700'000'000'007ms)),
            "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(FormatTimestamp(std::chrono::system_clock::time_point(0ms)),
            "1970-01-01T00:00:00.000Z");
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
