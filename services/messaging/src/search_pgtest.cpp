// Message search against live PostgreSQL (migrations/postgres/tchat_messaging/
// 000006_search, 000010_search_conversation_key): the terms msg_send_batch stores
// with each message and its conversation key, edits and deletions, membership,
// prefixes, paging across conversations, the --keys backfill.
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
    db_.Create("tchat_search_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 13);
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

// The bodies `user` finds for `q` with `plan`, newest first (one page of 50).
Task<std::vector<std::string>> FindWith(PgSearchStore& store, SearchPlan plan,
                                        const std::string& user, std::string_view q,
                                        const std::optional<std::string>& conversation) {
  MessageSearch s;
  s.user_id = user;
  s.plan = plan;
  s.query = search::ParseQuery(q);
  s.conversation_id = conversation;
  s.limit = 50;
  std::vector<std::string> out;
  auto page = co_await store.Messages(s);
  EXPECT_TRUE(static_cast<bool>(page)) << (page ? "" : page.error().message);
  if (!page) co_return out;
  // The words plan gives way to the keys past words_max_matches in the table.
  if (plan == SearchPlan::kKeys) {
    EXPECT_EQ(page->plan, plan) << q;
  }
  for (const Message& m : page->messages) out.push_back(m.body);
  co_return out;
}

// The bodies `user` finds for `q`, newest first (one page of 50): the same with
// each plan (SearchPlan), or the test fails.
Task<std::vector<std::string>> Find(PgSearchStore& store, const std::string& user,
                                    std::string_view q,
                                    std::optional<std::string> conversation = std::nullopt) {
  auto keys = co_await FindWith(store, SearchPlan::kKeys, user, q, conversation);
  auto words = co_await FindWith(store, SearchPlan::kWords, user, q, conversation);
  auto chosen = co_await FindWith(store, SearchPlan::kAuto, user, q, conversation);
  EXPECT_EQ(words, keys) << "the words plan differs from the keys plan for " << q;
  EXPECT_EQ(chosen, keys) << "the chosen plan differs from the keys plan for " << q;
  co_return keys;
}

using Bodies = std::vector<std::string>;

// Every message with terms holds exactly one conversation key, its own; the
// vocabulary (prefixes) holds none.
Task<Status> KeysMatchConversations(pg::Pool& pool) {
  auto r = co_await pool.Query(
      "SELECT (SELECT count(*) FROM messages WHERE search_terms IS NOT NULL), "
      "(SELECT count(*) FROM messages m CROSS JOIN LATERAL unnest(m.search_terms) t "
      "WHERE starts_with(t, chr(1))), "
      "(SELECT count(*) FROM messages m WHERE m.search_terms IS NOT NULL "
      "AND NOT m.search_terms @> ARRAY[search_conversation_key(m.conversation_id)]), "
      "(SELECT count(*) FROM search_vocab WHERE starts_with(term, chr(1)))");
  if (!r) co_return std::move(r).error();
  EXPECT_EQ(r->GetInt64(0, 0), r->GetInt64(0, 1)) << "messages with terms vs keys";
  EXPECT_EQ(r->GetInt64(0, 2), 0) << "messages with terms without their own key";
  EXPECT_EQ(r->GetInt64(0, 3), 0) << "keys in the vocabulary";
  co_return Ok();
}

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
    // The terms hold the words and their variants, and the conversation's key.
    auto v = co_await pool.Query(
        "SELECT count(*) FROM messages m CROSS JOIN LATERAL unnest(m.search_terms) t "
        "WHERE m.conversation_id = $1::uuid AND t IN ('phở', 'pho', '1,250', '1250', 'ร้าน')",
        c1);
    CO_ASSERT_OK(v);
    EXPECT_EQ(v->GetInt64(0, 0), 5);
    CO_ASSERT_OK(co_await KeysMatchConversations(pool));
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
    // The edit wrote its terms with the key; the deletion dropped both.
    CO_ASSERT_OK(co_await KeysMatchConversations(pool));
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
    for (const SearchPlan plan : {SearchPlan::kKeys, SearchPlan::kWords}) {
      std::vector<std::string> seen;
      MessageSearch s;
      s.user_id = alice;
      s.plan = plan;
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
    }
  });
}

// Many matches in other people's conversations change nothing: the search reads
// the caller's conversations only, and leaks none of the others' messages.
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

// The plan follows the statistics of search_terms (ANALYZE): a rare word takes
// the words plan, a common one the keys, one conversation the keys; a words
// plan that meets more matches in the table than words_max_matches runs the
// keys instead. Each finds the caller's rows only.
TEST_F(SearchPgTest, RareWordsTakeTheWordsPlanCommonOnesTheKeys) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), eve = NewUuidV7();
    const std::string mine = NewUuidV7(), theirs = NewUuidV7();
    const std::vector<std::string> a = {alice}, e = {eve};
    CO_ASSERT_OK(co_await MakeGroup(pool, mine, a));
    CO_ASSERT_OK(co_await MakeGroup(pool, theirs, e));
    PgMessageStore messages(pool);
    for (int b = 0; b < 3; ++b) {
      std::vector<AppendRequest> batch;
      for (int i = 0; i < 100; ++i) batch.push_back(Text(theirs, eve, "kopi susu langka"));
      CO_ASSERT_OK(co_await messages.Append(std::move(batch)));
    }
    std::vector<AppendRequest> own = {Text(mine, alice, "kopi jarang"), Text(mine, alice, "teh")};
    CO_ASSERT_OK(co_await messages.Append(std::move(own)));
    CO_ASSERT_OK(co_await pool.Query("ANALYZE messages"));
    PgSearchStore search(pool,
                         SearchPlanLimits{.words_max_estimate = 50, .words_max_matches = 100});
    struct Case {
      std::string q;
      std::optional<std::string> conversation;
      SearchPlan plan;  // asked
      SearchPlan ran;
      Bodies found;
    };
    const std::vector<Case> cases = {
        {"jarang", std::nullopt, SearchPlan::kAuto, SearchPlan::kWords, {"kopi jarang"}},
        {"kopi jar", std::nullopt, SearchPlan::kAuto, SearchPlan::kWords, {"kopi jarang"}},
        {"kopi", std::nullopt, SearchPlan::kAuto, SearchPlan::kKeys, {"kopi jarang"}},
        {"langka", std::nullopt, SearchPlan::kAuto, SearchPlan::kKeys, {}},
        {"jarang", mine, SearchPlan::kAuto, SearchPlan::kKeys, {"kopi jarang"}},
        // 301 matches in the table, more than 100: the keys find the page.
        {"kopi", std::nullopt, SearchPlan::kWords, SearchPlan::kKeys, {"kopi jarang"}},
        {"kop", std::nullopt, SearchPlan::kWords, SearchPlan::kKeys, {"kopi jarang"}},
    };
    for (const Case& c : cases) {
      MessageSearch s;
      s.user_id = alice;
      s.plan = c.plan;
      s.query = search::ParseQuery(c.q);
      s.conversation_id = c.conversation;
      auto page = co_await search.Messages(s);
      CO_ASSERT_OK(page);
      EXPECT_EQ(page->plan, c.ran) << c.q;
      Bodies got;
      for (const Message& m : page->messages) got.push_back(m.body);
      EXPECT_EQ(got, c.found) << c.q;
    }
  });
}

// Results of several conversations come merged newest first, a page at a time,
// each message once (a prefix that matches two of its words included).
TEST_F(SearchPgTest, ConversationsAreMergedNewestFirstAcrossPages) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    const std::string c1 = NewUuidV7(), c2 = NewUuidV7(), c3 = NewUuidV7();
    const std::vector<std::string> ab = {alice, bob}, a = {alice};
    CO_ASSERT_OK(co_await MakeGroup(pool, c1, ab));
    CO_ASSERT_OK(co_await MakeGroup(pool, c2, a));
    CO_ASSERT_OK(co_await MakeGroup(pool, c3, ab));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    const std::vector<std::string> order = {c1, c2, c3, c2, c1, c3, c3, c2, c1};
    Bodies newest_first;
    for (std::size_t i = 0; i < order.size(); ++i) {
      std::vector<AppendRequest> one;
      const std::string body = "bayar bayaran " + std::to_string(i);
      one.push_back(Text(order[i], alice, body));
      newest_first.insert(newest_first.begin(), body);
      CO_ASSERT_OK(co_await messages.Append(std::move(one)));
    }
    std::vector<AppendRequest> other = {Text(c2, alice, "teh tarik")};
    CO_ASSERT_OK(co_await messages.Append(std::move(other)));
    for (const std::string q : {"baya", "bayar", "bayar baya", "bayaran bay"}) {
      for (const SearchPlan plan : {SearchPlan::kKeys, SearchPlan::kWords}) {
        Bodies seen;
        MessageSearch s;
        s.user_id = alice;
        s.plan = plan;
        s.query = search::ParseQuery(q);
        s.limit = 2;
        for (int page = 0; page < 10; ++page) {
          auto r = co_await search.Messages(s);
          CO_ASSERT_OK(r);
          for (const Message& m : r->messages) seen.push_back(m.body);
          if (!r->has_more) break;
          s.before_id = r->messages.back().id;
        }
        EXPECT_EQ(seen, newest_first) << q;
      }
    }
    // Bob is not in c2: he finds the others only, still newest first.
    Bodies bobs;
    for (std::size_t i = order.size(); i-- > 0;) {
      if (order[i] != c2) bobs.push_back("bayar bayaran " + std::to_string(i));
    }
    auto got = co_await Find(search, bob, "bayar"s);
    EXPECT_EQ(got, bobs);
  });
}

// Messages indexed before migration 000010 have terms without the key:
// tchat-search-reindex --keys (kBackfillKeysSql) adds it, batch by batch, and
// leaves deleted messages and keys already there alone.
TEST_F(SearchPgTest, BackfillAddsTheKeysOfEarlierMessages) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), c = NewUuidV7();
    const std::vector<std::string> only = {alice};
    CO_ASSERT_OK(co_await MakeGroup(pool, c, only));
    PgMessageStore messages(pool);
    PgSearchStore search(pool);
    std::vector<AppendRequest> batch;
    for (int i = 0; i < 7; ++i) batch.push_back(Text(c, alice, "kopi " + std::to_string(i)));
    CO_ASSERT_OK(co_await messages.Append(std::move(batch)));
    CO_ASSERT_OK(co_await messages.Delete(c, 3, alice, false, NewUuidV7()));
    // As before the migration: no keys (one message kept, to be left alone).
    CO_ASSERT_OK(
        co_await pool.Query("UPDATE messages SET search_terms = array_remove(search_terms, "
                            "search_conversation_key(conversation_id)) WHERE seq <> 5"));
    {
      auto got = co_await Find(search, alice, "kopi"s);
      EXPECT_EQ(got, Bodies{"kopi 4"s});
    }
    std::string conversation = "00000000-0000-0000-0000-000000000000", seq = "0";
    long long read = 0, added = 0;
    for (int i = 0; i < 10; ++i) {
      auto r = co_await pool.Query(kBackfillKeysSql, conversation, seq, 3);
      CO_ASSERT_OK(r);
      if (r->GetInt64(0, 0) == 0) break;
      read += r->GetInt64(0, 0);
      added += r->GetInt64(0, 3);
      conversation = std::string(r->GetString(0, 1));
      seq = std::string(r->GetString(0, 2));
    }
    EXPECT_EQ(read, 7);
    EXPECT_EQ(added, 5);  // not the deleted message, not the one with its key
    CO_ASSERT_OK(co_await KeysMatchConversations(pool));
    auto got = co_await Find(search, alice, "kopi"s);
    EXPECT_EQ(got, (Bodies{"kopi 6", "kopi 5", "kopi 4", "kopi 3", "kopi 1", "kopi 0"}));
  });
}

}  // namespace
}  // namespace tchat::messaging
