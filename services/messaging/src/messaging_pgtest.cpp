// The SQL functions messaging calls, against live PostgreSQL: msg_send_batch
// (driven through PgMessageStore::Append, so that both ends of its contract —
// the named input fields and the message.created envelope it owns — are
// exercised; migrations/postgres/tchat_messaging/000005), msg_user_conversations
// (000008), tchat_ms and tchat_rfc3339. TCHAT_TEST_PG_URL (a superuser libpq URI) is required: a
// scratch database is created per test, migrated with every
// migrations/postgres/tchat_messaging/*.up.sql and dropped.
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

#include <tchat/core/events/streams.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "conversation_store.hpp"
#include "pg_message_store.hpp"

namespace tchat::messaging {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

namespace asio = boost::asio;

class MessagingPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_messaging_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 8);
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

// The raw payload and columns of the one outbox row of type 'batch'.
struct BatchRow {
  std::string id, stream, payload;
  bool published = false;
};

Task<Result<BatchRow>> OnlyBatchRow(pg::Pool& pool) {
  auto r = co_await pool.Query(
      "SELECT id::text, stream, payload::text, published_at IS NOT NULL FROM outbox "
      "WHERE type = 'batch'");
  if (!r) co_return std::move(r).error();
  if (r->Rows() != 1) co_return Error::Internal("want one batch row");
  co_return BatchRow{std::string(r->GetString(0, 0)), std::string(r->GetString(0, 1)),
                     std::string(r->GetString(0, 2)), r->GetBool(0, 3)};
}

// A conversation of `type` with `title` (null when empty) and `members`.
Task<Status> MakeTitled(pg::Pool& pool, const std::string& id, const std::string& type,
                        const std::string& title, const std::vector<std::string>& members) {
  auto made = co_await MakeConversation(pool, id, members);
  if (!made.ok()) co_return made;
  auto r = co_await pool.Query(
      "UPDATE conversations SET type = $2, title = nullif($3, '') WHERE id = $1::uuid", id, type,
      title);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

// Every named field of the message.created envelope the function writes, and the
// outbox row that holds it (the contract of 000005).
TEST_F(MessagingPgTest, SendBatchWritesTheNamedFieldsOfMessageCreated) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), carol = NewUuidV7();
    const std::string c1 = NewUuidV7();
    const std::string group = "group", title = "Ops \"night\"";
    const std::vector<std::string> members = {alice, bob, carol};
    CO_ASSERT_OK(co_await MakeTitled(pool, c1, group, title, members));
    PgMessageStore store(pool);
    std::string long_body;
    for (int i = 0; i < 150; ++i) long_body += "ก";  // 3 bytes each
    AppendRequest text = Text(c1, alice, long_body, "n1");
    AppendRequest image = Text(c1, bob, "", "n2");
    image.type = "image";
    image.attachment = json::object{{"url", "https://x.example/a.png"}};
    std::vector<AppendRequest> batch = {text, image};
    auto out = co_await store.Append(batch);
    CO_ASSERT_OK(out);
    CO_ASSERT_TRUE(out->size() == 2 && (*out)[1].status == AppendStatus::kOk);

    auto row = co_await OnlyBatchRow(pool);
    CO_ASSERT_OK(row);
    EXPECT_EQ(row->id, text.event_id);  // the row takes the first event's id
    EXPECT_EQ(row->stream, events::kMessagingStream);
    EXPECT_FALSE(row->published);
    // The relay reads id and type from the front without parsing (EnvelopeHead).
    EXPECT_TRUE(row->payload.starts_with("[{\"id\":\"" + text.event_id +
                                         "\",\"type\":\"message.created\",\"occurred_at\":\""))
        << row->payload;
    auto envs = co_await BatchEnvelopes(pool);
    CO_ASSERT_OK(envs);
    CO_ASSERT_TRUE(envs->size() == 2);
    const json::object& e = (*envs)[0];
    const std::string at(e.at("occurred_at").as_string());
    EXPECT_EQ(at.size(), 24u) << at;  // 2026-01-02T03:04:05.678Z
    EXPECT_TRUE(at[10] == 'T' && at[19] == '.' && at.back() == 'Z') << at;
    const json::object& d = e.at("data").as_object();
    EXPECT_EQ(d.at("message_type").as_string(), "text");
    EXPECT_EQ(d.at("preview").as_string(), long_body.substr(0, 140 * 3));  // code points
    EXPECT_EQ(d.at("conversation_type").as_string(), "group");
    EXPECT_EQ(d.at("conversation_title").as_string(), "Ops \"night\"");
    EXPECT_EQ(d.size(), 9u) << json::serialize(d);
    std::vector<std::string> others = {bob, carol};
    std::sort(others.begin(), others.end());
    ExpectEnvelope(e, text, 1, others);
    const json::object& d2 = (*envs)[1].at("data").as_object();
    EXPECT_EQ(d2.at("message_type").as_string(), "image");
    EXPECT_EQ(d2.at("preview").as_string(), "");
    EXPECT_EQ(d2.at("seq").as_int64(), 2);

    auto stored = co_await pool.Query(
        "SELECT attachment->>'url', reply_to_seq IS NULL, client_msg_id, body FROM messages "
        "WHERE conversation_id = $1::uuid AND seq = 2",
        c1);
    CO_ASSERT_OK(stored);
    CO_ASSERT_TRUE(stored->Rows() == 1);
    EXPECT_EQ(stored->GetString(0, 0), "https://x.example/a.png");
    EXPECT_TRUE(stored->GetBool(0, 1));
    EXPECT_EQ(stored->GetString(0, 2), "n2");
    EXPECT_EQ(stored->GetString(0, 3), "");
    // A reply names a message committed before its batch.
    AppendRequest reply = Text(c1, carol, "re", "n3");
    reply.reply_to_seq = 2;
    std::vector<AppendRequest> later = {reply};
    auto replied = co_await store.Append(later);
    CO_ASSERT_OK(replied);
    CO_ASSERT_TRUE(replied->size() == 1 && (*replied)[0].status == AppendStatus::kOk);
    EXPECT_EQ((*replied)[0].message.reply_to_seq, std::optional<std::int64_t>(2));
  });
}

// server_posted skips the membership check and stores `system` as meta; a
// direct chat with a block refuses; a reply past the end is refused; the
// envelope of an untitled direct chat says so.
TEST_F(MessagingPgTest, SendBatchStatusesAndServerPostedMessages) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), server = NewUuidV7();
    const std::string direct = NewUuidV7(), blocked = NewUuidV7();
    const std::string type = "direct", untitled;
    const std::vector<std::string> pair = {alice, bob}, with_server = {alice, server};
    CO_ASSERT_OK(co_await MakeTitled(pool, direct, type, untitled, pair));
    CO_ASSERT_OK(co_await MakeTitled(pool, blocked, type, untitled, with_server));
    auto block = co_await pool.Query(
        "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1::uuid, $2::uuid)", server, alice);
    CO_ASSERT_OK(block);
    PgMessageStore store(pool);
    AppendRequest posted = Text(direct, server, "paid", "");
    posted.client_msg_id.reset();
    posted.type = "system";
    posted.system = json::object{{"action", "payment_sent"}};
    posted.server_posted = true;
    AppendRequest to_blocker = Text(blocked, alice, "hi", "b1");
    AppendRequest bad_reply = Text(direct, alice, "re", "b2");
    bad_reply.reply_to_seq = 99;
    AppendRequest nowhere = Text(NewUuidV7(), alice, "lost", "b3");
    std::vector<AppendRequest> batch = {posted, to_blocker, bad_reply, nowhere};
    auto out = co_await store.Append(batch);
    CO_ASSERT_OK(out);
    CO_ASSERT_TRUE(out->size() == 4);
    EXPECT_EQ((*out)[0].status, AppendStatus::kOk);
    EXPECT_EQ((*out)[1].status, AppendStatus::kBlocked);
    EXPECT_EQ((*out)[2].status, AppendStatus::kBadReply);
    EXPECT_EQ((*out)[3].status, AppendStatus::kNotFound);
    std::vector<std::string> both = {alice, bob};
    std::sort(both.begin(), both.end());
    EXPECT_EQ((*out)[0].recipients, both);

    auto meta = co_await pool.Query(
        "SELECT meta->>'action', type FROM messages WHERE conversation_id = $1::uuid", direct);
    CO_ASSERT_OK(meta);
    CO_ASSERT_TRUE(meta->Rows() == 1);
    EXPECT_EQ(meta->GetString(0, 0), "payment_sent");
    EXPECT_EQ(meta->GetString(0, 1), "system");
    auto envs = co_await BatchEnvelopes(pool);
    CO_ASSERT_OK(envs);
    CO_ASSERT_TRUE(envs->size() == 1);  // only the ok message has an event
    const json::object& d = (*envs)[0].at("data").as_object();
    EXPECT_EQ(d.at("conversation_type").as_string(), "direct");
    EXPECT_TRUE(d.at("conversation_title").is_null());
    ExpectEnvelope((*envs)[0], posted, 1, both);  // the server is no member: everyone
  });
}

// A caller of the one-letter keys from before 000005 is refused, not answered
// not_found for every message.
TEST_F(MessagingPgTest, SendBatchRefusesTheOldInputKeys) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string old_input =
        R"([{"i":0,"id":")" + NewUuidV7() + R"(","c":")" + NewUuidV7() + R"(","t":"text"}])";
    auto r = co_await pool.Query("SELECT * FROM msg_send_batch($1::jsonb)", old_input);
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_EQ(r.error().sqlstate, "22023") << r.error().message;
    auto none = co_await pool.Query("SELECT count(*) FROM msg_send_batch('[]')");
    CO_ASSERT_OK(none);
    EXPECT_EQ(none->GetInt64(0, 0), 0);
  });
}

// The time helpers every message read and event uses.
// Sequential and index scans of conversations so far in the current transaction.
Task<Result<std::pair<std::int64_t, std::int64_t>>> ConversationScans(pg::Connection& c) {
  auto r = co_await c.Query(
      "SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
      "WHERE relname = 'conversations'");
  if (!r) co_return std::move(r).error();
  if (r->Rows() != 1) co_return Error::Internal("no statistics for conversations");
  co_return std::make_pair(r->GetInt64(0, 0), r->GetInt64(0, 1));
}

// msg_user_conversations (000008) returns the user's memberships with their
// conversations, reading conversations by key: no sequential scan even where the
// planner would choose one for the plain join (here: a small table, as at 10 % of
// bench/scale_bench.sh's year for a user in 2,000 conversations).
TEST_F(MessagingPgTest, UserConversationsReadsConversationsByKeyOnly) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string user = NewUuidV7();
    std::vector<std::string> mine;
    for (int i = 0; i < 120; ++i) {
      const std::string id = NewUuidV7();
      const bool member = i % 3 == 0;
      std::vector<std::string> members;  // (no braced list in a co_await: GCC 12)
      members.push_back(member ? user : NewUuidV7());
      members.push_back(NewUuidV7());
      CO_ASSERT_OK(co_await MakeConversation(pool, id, members));
      if (member) mine.push_back(id);
    }
    CO_ASSERT_OK(
        co_await pool.Query("UPDATE members SET last_read_seq = 7 WHERE conversation_id = $1::uuid "
                            "AND user_id = $2::uuid",
                            mine.front(), user));
    CO_ASSERT_OK(co_await pool.Query("ANALYZE conversations"));
    CO_ASSERT_OK(co_await pool.Query("ANALYZE members"));
    // The function first: PostgreSQL 15's per-transaction counters also hold what
    // the connection did before and has not reported yet.
    auto fn = co_await pool.Transaction(
        pg::IsolationLevel::kReadCommitted,
        [&](pg::Connection& c) -> Task<Result<std::pair<std::int64_t, std::int64_t>>> {
          auto r = co_await c.Query(
              "SELECT id::text, last_read_seq FROM msg_user_conversations($1::uuid) ORDER BY id",
              user);
          if (!r) co_return std::move(r).error();
          std::vector<std::string> got;
          std::int64_t read_sum = 0;
          for (int i = 0; i < r->Rows(); ++i) {
            got.emplace_back(r->GetString(i, 0));
            read_sum += r->GetInt64(i, 1);
          }
          std::vector<std::string> want = mine;
          std::sort(want.begin(), want.end());
          EXPECT_EQ(got, want);
          EXPECT_EQ(read_sum, 7);
          co_return co_await ConversationScans(c);
        });
    CO_ASSERT_OK(fn);
    EXPECT_EQ(fn->first, 0) << "msg_user_conversations scanned conversations sequentially";
    EXPECT_GE(fn->second, 1);
    auto plain = co_await pool.Transaction(
        pg::IsolationLevel::kReadCommitted,
        [&](pg::Connection& c) -> Task<Result<std::pair<std::int64_t, std::int64_t>>> {
          auto r = co_await c.Query(
              "SELECT c.id FROM members me JOIN conversations c ON c.id = me.conversation_id "
              "WHERE me.user_id = $1::uuid",
              user);
          if (!r) co_return std::move(r).error();
          co_return co_await ConversationScans(c);
        });
    CO_ASSERT_OK(plain);
    EXPECT_GT(plain->first, 0) << "the plain join no longer scans: this test shows nothing";
  });
}

TEST_F(MessagingPgTest, TimeHelpersFormatMillisecondsAndRfc3339Utc) {
  Run([&](pg::Pool& pool) -> Task<void> {
    auto r = co_await pool.Query(
        "SELECT tchat_ms('2026-01-02T03:04:05.678+02'::timestamptz), "
        "tchat_rfc3339('2026-01-02T03:04:05.678+02'::timestamptz), "
        "tchat_rfc3339('1999-12-31T23:59:59.9999Z'::timestamptz)");  // truncated, not rounded
    CO_ASSERT_OK(r);
    EXPECT_EQ(r->GetInt64(0, 0), 1767315845678);
    EXPECT_EQ(r->GetString(0, 1), "2026-01-02T01:04:05.678Z");
    EXPECT_EQ(r->GetString(0, 2), "1999-12-31T23:59:59.999Z");
  });
}

// The messages of the account-deletion test: gone's text (with search terms), photo
// (an upload of gone's) and payment with a note; bob's text with reactions of both.
// (Built outside the coroutine: GCC 12 cannot keep an initializer list in its frame.)
struct ForgetRow {
  std::string seq, sender, type, body, extra;
};
std::vector<ForgetRow> ForgetRows(const std::string& gone, const std::string& bob,
                                  const std::string& media) {
  std::vector<ForgetRow> rows;
  rows.push_back({"1", gone, "text", "private words", R"({"t":["private","zzgoneonly"]})"});
  rows.push_back({"2", gone, "image", "caption", R"({"a":{"id":")" + media + R"("}})"});
  rows.push_back({"3", gone, "payment", "for lunch",
                  R"({"p":{"kind":"transfer","amount":100,"note":"for lunch"}})"});
  rows.push_back({"4", bob, "text", "private reply",
                  R"({"t":["private","reply"],"r":{"x":[")" + gone + R"(",")" + bob +
                      R"("],"y":[")" + gone + R"("]}})"});
  return rows;
}

// Account deletion (msg_forget_user, migration 000009): the deleted user's own
// messages become tombstones, payment messages lose their note, reactions and
// search terms go, the user leaves (ownership passes on), uploads no message
// carries are deleted; a repeat of the event changes nothing.
TEST_F(MessagingPgTest, ForgettingADeletedUserAnonymisesOnceAndKeepsTheOthers) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string gone = NewUuidV7(), bob = NewUuidV7(), cid = NewUuidV7();
    const std::string media = NewUuidV7(), event = NewUuidV7();
    const std::vector<std::string> members = {gone, bob};
    CO_ASSERT_OK(co_await MakeConversation(pool, cid, members));
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO media (id, owner_id, kind, content_type, bytes, sha256) VALUES "
        "($1::uuid, $2::uuid, 'image', 'image/png', 3, repeat('a', 64))",
        media, gone));
    const std::vector<ForgetRow> rows_in = ForgetRows(gone, bob, media);
    for (const ForgetRow& row : rows_in) {
      const std::string id = NewUuidV7();
      auto r = co_await pool.Query(
          "INSERT INTO messages (conversation_id, seq, id, sender_id, type, body, attachment, "
          "payment, reactions, search_terms, created_at, change_xid) SELECT $1::uuid, $2::int, "
          "$3::uuid, $4::uuid, $5, $6, x->'a', x->'p', coalesce(x->'r', '{}'), "
          "ARRAY(SELECT jsonb_array_elements_text(coalesce(x->'t', '[]'))), now(), "
          "pg_current_xact_id() FROM (SELECT $7::jsonb AS x) e",
          cid, row.seq, id, row.sender, row.type, row.body, row.extra);
      CO_ASSERT_OK(r);
    }
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO search_vocab (term) VALUES ('private'), ('reply'), ('zzgoneonly') "
        "ON CONFLICT DO NOTHING"));

    ConversationStore store(pool);
    auto done = co_await store.ForgetUser(gone, event);
    CO_ASSERT_OK(done);
    EXPECT_FALSE(done->already_done);
    EXPECT_EQ(done->conversations, 1);
    EXPECT_EQ(done->messages, 3);
    EXPECT_EQ(done->media, 1);

    auto rows = co_await pool.Query(
        "SELECT seq, deleted, body, coalesce(attachment::text, ''), coalesce(payment::text, ''), "
        "reactions::text, coalesce(array_to_string(search_terms, ','), '') FROM messages "
        "WHERE conversation_id = $1::uuid ORDER BY seq",
        cid);
    CO_ASSERT_OK(rows);
    CO_ASSERT_TRUE(rows->Rows() == 4);
    EXPECT_TRUE(rows->GetBool(0, 1));  // text: a tombstone
    EXPECT_EQ(rows->GetString(0, 2), "");
    EXPECT_EQ(rows->GetString(0, 6), "");
    EXPECT_TRUE(rows->GetBool(1, 1));  // image: a tombstone without the attachment
    EXPECT_EQ(rows->GetString(1, 3), "");
    EXPECT_FALSE(rows->GetBool(2, 1));  // payment: kept, without the note
    EXPECT_EQ(rows->GetString(2, 2), "");
    EXPECT_EQ(rows->GetString(2, 4).find("lunch"), std::string::npos) << rows->GetString(2, 4);
    EXPECT_NE(rows->GetString(2, 4).find("100"), std::string::npos);
    EXPECT_EQ(rows->GetString(3, 2), "private reply");               // bob's message untouched...
    EXPECT_EQ(rows->GetString(3, 5), "{\"x\": [\"" + bob + "\"]}");  // ...but gone's reactions
    EXPECT_EQ(rows->GetString(3, 6), "private,reply");

    auto facts = co_await pool.Query(
        "SELECT (SELECT count(*) FROM members WHERE user_id = $1::uuid), "
        "(SELECT role FROM members WHERE user_id = $2::uuid), "
        "(SELECT count(*) FROM member_departures WHERE user_id = $1::uuid), "
        "(SELECT count(*) FROM media WHERE owner_id = $1::uuid), "
        "(SELECT string_agg(term, ',' ORDER BY term) FROM search_vocab)",
        gone, bob);
    CO_ASSERT_OK(facts);
    EXPECT_EQ(facts->GetInt64(0, 0), 0);
    EXPECT_EQ(facts->GetString(0, 1), "owner");
    EXPECT_EQ(facts->GetInt64(0, 2), 1);
    EXPECT_EQ(facts->GetInt64(0, 3), 0);
    EXPECT_EQ(facts->GetString(0, 4), "private,reply");  // zzgoneonly is gone

    auto again = co_await store.ForgetUser(gone, event);
    CO_ASSERT_OK(again);
    EXPECT_TRUE(again->already_done);
    EXPECT_EQ(again->messages, 0);
  });
}

}  // namespace
}  // namespace tchat::messaging
