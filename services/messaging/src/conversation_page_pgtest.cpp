// The conversation list's page (migration 000014, msg_conversation_page and the
// member_activity triggers; ConversationStore::List) and the autovacuum settings
// (000015), against live PostgreSQL. TCHAT_TEST_PG_URL (a superuser libpq URI) is
// required: a scratch database is created per test, migrated with every
// migrations/postgres/tchat_messaging/*.up.sql and dropped.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "conversation_store.hpp"

namespace tchat::messaging {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

class ConversationPagePgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_conversation_page_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 15);
  }
  void TearDown() override { db_.Drop(); }
  void Run(const std::function<Task<void>(pg::Pool&)>& body) {
    RunWithPool(db_.Pool("conversation_page_pgtest"), body);
  }
  ScratchDatabase db_;
};

constexpr const char* kHeavy = "00000000-0000-7000-8000-000000000001";
constexpr const char* kLight = "00000000-0000-7000-8000-000000000002";
constexpr const char* kFirst = "'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff'";

// 20,000 conversations, one an hour back from now, each with a member nobody
// else has; the heavy user is in every 10th (2,000), the light one in 10.
constexpr const char* kFillConversations =
    "INSERT INTO conversations (id, type, created_by, updated_at) "
    "SELECT ('00000001-0000-7000-8000-' || lpad(to_hex(j), 12, '0'))::uuid, 'group', "
    "gen_random_uuid(), now() - j * interval '1 hour' FROM generate_series(0, 19999) j";
constexpr const char* kFillMembers =
    "INSERT INTO members (conversation_id, user_id, role) "
    "SELECT ('00000001-0000-7000-8000-' || lpad(to_hex(j), 12, '0'))::uuid, u, 'member' "
    "FROM generate_series(0, 19999) j, LATERAL (SELECT gen_random_uuid() UNION ALL "
    "SELECT '00000000-0000-7000-8000-000000000001'::uuid WHERE j % 10 = 0 UNION ALL "
    "SELECT '00000000-0000-7000-8000-000000000002'::uuid WHERE j % 10 = 1 AND j < 100) x(u)";

// Buffers (shared hit + read) of the statement `sql`, from EXPLAIN (ANALYZE, BUFFERS):
// a function's statements count in its Function Scan node.
constexpr const char* kBuffersFn =
    "CREATE FUNCTION test_buffers(q text) RETURNS bigint LANGUAGE plpgsql AS $$ "
    "DECLARE j json; BEGIN "
    "EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO j; "
    "RETURN (j->0->'Plan'->>'Shared Hit Blocks')::bigint "
    "+ (j->0->'Plan'->>'Shared Read Blocks')::bigint; END $$";

Task<Result<std::int64_t>> Int(pg::Pool& pool, const std::string& sql) {
  auto r = co_await pool.Query(sql);
  if (!r) co_return std::move(r).error();
  if (r->Rows() != 1) co_return Error::Internal("expected one row: " + sql);
  co_return r->GetInt64(0, 0);
}

// Conversation rows a statement fetched by index, in a transaction of its own.
Task<Result<std::int64_t>> ConversationsFetched(pg::Pool& pool, const std::string& sql) {
  co_return co_await pool.Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<std::int64_t>> {
        auto before = co_await c.Query(
            "SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'conversations'");
        if (!before) co_return std::move(before).error();
        auto run = co_await c.Query(sql);
        if (!run) co_return std::move(run).error();
        auto after = co_await c.Query(
            "SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'conversations'");
        if (!after) co_return std::move(after).error();
        co_return after->GetInt64(0, 0) - before->GetInt64(0, 0);
      });
}

// A page of a user in 2,000 conversations reads the page, not the 2,000: the
// conversations it fetches and its buffers stay near a user's in 10, while the
// whole-list read (msg_user_conversations, 000008) fetches all 2,000.
TEST_F(ConversationPagePgTest, PageOfAHeavyUserReadsOnlyThePage) {
  Run([&](pg::Pool& pool) -> Task<void> {
    CO_ASSERT_OK(co_await pool.Query(kFillConversations));
    CO_ASSERT_OK(co_await pool.Query(kFillMembers));
    CO_ASSERT_OK(co_await pool.Query(kBuffersFn));
    CO_ASSERT_OK(co_await pool.Query("VACUUM ANALYZE"));
    const std::string heavy_page =
        std::string("SELECT * FROM msg_conversation_page('") + kHeavy + "', " + kFirst + ", 51)";
    const std::string light_page =
        std::string("SELECT * FROM msg_conversation_page('") + kLight + "', " + kFirst + ", 51)";
    auto n = co_await Int(pool, "SELECT count(*) FROM (" + heavy_page + ") p");
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 51);
    auto fetched = co_await ConversationsFetched(pool, heavy_page);
    CO_ASSERT_OK(fetched);
    EXPECT_LE(*fetched, 53) << "the page read conversations beyond its own";
    EXPECT_GE(*fetched, 51);
    auto whole = co_await ConversationsFetched(
        pool, std::string("SELECT * FROM msg_user_conversations('") + kHeavy +
                  "') c ORDER BY c.updated_at DESC, c.id DESC LIMIT 51");
    CO_ASSERT_OK(whole);
    EXPECT_GE(*whole, 2000) << "the whole-list read no longer reads all: this test shows nothing";
    // Buffers: the second call of each (the first also loads the catalogue).
    std::int64_t heavy = 0, light = 0;
    for (int i = 0; i < 2; ++i) {
      auto h = co_await Int(pool, "SELECT test_buffers($q$" + heavy_page + "$q$)");
      auto l = co_await Int(pool, "SELECT test_buffers($q$" + light_page + "$q$)");
      CO_ASSERT_OK(h);
      CO_ASSERT_OK(l);
      heavy = *h;
      light = *l;
    }
    // 51 rows of 10 against 10 rows: about five times the light user's, a tenth
    // of the whole list's (~6,500 buffers).
    EXPECT_LE(heavy, 600) << "light: " << light;
    EXPECT_LE(heavy, 51 * (light + 10) / 10) << "light: " << light;
  });
}

// Ids of the user's conversations through msg_conversation_page, `limit` a page.
Task<Result<std::vector<std::string>>> PageThrough(pg::Pool& pool, const std::string& user,
                                                   int limit) {
  std::vector<std::string> out;
  std::string at = "infinity", id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  for (int pages = 0; pages < 1000; ++pages) {
    auto r = co_await pool.Query(
        "SELECT id::text, updated_at::text FROM msg_conversation_page($1::uuid, $2::timestamptz, "
        "$3::uuid, $4::int)",
        user, at, id, limit);
    if (!r) co_return std::move(r).error();
    for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
    if (r->Rows() < limit) co_return out;
    at = std::string(r->GetString(r->Rows() - 1, 1));
    id = std::string(r->GetString(r->Rows() - 1, 0));
  }
  co_return Error::Internal("more than 1,000 pages");
}

Task<Result<std::vector<std::string>>> Expected(pg::Pool& pool, const std::string& user) {
  auto r = co_await pool.Query(
      "SELECT c.id::text FROM members me JOIN conversations c ON c.id = me.conversation_id "
      "WHERE me.user_id = $1::uuid ORDER BY c.updated_at DESC, c.id DESC",
      user);
  if (!r) co_return std::move(r).error();
  std::vector<std::string> out;
  for (int i = 0; i < r->Rows(); ++i) out.emplace_back(r->GetString(i, 0));
  co_return out;
}

// Paging by hour of activity lists every conversation once, in the exact order
// of (updated_at, id), with pages ending inside an hour and ties of updated_at;
// and stays exact when activity moves conversations to other hours, members join
// and members leave (the triggers of 000014).
TEST_F(ConversationPagePgTest, PagesListEveryConversationInOrderAsActivityMoves) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string user = NewUuidV7();
    // 300 conversations, six an hour, the last two of each hour at the same time.
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO conversations (id, type, created_by, updated_at) "
        "SELECT gen_random_uuid(), 'group', $1::uuid, date_trunc('hour', now()) "
        "- (j / 6) * interval '1 hour' + least(j % 6, 4) * interval '7 minutes' "
        "FROM generate_series(0, 299) j",
        user));
    CO_ASSERT_OK(
        co_await pool.Query("INSERT INTO members (conversation_id, user_id, role) "
                            "SELECT id, $1::uuid, 'owner' FROM conversations",
                            user));
    for (int limit : {1, 7, 50}) {
      auto got = co_await PageThrough(pool, user, limit);
      auto want = co_await Expected(pool, user);
      CO_ASSERT_OK(got);
      CO_ASSERT_OK(want);
      EXPECT_EQ(want->size(), 300u);
      EXPECT_EQ(*got, *want) << "limit " << limit;
    }
    // Activity: ten conversations move up by hours, one into the same hour.
    CO_ASSERT_OK(co_await pool.Query(
        "UPDATE conversations SET updated_at = now() + (random() * 3) * interval '1 hour' "
        "WHERE id IN (SELECT id FROM conversations ORDER BY id LIMIT 10)"));
    // Joins (the new memberships take the conversation's hour) and leaves.
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO conversations (id, type, created_by, updated_at) "
        "SELECT gen_random_uuid(), 'group', gen_random_uuid(), now() - j * interval '90 minutes' "
        "FROM generate_series(1, 5) j"));
    CO_ASSERT_OK(
        co_await pool.Query("INSERT INTO members (conversation_id, user_id, role) "
                            "SELECT id, $1::uuid, 'member' FROM conversations c WHERE NOT EXISTS "
                            "(SELECT 1 FROM members m WHERE m.conversation_id = c.id)",
                            user));
    CO_ASSERT_OK(
        co_await pool.Query("DELETE FROM members WHERE user_id = $1::uuid AND conversation_id IN "
                            "(SELECT id FROM conversations ORDER BY id DESC LIMIT 3)",
                            user));
    auto got = co_await PageThrough(pool, user, 7);
    auto want = co_await Expected(pool, user);
    CO_ASSERT_OK(got);
    CO_ASSERT_OK(want);
    EXPECT_EQ(want->size(), 302u);
    EXPECT_EQ(*got, *want);
    auto stale = co_await Int(pool,
                              "SELECT count(*) FROM member_activity a JOIN conversations c ON "
                              "c.id = a.conversation_id "
                              "WHERE a.activity_hour <> msg_activity_hour(c.updated_at)");
    CO_ASSERT_OK(stale);
    EXPECT_EQ(*stale, 0);
  });
}

// On a list page a group carries the caller's own membership and the count, a
// direct conversation both members; the conversation's own read has them all.
TEST_F(ConversationPagePgTest, ListPageCarriesMemberCountsNotGroupsMembers) {
  Run([&](pg::Pool& pool) -> Task<void> {
    ConversationStore store(pool);
    const std::string me = NewUuidV7(), peer = NewUuidV7(), group = NewUuidV7();
    std::vector<std::string> others;
    for (int i = 0; i < 29; ++i) others.push_back(NewUuidV7());
    CO_ASSERT_OK(co_await store.CreateGroup(group, me, "thirty", others, NewUuidV7()));
    auto direct = co_await store.FindOrCreateDirect(NewUuidV7(), me, peer, NewUuidV7());
    CO_ASSERT_OK(direct);
    auto page = co_await store.List(me, 50, "");
    CO_ASSERT_OK(page);
    CO_ASSERT_TRUE(page->conversations.size() == 2u);
    for (const Conversation& c : page->conversations) {
      if (c.type == "group") {
        EXPECT_EQ(c.member_count, 30);
        CO_ASSERT_TRUE(c.members.size() == 1u);
        EXPECT_EQ(c.members[0].user_id, me);
        EXPECT_EQ(c.members[0].role, "owner");
      } else {
        EXPECT_EQ(c.member_count, 2);
        EXPECT_EQ(c.members.size(), 2u);
      }
    }
    auto full = co_await store.Load(group, me);
    CO_ASSERT_OK(full);
    EXPECT_EQ(full->members.size(), 30u);
    EXPECT_EQ(full->member_count, 30);
  });
}

// The append-heavy tables carry their autovacuum settings (000015).
TEST_F(ConversationPagePgTest, AppendHeavyTablesHaveTheirAutovacuumSettings) {
  Run([&](pg::Pool& pool) -> Task<void> {
    auto r = co_await pool.Query(
        "SELECT relname, array_to_string(reloptions, ',') FROM pg_class "
        "WHERE relname IN ('messages', 'outbox') AND relkind = 'r' ORDER BY relname");
    CO_ASSERT_OK(r);
    CO_ASSERT_TRUE(r->Rows() == 2);
    const std::string messages(r->GetString(0, 1)), outbox(r->GetString(1, 1));
    EXPECT_NE(messages.find("autovacuum_vacuum_insert_scale_factor=0.01"), std::string::npos)
        << messages;
    EXPECT_NE(messages.find("autovacuum_vacuum_insert_threshold=100000"), std::string::npos)
        << messages;
    EXPECT_NE(messages.find("autovacuum_analyze_scale_factor=0.01"), std::string::npos) << messages;
    EXPECT_NE(messages.find("fillfactor=90"), std::string::npos) << messages;
    EXPECT_NE(outbox.find("autovacuum_vacuum_scale_factor=0.01"), std::string::npos) << outbox;
    EXPECT_NE(outbox.find("autovacuum_vacuum_threshold=1000"), std::string::npos) << outbox;
  });
}

}  // namespace
}  // namespace tchat::messaging
