// msg_send_batch against live PostgreSQL, driven through PgMessageStore::Append
// so that both halves of the message.created envelope are exercised: C++ writes
// each element up to '"seq":', the SQL function completes it. TCHAT_TEST_PG_URL (a
// superuser libpq URI) is required: a scratch database is created per test,
// migrated with every migrations/postgres/tchat_messaging/*.up.sql and dropped.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "pg_message_store.hpp"

namespace tchat::messaging {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

namespace asio = boost::asio;

class MessagingPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_messaging_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 2);
  }
  void TearDown() override { db_.Drop(); }
  pg::PoolOptions PoolOpts() const { return db_.Pool("messaging_pgtest"); }

  void Run(const std::function<Task<void>(pg::Pool&)>& body) { RunWithPool(PoolOpts(), body); }

  ScratchDatabase db_;
};

// A group conversation with `members` (the first one owns it).
Task<Status> MakeConversation(pg::Pool& pool, const std::string& id,
                              const std::vector<std::string>& members) {
  auto c = co_await pool.Query(
      "INSERT INTO conversations (id, type, created_by) VALUES ($1::uuid, 'group', $2::uuid)", id,
      members.front());
  if (!c) co_return std::move(c).error();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::string role = i == 0 ? "owner" : "member";
    auto m = co_await pool.Query(
        "INSERT INTO members (conversation_id, user_id, role) VALUES ($1::uuid, $2::uuid, $3)", id,
        members[i], role);
    if (!m) co_return std::move(m).error();
  }
  co_return Ok();
}

AppendRequest Text(const std::string& conversation, const std::string& sender,
                   const std::string& body, const std::string& client_msg_id) {
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = conversation;
  r.sender_id = sender;
  r.type = "text";
  r.body = body;
  r.client_msg_id = client_msg_id;
  return r;
}

// Every element of every outbox row of type 'batch', in row and batch order.
Task<Result<std::vector<json::object>>> BatchEnvelopes(pg::Pool& pool) {
  auto r = co_await pool.Query(
      "SELECT payload::text FROM outbox WHERE type = 'batch' ORDER BY created_at, id");
  if (!r) co_return std::move(r).error();
  std::vector<json::object> out;
  for (int i = 0; i < r->Rows(); ++i) {
    boost::system::error_code ec;
    json::value v = json::parse(r->GetString(i, 0), ec);
    if (ec || !v.is_array()) co_return Error::Internal("batch payload is not a JSON array");
    for (const json::value& e : v.as_array()) {
      if (!e.is_object()) co_return Error::Internal("batch element is not an object");
      out.push_back(e.as_object());
    }
  }
  co_return out;
}

// The envelope of `req`, sent as `seq`, is complete: id, type, occurred_at, and data
// with the conversation, message, sender, seq and the other members as recipients.
void ExpectEnvelope(const json::object& env, const AppendRequest& req, std::int64_t seq,
                    const std::vector<std::string>& recipients) {
  SCOPED_TRACE(json::serialize(env));
  ASSERT_TRUE(env.contains("id") && env.contains("type") && env.contains("occurred_at") &&
              env.contains("data"));
  EXPECT_EQ(env.at("id").as_string(), req.event_id);
  EXPECT_EQ(env.at("type").as_string(), "message.created");
  EXPECT_FALSE(env.at("occurred_at").as_string().empty());
  const json::object& d = env.at("data").as_object();
  EXPECT_EQ(d.at("conversation_id").as_string(), req.conversation_id);
  EXPECT_EQ(d.at("message_id").as_string(), req.id);
  EXPECT_EQ(d.at("sender_id").as_string(), req.sender_id);
  EXPECT_EQ(d.at("seq").as_int64(), seq);
  std::vector<std::string> got;
  for (const json::value& u : d.at("recipients").as_array()) {
    got.emplace_back(u.as_string());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, recipients);
}

TEST_F(MessagingPgTest, SendBatchNumbersWithoutGapsDedupesAndRefusesOutsiders) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    const std::string c1 = NewUuidV7(), c2 = NewUuidV7(), c3 = NewUuidV7();
    const std::vector<std::string> members_1 = {alice, bob};
    CO_ASSERT_OK(co_await MakeConversation(pool, c1, members_1));
    const std::vector<std::string> members_2 = {alice, bob};
    CO_ASSERT_OK(co_await MakeConversation(pool, c2, members_2));
    const std::vector<std::string> members_3 = {bob};
    CO_ASSERT_OK(co_await MakeConversation(pool, c3, members_3));
    PgMessageStore store(pool);

    std::vector<AppendRequest> batch = {Text(c1, alice, "a", "k1"), Text(c2, alice, "b", "k2"),
                                        Text(c1, bob, "c", "k3"), Text(c1, alice, "d", "k4"),
                                        Text(c3, alice, "e", "k5")};
    auto out = co_await store.Append(batch);
    CO_ASSERT_OK(out);
    CO_ASSERT_TRUE(out->size() == batch.size());
    const std::vector<std::int64_t> want_seq = {1, 1, 2, 3};
    for (std::size_t i = 0; i < want_seq.size(); ++i) {
      EXPECT_EQ((*out)[i].status, AppendStatus::kOk) << i;
      EXPECT_EQ((*out)[i].message.seq, want_seq[i]) << i;
      EXPECT_EQ((*out)[i].message.id, batch[i].id) << i;
    }
    EXPECT_EQ((*out)[4].status, AppendStatus::kNotMember);

    // A repeated client_msg_id answers the original; the next new one follows on.
    std::vector<AppendRequest> again = {Text(c1, alice, "a, resent", "k1"),
                                        Text(c1, alice, "f", "k6")};
    auto out2 = co_await store.Append(again);
    CO_ASSERT_OK(out2);
    CO_ASSERT_TRUE(out2->size() == again.size());
    EXPECT_EQ((*out2)[0].status, AppendStatus::kDuplicate);
    EXPECT_EQ((*out2)[0].message.seq, 1);
    EXPECT_EQ((*out2)[0].message.id, batch[0].id);
    EXPECT_EQ((*out2)[0].message.body, "a");
    EXPECT_EQ((*out2)[1].status, AppendStatus::kOk);
    EXPECT_EQ((*out2)[1].message.seq, 4);

    auto rows = co_await pool.Query(
        "SELECT count(*), max(seq), (SELECT last_seq FROM conversations WHERE id = $1::uuid) "
        "FROM messages WHERE conversation_id = $1::uuid",
        c1);
    CO_ASSERT_OK(rows);
    EXPECT_EQ(rows->GetInt64(0, 0), 4);
    EXPECT_EQ(rows->GetInt64(0, 1), 4);
    EXPECT_EQ(rows->GetInt64(0, 2), 4);
    auto outsider = co_await pool.Query(
        "SELECT count(*) FROM messages WHERE conversation_id = "
        "$1::uuid",
        c3);
    CO_ASSERT_OK(outsider);
    EXPECT_EQ(outsider->GetInt64(0, 0), 0);
  });
}

TEST_F(MessagingPgTest, BatchOutboxRowHoldsCompleteMessageCreatedEnvelopes) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), carol = NewUuidV7();
    const std::string c1 = NewUuidV7(), c2 = NewUuidV7();
    const std::vector<std::string> members_4 = {alice, bob, carol};
    CO_ASSERT_OK(co_await MakeConversation(pool, c1, members_4));
    const std::vector<std::string> members_5 = {bob, alice};
    CO_ASSERT_OK(co_await MakeConversation(pool, c2, members_5));
    PgMessageStore store(pool);

    std::vector<AppendRequest> batch = {Text(c1, alice, "hello \"all\"", "e1"),
                                        Text(c2, bob, "hi", "e2"), Text(c1, carol, "yo", "e3")};
    auto out = co_await store.Append(batch);
    CO_ASSERT_OK(out);
    auto envs = co_await BatchEnvelopes(pool);
    CO_ASSERT_OK(envs);
    CO_ASSERT_TRUE(envs->size() == batch.size());
    std::vector<std::string> bob_carol = {bob, carol}, alice_only = {alice},
                             alice_bob = {alice, bob};
    std::sort(bob_carol.begin(), bob_carol.end());
    std::sort(alice_bob.begin(), alice_bob.end());
    ExpectEnvelope((*envs)[0], batch[0], 1, bob_carol);
    ExpectEnvelope((*envs)[1], batch[1], 1, alice_only);
    ExpectEnvelope((*envs)[2], batch[2], 2, alice_bob);

    // A duplicate writes no second event.
    std::vector<AppendRequest> again = {Text(c1, alice, "hello", "e1")};
    auto out2 = co_await store.Append(again);
    CO_ASSERT_OK(out2);
    auto envs2 = co_await BatchEnvelopes(pool);
    CO_ASSERT_OK(envs2);
    EXPECT_EQ(envs2->size(), batch.size());
  });
}

}  // namespace
}  // namespace tchat::messaging
