// Message search against live PostgreSQL (migrations/postgres/tchat_messaging/
// 000006_search): the terms msg_send_batch stores with each message, edits and
// deletions, membership, prefixes through search_vocab and paging.
// TCHAT_TEST_PG_URL (a superuser libpq URI) is required: a scratch database is
// created per test, migrated with every tchat_messaging/*.up.sql and dropped.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "pg_message_store.hpp"
#include "search_store.hpp"
#include "search_text.hpp"

namespace tchat::messaging {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers
using namespace std::string_literals;

class SearchPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_search_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 6);
  }
  void TearDown() override { db_.Drop(); }
  void Run(const std::function<Task<void>(pg::Pool&)>& body) {
    RunWithPool(db_.Pool("search_pgtest"), body);
  }
  ScratchDatabase db_;
};

Task<Status> MakeGroup(pg::Pool& pool, const std::string& id,
                       const std::vector<std::string>& members) {
  auto c = co_await pool.Query(
      "INSERT INTO conversations (id, type, created_by) VALUES ($1::uuid, 'group', $2::uuid)", id,
      members.front());
  if (!c) co_return std::move(c).error();
  for (const std::string& m : members) {
    auto r = co_await pool.Query(
        "INSERT INTO members (conversation_id, user_id, role) VALUES ($1::uuid, $2::uuid, "
        "'member')",
        id, m);
    if (!r) co_return std::move(r).error();
  }
  co_return Ok();
}

AppendRequest Text(const std::string& conversation, const std::string& sender,
                   const std::string& body) {
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = conversation;
  r.sender_id = sender;
  r.type = "text";
  r.body = body;
  r.client_msg_id = NewUuidV7();
  return r;
}

// The bodies `user` finds for `q`, newest first (one page of 50).
Task<std::vector<std::string>> Find(PgSearchStore& store, const std::string& user,
                                    std::string_view q,
                                    std::optional<std::string> conversation = std::nullopt) {
  MessageSearch s;
  s.user_id = user;
  s.query = search::ParseQuery(q);
  s.conversation_id = std::move(conversation);
  s.limit = 50;
  std::vector<std::string> out;
  auto page = co_await store.Messages(s);
  EXPECT_TRUE(static_cast<bool>(page)) << (page ? "" : page.error().message);
  if (!page) co_return out;
  for (const Message& m : page->messages) out.push_back(m.body);
  co_return out;
}

using Bodies = std::vector<std::string>;

TEST_F(SearchPgTest, SentMessagesAreFoundByWordsPrefixesAndVariants) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), eve = NewUuidV7();
    const std::string c1 = NewUuidV7(), c2 = NewUuidV7();
    const std::vector<std::string> m1 = {alice, bob}, m2 = {eve};
    CO_ASSERT_OK(co_await MakeGroup(pool, c1, m1));
    CO_ASSERT_OK(co_await MakeGroup(pool, c2, m2));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    std::vector<AppendRequest> batch = {
        Text(c1, alice, "Tối nay ăn phở bò nhé"), Text(c1, bob, "โอนให้แล้ว 1,250 บาท"),
        Text(c1, alice, "พรุ่งนี้เจอกันที่ร้านกาแฟ"), Text(c2, eve, "phở bò secret of eve")};
    auto sent = co_await messages.Append(std::move(batch));
    CO_ASSERT_OK(sent);
    const Bodies pho = {"Tối nay ăn phở bò nhé"};
    {
      auto got = co_await Find(search, alice, "phở bò"s, c1);
      EXPECT_EQ(got, pho);
    }
    {
      auto got = co_await Find(search, bob, "pho bo"s);
      EXPECT_EQ(got, pho);
    }
    {
      auto got = co_await Find(search, bob, "PHỞ"s);
      EXPECT_EQ(got, Bodies{"Tối nay ăn phở bò nhé"s});
    }
    {
      auto got = co_await Find(search, bob, "1250"s);
      EXPECT_EQ(got, Bodies{"โอนให้แล้ว 1,250 บาท"s});
    }
    {
      auto got = co_await Find(search, bob, "ร้าน"s);
      EXPECT_EQ(got, Bodies{"พรุ่งนี้เจอกันที่ร้านกาแฟ"s});
    }
    {
      auto got = co_await Find(search, alice, "tối n"s);
      EXPECT_EQ(got, Bodies{"Tối nay ăn phở bò nhé"s});
    }
    {
      auto got = co_await Find(search, alice, "toi nayx"s);
      EXPECT_TRUE(got.empty());
    }
    // Other people's conversations never leak; narrowing to one is honoured.
    {
      auto got = co_await Find(search, eve, "pho"s);
      EXPECT_EQ(got, Bodies{"phở bò secret of eve"s});
    }
    {
      auto got = co_await Find(search, alice, "secret"s);
      EXPECT_TRUE(got.empty());
    }
    {
      auto got = co_await Find(search, alice, "pho"s, c2);
      EXPECT_TRUE(got.empty());
    }
    {
      auto got = co_await Find(search, alice, "pho"s, c1);
      EXPECT_EQ(got.size(), 1u);
    }
    // The vocabulary holds the terms and their variants.
    auto v = co_await pool.Query(
        "SELECT count(*) FROM search_vocab WHERE term IN ('phở', 'pho', '1,250', '1250', 'ร้าน')");
    CO_ASSERT_OK(v);
    EXPECT_EQ(v->GetInt64(0, 0), 5);
    // A member removed finds nothing of that conversation any more.
    CO_ASSERT_OK(co_await pool.Query("DELETE FROM members WHERE user_id = $1::uuid", bob));
    {
      auto got = co_await Find(search, bob, "pho"s);
      EXPECT_TRUE(got.empty());
    }
  });
}

TEST_F(SearchPgTest, EditsReplaceWordsAndDeletionsRemoveThem) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), c = NewUuidV7();
    const std::vector<std::string> only = {alice};
    CO_ASSERT_OK(co_await MakeGroup(pool, c, only));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    std::vector<AppendRequest> batch = {Text(c, alice, "meet at Orchard Road"),
                                        Text(c, alice, "kopi at Tanjong Pagar")};
    CO_ASSERT_OK(co_await messages.Append(std::move(batch)));
    {
      auto got = co_await Find(search, alice, "orchard"s);
      EXPECT_EQ(got.size(), 1u);
    }
    auto edited = co_await messages.Edit(c, 1, alice, "meet at Bugis instead"s, NewUuidV7());
    CO_ASSERT_OK(edited);
    EXPECT_EQ(edited->recipients, std::vector<std::string>{alice});
    {
      auto got = co_await Find(search, alice, "orchard"s);
      EXPECT_TRUE(got.empty());
    }
    {
      auto got = co_await Find(search, alice, "bugis"s);
      EXPECT_EQ(got, Bodies{"meet at Bugis instead"s});
    }
    {
      auto got = co_await Find(search, alice, "meet bug"s);
      EXPECT_EQ(got, Bodies{"meet at Bugis instead"s});
    }
    CO_ASSERT_OK(co_await messages.Delete(c, 2, alice, false, NewUuidV7()));
    {
      auto got = co_await Find(search, alice, "kopi"s);
      EXPECT_TRUE(got.empty());
    }
    auto t =
        co_await pool.Query("SELECT count(*) FROM messages WHERE search_terms IS NULL AND deleted");
    CO_ASSERT_OK(t);
    EXPECT_EQ(t->GetInt64(0, 0), 1);
  });
}

TEST_F(SearchPgTest, PagesAreNewestFirstWithoutDuplicates) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), c = NewUuidV7();
    const std::vector<std::string> only = {alice};
    CO_ASSERT_OK(co_await MakeGroup(pool, c, only));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    for (int i = 0; i < 5; ++i) {
      std::vector<AppendRequest> one;
      one.push_back(Text(c, alice, "bayar " + std::to_string(i)));
      CO_ASSERT_OK(co_await messages.Append(std::move(one)));
    }
    std::vector<std::string> seen;
    MessageSearch s;
    s.user_id = alice;
    s.query = search::ParseQuery("bayar");
    s.limit = 2;
    for (int page = 0; page < 4; ++page) {
      auto r = co_await search.Messages(s);
      CO_ASSERT_OK(r);
      for (const Message& m : r->messages) seen.push_back(m.body);
      if (!r->has_more) break;
      s.before_id = r->messages.back().id;
    }
    EXPECT_EQ(seen, (Bodies{"bayar 4", "bayar 3", "bayar 2", "bayar 1", "bayar 0"}));
  });
}

// Past kIndexFirstCap matches in the whole table, a search reads the caller's
// conversations instead: same answers, no leak of the others' messages.
TEST_F(SearchPgTest, CommonWordsAreSearchedInTheCallersConversations) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), eve = NewUuidV7();
    const std::string mine = NewUuidV7(), theirs = NewUuidV7();
    const std::vector<std::string> a = {alice}, e = {eve};
    CO_ASSERT_OK(co_await MakeGroup(pool, mine, a));
    CO_ASSERT_OK(co_await MakeGroup(pool, theirs, e));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    for (int b = 0; b < 9; ++b) {
      std::vector<AppendRequest> batch;
      for (int i = 0; i < 250; ++i)
        batch.push_back(Text(theirs, eve, "kopi susu " + std::to_string(i)));
      CO_ASSERT_OK(co_await messages.Append(std::move(batch)));
    }
    std::vector<AppendRequest> own = {Text(mine, alice, "kopi one"), Text(mine, alice, "teh two"),
                                      Text(mine, alice, "kopi three"),
                                      Text(mine, alice, "kopi susu four")};
    CO_ASSERT_OK(co_await messages.Append(std::move(own)));
    {
      auto got = co_await Find(search, alice, "kopi"s);
      EXPECT_EQ(got, (Bodies{"kopi susu four"s, "kopi three"s, "kopi one"s}));
    }
    {
      auto got = co_await Find(search, alice, "kopi su"s);
      EXPECT_EQ(got, Bodies{"kopi susu four"s});
    }
    {
      auto got = co_await Find(search, alice, "kopi"s, theirs);
      EXPECT_TRUE(got.empty());
    }
    {
      auto got = co_await Find(search, alice, "kopi su"s, mine);
      EXPECT_EQ(got, Bodies{"kopi susu four"s});
    }
    {
      auto got = co_await Find(search, eve, "kopi susu 249"s);
      EXPECT_EQ(got.size(), 9u);  // one per batch
    }
  });
}

}  // namespace
}  // namespace tchat::messaging
