// Revocation announcements against live PostgreSQL (issue 17): every way auth
// ends sessions early writes its auth.session(s).revoked to the outbox in the
// transaction (or pipelined batch) that ends them, so an event exists exactly
// when the revocation committed. AuthStore on a scratch database migrated with
// every migrations/postgres/tchat_auth/*.up.sql; TCHAT_TEST_PG_URL (a superuser
// libpq URI) is required.
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "store.hpp"
#include "tokens.hpp"

namespace tchat::auth {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers
using namespace std::chrono_literals;

constexpr int kCap = 2;  // sessions per user in these tests
// Named: GCC 12 miscompiles string literals as arguments of a co_await expression.
constexpr std::string_view kNone = "";
constexpr std::string_view kHash1 = "hash-1";
constexpr std::string_view kHash2 = "hash-2";
constexpr std::string_view kSet = "password_set";
constexpr std::string_view kRemoved = "password_removed";

std::string FreshPhone() {
  static std::atomic<int> n{0};
  const int suffix = (static_cast<int>(::getpid()) * 131 + n++ * 7919) % 10'000'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "+6682%07d", suffix);
  return buf;
}

NewSession Session(std::string id = NewUuidV7()) {
  NewSession s;
  s.id = std::move(id);
  s.refresh_hash = HashRefreshToken(NewRefreshToken());
  s.method = "otp";
  s.platform = "android";
  return s;
}

// One outbox row: its id, type and the envelope's fields.
struct Row {
  std::string id;
  std::string type;
  json::object envelope;
  const json::object& data() const { return envelope.at("data").as_object(); }
  std::string Data(const char* key) const {
    const json::value* v = data().if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
};

// The outbox rows about `user_id` of type `type`, oldest first.
Task<std::vector<Row>> Rows(pg::Pool& pool, const std::string& user_id, std::string_view type) {
  std::vector<Row> out;
  auto r = co_await pool.Query(
      "SELECT id::text, type, payload::text FROM outbox WHERE type = $1 "
      "AND payload->'data'->>'user_id' = $2 ORDER BY created_at, id",
      type, user_id);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r) co_return out;
  for (int i = 0; i < r->Rows(); ++i) {
    auto env = ParseJsonObject(r->GetString(i, 2));
    EXPECT_TRUE(env.ok());
    if (!env) continue;
    out.push_back(Row{std::string(r->GetString(i, 0)), std::string(r->GetString(i, 1)), *env});
  }
  co_return out;
}

// The auth.password.changed notice of a change.
events::Event Notice(const std::string& user_id, std::string_view change) {
  return events::Event::Make(std::string(events::kPasswordChanged),
                             json::object{{"user_id", user_id}, {"change", change}});
}

Task<bool> Active(pg::Pool& pool, const std::string& session_id) {
  auto r = co_await pool.Query("SELECT revoked_at IS NULL FROM sessions WHERE id = $1::uuid",
                               session_id);
  co_return r.ok() && r->Rows() == 1 && r->GetBool(0, 0);
}

class RevocationPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_auth_revocation_pgtest", TCHAT_SOURCE_DIR, "tchat_auth", 2);
  }
  void TearDown() override { db_.Drop(); }

  void Run(const std::function<Task<void>(pg::Pool&, AuthStore&)>& body) {
    RunWithPool(db_.Pool("revocation_pgtest", 4), [&](pg::Pool& pool) -> Task<void> {
      AuthStore store(pool, 24h, kCap);
      co_await body(pool, store);
    });
  }

  ScratchDatabase db_;
  const events::OutboxWriter outbox_{std::string(events::kAuthStream)};
};

TEST_F(RevocationPgTest, SessionsEvictedByTheCapAreAnnouncedWithTheSignIn) {
  Run([&](pg::Pool& pool, AuthStore& store) -> Task<void> {
    const std::string phone = FreshPhone();
    const NewSession one = Session(), two = Session(), three = Session(), four = Session();
    auto a = co_await store.SignInByPhone(phone, "TH", "th", one);
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(co_await store.SignInByPhone(phone, "TH", "th", two));
    const std::string user = a->user.id;
    EXPECT_TRUE((co_await Rows(pool, user, events::kSessionRevoked)).empty());

    auto c = co_await store.SignInByPhone(phone, "TH", "th", three);  // the cap ends `one`
    CO_ASSERT_OK(c);
    EXPECT_EQ(c->evicted, 1);
    EXPECT_FALSE(co_await Active(pool, one.id));
    auto rows = co_await Rows(pool, user, events::kSessionRevoked);
    CO_ASSERT_TRUE(rows.size() == 1u);
    EXPECT_EQ(rows[0].Data("session_id"), one.id);
    EXPECT_EQ(rows[0].Data("reason"), "evicted");
    // The envelope of every outbox event: its id is the row's, a UUIDv7.
    EXPECT_EQ(rows[0].envelope.at("id").as_string(), rows[0].id);
    EXPECT_EQ(rows[0].envelope.at("type").as_string(), events::kSessionRevoked);
    EXPECT_EQ(rows[0].id.size(), 36u);
    EXPECT_EQ(rows[0].id[14], '7') << rows[0].id;
    EXPECT_EQ(std::string(rows[0].envelope.at("occurred_at").as_string()).size(), 24u);

    // A password sign-in applies the cap the same way.
    auto d = co_await store.SignInUser(a->user, four, kNone, kNone);
    CO_ASSERT_OK(d);
    EXPECT_EQ(d->evicted, 1);
    rows = co_await Rows(pool, user, events::kSessionRevoked);
    CO_ASSERT_TRUE(rows.size() == 2u);
    EXPECT_EQ(rows[1].Data("session_id"), two.id);
    EXPECT_NE(rows[1].id, rows[0].id);

    // A sign-in batch that fails (a session id that exists) evicts and announces nothing.
    auto dup = co_await store.SignInByPhone(phone, "TH", "th", Session(three.id));
    EXPECT_FALSE(dup.ok());
    EXPECT_TRUE(co_await Active(pool, three.id));
    EXPECT_EQ((co_await Rows(pool, user, events::kSessionRevoked)).size(), 2u);
  });
}

TEST_F(RevocationPgTest, APasswordChangeAnnouncesTheEndedSessionsInItsTransaction) {
  Run([&](pg::Pool& pool, AuthStore& store) -> Task<void> {
    const std::string phone = FreshPhone();
    const NewSession one = Session(), two = Session();
    auto a = co_await store.SignInByPhone(phone, "TH", "th", one);
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(co_await store.SignInByPhone(phone, "TH", "th", two));
    const std::string user = a->user.id;
    const events::Event notice = Notice(user, "set");

    // Rolled back: the notice cannot be written (its id is taken), so neither the
    // password, nor the revocation, nor its announcement is kept.
    CO_ASSERT_OK(co_await store.Execute(outbox_.Insert(notice)));
    auto failed = co_await store.SetPassword(user, kNone, kHash1, two.id, kSet, outbox_, notice);
    EXPECT_FALSE(failed.ok());
    EXPECT_TRUE((co_await Rows(pool, user, events::kSessionsRevoked)).empty());
    EXPECT_TRUE(co_await Active(pool, one.id));
    auto hash = co_await store.GetPasswordHash(user);
    CO_ASSERT_OK(hash);
    EXPECT_EQ(*hash, "");

    // Committed: exactly one announcement, naming the session it ended.
    const events::Event fresh = Notice(user, "set");
    auto set = co_await store.SetPassword(user, kNone, kHash1, two.id, kSet, outbox_, fresh);
    CO_ASSERT_OK(set);
    EXPECT_TRUE(*set);
    EXPECT_FALSE(co_await Active(pool, one.id));
    EXPECT_TRUE(co_await Active(pool, two.id));
    auto rows = co_await Rows(pool, user, events::kSessionsRevoked);
    CO_ASSERT_TRUE(rows.size() == 1u);
    EXPECT_EQ(rows[0].Data("except_session_id"), two.id);
    EXPECT_EQ(rows[0].Data("reason"), "password_set");
    const json::array& ids = rows[0].data().at("session_ids").as_array();
    CO_ASSERT_TRUE(ids.size() == 1u);
    EXPECT_EQ(ids[0].as_string(), one.id);
    EXPECT_EQ((co_await Rows(pool, user, events::kPasswordChanged)).size(), 2u);  // + the taken one

    // A stale expected hash writes nothing at all.
    const events::Event unused = Notice(user, "set");
    auto stale = co_await store.SetPassword(user, kNone, kHash2, two.id, kSet, outbox_, unused);
    CO_ASSERT_OK(stale);
    EXPECT_FALSE(*stale);
    EXPECT_EQ((co_await Rows(pool, user, events::kSessionsRevoked)).size(), 1u);

    // Removal (an empty hash) clears the password and is announced the same way.
    const events::Event gone = Notice(user, "removed");
    auto removed = co_await store.SetPassword(user, kHash1, kNone, two.id, kRemoved, outbox_, gone);
    CO_ASSERT_OK(removed);
    EXPECT_TRUE(*removed);
    hash = co_await store.GetPasswordHash(user);
    CO_ASSERT_OK(hash);
    EXPECT_EQ(*hash, "");
    rows = co_await Rows(pool, user, events::kSessionsRevoked);
    CO_ASSERT_TRUE(rows.size() == 2u);
    EXPECT_EQ(rows[1].Data("reason"), "password_removed");
    EXPECT_TRUE(rows[1].data().at("session_ids").as_array().empty());
  });
}

TEST_F(RevocationPgTest, AReusedRefreshTokenIsAnnouncedWithItsRevocation) {
  Run([&](pg::Pool& pool, AuthStore& store) -> Task<void> {
    const std::string token = NewRefreshToken();
    NewSession s = Session();
    s.refresh_hash = HashRefreshToken(token);
    auto a = co_await store.SignInByPhone(FreshPhone(), "TH", "th", s);
    CO_ASSERT_OK(a);
    auto rotated = co_await store.Refresh(HashRefreshToken(token),
                                          HashRefreshToken(NewRefreshToken()), "10.0.0.1");
    CO_ASSERT_OK(rotated);
    EXPECT_EQ(rotated->status, RefreshStatus::kRotated);
    auto reused = co_await store.Refresh(HashRefreshToken(token),
                                         HashRefreshToken(NewRefreshToken()), "10.0.0.1");
    CO_ASSERT_OK(reused);
    EXPECT_EQ(reused->status, RefreshStatus::kReused);
    EXPECT_EQ(reused->user.id, a->user.id);
    auto rows = co_await Rows(pool, a->user.id, events::kSessionRevoked);
    CO_ASSERT_TRUE(rows.size() == 1u);
    EXPECT_EQ(rows[0].Data("session_id"), s.id);
    EXPECT_EQ(rows[0].Data("reason"), "refresh_token_reuse");
    // Once more: the session is already revoked, nothing new is announced.
    auto again = co_await store.Refresh(HashRefreshToken(token),
                                        HashRefreshToken(NewRefreshToken()), "10.0.0.1");
    CO_ASSERT_OK(again);
    EXPECT_EQ(again->status, RefreshStatus::kRevoked);
    EXPECT_EQ((co_await Rows(pool, a->user.id, events::kSessionRevoked)).size(), 1u);
  });
}

// DELETE /v1/users/me's transaction: the row, its sessions and refresh tokens go;
// auth.sessions.revoked (account_deleted, the active sessions) and auth.user.deleted
// are written with it, without the phone number; the number signs up again as a new
// user; deleting again finds nothing and writes nothing.
TEST_F(RevocationPgTest, DeletingAUserAnnouncesItWithoutPersonalData) {
  Run([&](pg::Pool& pool, AuthStore& store) -> Task<void> {
    const std::string phone = FreshPhone();
    const NewSession one = Session(), two = Session();
    auto a = co_await store.SignInByPhone(phone, "TH", "th", one);
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(co_await store.SignInByPhone(phone, "TH", "th", two));
    const std::string user = a->user.id;

    auto deleted = co_await store.DeleteUser(user, outbox_);
    CO_ASSERT_OK(deleted);
    EXPECT_TRUE(*deleted);
    auto gone = co_await store.GetUser(user);
    CO_ASSERT_OK(gone);
    EXPECT_FALSE(gone->has_value());
    auto left = co_await pool.Query(
        "SELECT (SELECT count(*) FROM sessions WHERE user_id = $1::uuid), "
        "(SELECT count(*) FROM refresh_tokens WHERE user_id = $1::uuid)",
        user);
    CO_ASSERT_OK(left);
    EXPECT_EQ(left->GetInt64(0, 0), 0);
    EXPECT_EQ(left->GetInt64(0, 1), 0);

    auto revoked = co_await Rows(pool, user, events::kSessionsRevoked);
    CO_ASSERT_TRUE(revoked.size() == 1u);
    EXPECT_EQ(revoked[0].Data("reason"), "account_deleted");
    EXPECT_EQ(revoked[0].Data("except_session_id"), "");
    const json::array& ids = revoked[0].data().at("session_ids").as_array();
    EXPECT_EQ(ids.size(), 2u);
    auto announced = co_await Rows(pool, user, events::kUserDeleted);
    CO_ASSERT_TRUE(announced.size() == 1u);
    EXPECT_EQ(announced[0].data().size(), 2u);  // user_id, deleted_at: nothing else
    EXPECT_FALSE(announced[0].Data("deleted_at").empty());
    const std::string pattern = "%" + phone.substr(1) + "%";
    auto text =
        co_await pool.Query("SELECT count(*) FROM outbox WHERE payload::text LIKE $1", pattern);
    CO_ASSERT_OK(text);
    EXPECT_EQ(text->GetInt64(0, 0), 0) << "the phone number is in an event";

    auto again = co_await store.DeleteUser(user, outbox_);
    CO_ASSERT_OK(again);
    EXPECT_FALSE(*again);
    EXPECT_EQ((co_await Rows(pool, user, events::kUserDeleted)).size(), 1u);

    auto fresh = co_await store.SignInByPhone(phone, "TH", "th", Session());
    CO_ASSERT_OK(fresh);
    EXPECT_TRUE(fresh->new_user);
    EXPECT_NE(fresh->user.id, user);
  });
}

}  // namespace
}  // namespace tchat::auth
