// End-to-end tests of message and conversation search (docs/api/openapi.yaml,
// /v1/search/*) against the running messaging service (TCHAT_TEST_MESSAGING_URL).
// The test stack runs the service with messaging_rate_searches_per_minute=200
// (scripts/test.sh), which the rate-limit test exhausts for a user of its own.
#include <string>
#include <thread>
#include <vector>

#include <tchat/client/api_client.hpp>
#include <tchat/core/uuid.hpp>

#include "support/fixture.hpp"
#include "support/json_fields.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;

class SearchE2eTest : public ServiceTest {
 protected:
  SearchE2eTest() : ServiceTest("TCHAT_TEST_MESSAGING_URL") {}

  std::string Group(User& owner, const std::vector<const User*>& members,
                    const std::string& title) {
    std::vector<std::string> ids;
    for (const User* m : members) ids.push_back(m->id);
    auto r = owner.api->Run(owner.api->async().CreateGroup(title, ids));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Str(r.object(), "id");
  }

  // Sends `body`; returns its seq once acknowledged.
  std::int64_t Send(User& u, const std::string& conv, const std::string& body) {
    auto r = u.api->Run(u.api->async().SendText(conv, NewUuidV7(), body));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Int(r.object(), "seq");
  }

  ApiResponse Search(User& u, const std::string& q, const std::string& extra = {}) {
    return u.api->Call("GET", "/v1/search/messages?q=" + client::UrlEncode(q) + extra);
  }

  // The bodies of the results of `q`, newest first; expects 200.
  std::vector<std::string> Bodies(User& u, const std::string& q, const std::string& extra = {}) {
    auto r = Search(u, q, extra);
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<std::string> out;
    for (const auto& hit : Arr(r.object(), "results")) {
      out.push_back(Str(Obj(hit.get_object(), "message"), "body"));
    }
    return out;
  }
};

using Strings = std::vector<std::string>;

TEST_F(SearchE2eTest, AnAcknowledgedMessageIsFoundAtOnceWithHighlights) {
  User a = NewUser(), b = NewUser();
  const std::string g = Group(a, {&b}, "Lunch");
  Send(a, g, "Tối nay ăn phở bò ở đường Lê Lợi nhé");
  auto r = Search(b, "pho bo");
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& results = Arr(r.object(), "results");
  ASSERT_EQ(results.size(), 1u) << r.raw;
  const json::object& hit = results[0].get_object();
  EXPECT_EQ(Str(hit, "conversation_id"), g);
  EXPECT_EQ(Str(Obj(hit, "message"), "conversation_id"), g);
  // "phở" is UTF-16 [11, 14), "bò" [15, 17).
  EXPECT_EQ(json::serialize(hit.at("highlights")), "[[11,14],[15,17]]");
  EXPECT_TRUE(r.object().at("next_cursor").is_null());
}

TEST_F(SearchE2eTest, ThaiWordsNumbersPrefixesAndNarrowing) {
  User a = NewUser(), b = NewUser();
  const std::string g1 = Group(a, {&b}, "บ้าน");
  const std::string g2 = Group(a, {}, "Kerja");
  Send(a, g1, "โอนให้แล้ว 1,250 บาท ค่าอาหารเมื่อวาน");
  Send(a, g1, "พรุ่งนี้เจอกันที่ร้านกาแฟนะ");
  Send(a, g2, "Besok kita ngopi di Kopi Kenangan");
  EXPECT_EQ(Bodies(a, "1250"), Strings{"โอนให้แล้ว 1,250 บาท ค่าอาหารเมื่อวาน"});
  EXPECT_EQ(Bodies(a, "1,250 บาท"), Strings{"โอนให้แล้ว 1,250 บาท ค่าอาหารเมื่อวาน"});
  EXPECT_EQ(Bodies(b, "ร้านกาแฟ"), Strings{"พรุ่งนี้เจอกันที่ร้านกาแฟนะ"});
  EXPECT_EQ(Bodies(a, "kopi kenan"), Strings{"Besok kita ngopi di Kopi Kenangan"});
  EXPECT_TRUE(Bodies(a, "kopi kenan", "&conversation_id=" + g1).empty());
  EXPECT_EQ(Bodies(a, "kopi", "&conversation_id=" + g2).size(), 1u);
  // b is not in g2: nothing of it, narrowed or not.
  EXPECT_TRUE(Bodies(b, "kopi").empty());
  EXPECT_TRUE(Bodies(b, "kopi", "&conversation_id=" + g2).empty());
}

TEST_F(SearchE2eTest, EditsReplaceWordsDeletionsAndLeavingRemoveThem) {
  User a = NewUser(), b = NewUser();
  const std::string g = Group(a, {&b}, "Trip");
  const std::int64_t seq = Send(a, g, "meet at Orchard Road");
  Send(a, g, "tickets to Penang");
  auto edit = a.api->Run(a.api->async().EditMessage(g, seq, "meet at Bugis instead"));
  ASSERT_EQ(edit.status, 200) << edit.raw;
  EXPECT_TRUE(Bodies(b, "orchard").empty());
  EXPECT_EQ(Bodies(b, "bugis"), Strings{"meet at Bugis instead"});
  auto del = a.api->Run(a.api->async().DeleteMessage(g, seq));
  ASSERT_EQ(del.status, 200) << del.raw;
  EXPECT_TRUE(Bodies(b, "bugis").empty());
  EXPECT_EQ(Bodies(b, "penang").size(), 1u);
  // After leaving, b finds nothing of the group, earlier messages included.
  ASSERT_EQ(b.api->Run(b.api->async().RemoveMember(g, b.id)).status, 204);
  EXPECT_TRUE(Bodies(b, "penang").empty());
  EXPECT_EQ(Bodies(a, "penang").size(), 1u);
}

TEST_F(SearchE2eTest, PagesAreNewestFirstWithoutDuplicates) {
  User a = NewUser();
  const std::string g = Group(a, {}, "Notes");
  for (int i = 0; i < 5; ++i) Send(a, g, "salamat po " + std::to_string(i));
  Strings seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r = Search(a, "salamat", "&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const auto& hit : Arr(r.object(), "results")) {
      seen.push_back(Str(Obj(hit.get_object(), "message"), "body"));
    }
    if (r.object().at("next_cursor").is_null()) break;
    cursor = client::UrlEncode(Str(r.object(), "next_cursor"));
  }
  EXPECT_EQ(seen, (Strings{"salamat po 4", "salamat po 3", "salamat po 2", "salamat po 1",
                           "salamat po 0"}));
}

TEST_F(SearchE2eTest, SystemMessagesAndConversationTitlesAreSearchable) {
  User a = NewUser(), b = NewUser();
  const std::string g = Group(a, {&b}, "Weekend");
  ASSERT_EQ(a.api->Run(a.api->async().UpdateTitle(g, "Kopi Lovers Club")).status, 200);
  // The rename's system message is posted right after the answer.
  bool found = false;
  for (int i = 0; i < 40 && !found; ++i) {
    auto r = Search(b, "lovers club");
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const auto& hit : Arr(r.object(), "results")) {
      found = found || Str(Obj(hit.get_object(), "message"), "type") == "system";
    }
    if (!found) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(found);
  auto convs = b.api->Call("GET", "/v1/search/conversations?q=" + client::UrlEncode("kopi lov"));
  ASSERT_EQ(convs.status, 200) << convs.raw;
  const auto& list = Arr(convs.object(), "conversations");
  ASSERT_EQ(list.size(), 1u) << convs.raw;
  EXPECT_EQ(Str(list[0].get_object(), "id"), g);
  User outsider = NewUser();
  auto none = outsider.api->Call("GET", "/v1/search/conversations?q=" + client::UrlEncode("kopi"));
  ASSERT_EQ(none.status, 200);
  EXPECT_TRUE(Arr(none.object(), "conversations").empty());
}

TEST_F(SearchE2eTest, BadInputIs400) {
  User a = NewUser();
  const std::string nine = "a b c d e f g h i";
  const std::string long_q(201, 'x');
  for (const std::string& path :
       {std::string("/v1/search/messages"), std::string("/v1/search/messages?q="),
        "/v1/search/messages?q=" + client::UrlEncode("  !!! "),
        "/v1/search/messages?q=" + client::UrlEncode(nine), "/v1/search/messages?q=" + long_q,
        std::string("/v1/search/messages?q=%FF%FE"),
        std::string("/v1/search/messages?q=kopi&limit=0"),
        std::string("/v1/search/messages?q=kopi&limit=51"),
        std::string("/v1/search/messages?q=kopi&cursor=garbage"),
        std::string("/v1/search/messages?q=kopi&conversation_id=nope"),
        std::string("/v1/search/conversations"),
        "/v1/search/conversations?q=" + client::UrlEncode(nine)}) {
    auto r = a.api->Call("GET", path);
    EXPECT_EQ(r.status, 400) << path << " " << r.raw;
    EXPECT_EQ(r.error_code(), "invalid_argument") << path;
  }
  // 200 characters of Thai are fine.
  std::string thai;
  for (int i = 0; i < 50; ++i) thai += "ร้าน";
  EXPECT_EQ(Search(a, thai).status, 200);
  BlockingApi anonymous(io_, url_);
  EXPECT_EQ(anonymous.Call("GET", "/v1/search/messages?q=kopi").status, 401);
}

TEST_F(SearchE2eTest, SearchesAreRateLimitedPerUser) {
  User a = NewUser(), b = NewUser();
  int status = 0;
  for (int i = 0; i < 400 && status != 429; ++i) status = Search(a, "kopi").status;
  ASSERT_EQ(status, 429);
  auto r = Search(a, "kopi");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "rate_limited");
  EXPECT_FALSE(r.header("Retry-After").empty());
  EXPECT_EQ(Search(b, "kopi").status, 200);  // per user
}

}  // namespace
}  // namespace tchat::e2e
