// The notification store layer against live PostgreSQL: the SQL of event
// processing (event_store) and of delivery (delivery_store), each function on a
// scratch database migrated with every migrations/postgres/tchat_notification/
// *.up.sql. TCHAT_TEST_PG_URL (a superuser libpq URI) is required.
#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "delivery_store.hpp"
#include "event_store.hpp"
#include "store.hpp"

namespace tchat::notification {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

class NotificationPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_notification_pgtest", TCHAT_SOURCE_DIR, "tchat_notification", 3);
  }
  void TearDown() override { db_.Drop(); }

  void Run(const std::function<Task<void>(pg::Pool&)>& body) {
    RunWithPool(db_.Pool("notification_pgtest"), body);
  }

  ScratchDatabase db_;
};

// One integer from `sql` (no parameters), or -1 on error.
Task<std::int64_t> Scalar(pg::Pool& pool, std::string_view sql) {
  auto r = co_await pool.Query(sql);
  if (!r || r->Rows() != 1 || r->IsNull(0, 0)) co_return -1;
  co_return r->GetInt64(0, 0);
}

TEST_F(NotificationPgTest, EventsAreMarkedProcessedOncePerConsumerAndPruned) {
  Run([&](pg::Pool& pool) -> Task<void> {
    auto lease = co_await pool.Acquire();
    CO_ASSERT_OK(lease);
    pg::Connection& c = **lease;
    const std::string group = "notification", other_group = "another-group";
    const std::vector<std::string> batch_1 = {"e1", "e2"}, batch_2 = {"e2", "e3"}, batch_3 = {"e1"};
    auto first = co_await MarkEventsProcessed(c, group, batch_1);
    CO_ASSERT_OK(first);
    EXPECT_EQ(*first, (std::unordered_set<std::string>{"e1", "e2"}));
    auto again = co_await MarkEventsProcessed(c, group, batch_2);
    CO_ASSERT_OK(again);
    EXPECT_EQ(*again, (std::unordered_set<std::string>{"e3"}));
    auto other = co_await MarkEventsProcessed(c, other_group, batch_3);
    CO_ASSERT_OK(other);
    EXPECT_EQ(other->size(), 1u);

    auto none = co_await PruneProcessedEvents(pool, 3600);
    CO_ASSERT_OK(none);
    EXPECT_EQ(*none, 0);
    CO_ASSERT_OK(
        co_await pool.Query("UPDATE processed_events SET processed_at = now() - "
                            "interval '2 hours' WHERE event_id IN ('e1', 'e2')"));
    auto pruned = co_await PruneProcessedEvents(pool, 3600);
    CO_ASSERT_OK(pruned);
    EXPECT_EQ(*pruned, 3);  // e1 twice (two consumers), e2
    EXPECT_EQ(co_await Scalar(pool, "SELECT count(*) FROM processed_events"), 1);
  });
}

TEST_F(NotificationPgTest, AudienceHasPreferencesMutesInForceAndDevices) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string u1 = NewUuidV7(), u2 = NewUuidV7(), d1 = NewUuidV7(), d2 = NewUuidV7(),
                      d3 = NewUuidV7();
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO notification_preferences (user_id, push_enabled, quiet_start, quiet_end, "
        "locale, timezone) VALUES ($1::uuid, false, 60, 120, 'th', 'Asia/Jakarta')",
        u1));
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO muted_conversations (user_id, conversation_id, until) VALUES "
        "($1::uuid, 'c1', NULL), ($1::uuid, 'c2', now() - interval '1 minute'), "
        "($1::uuid, 'c3', NULL)",
        u1));
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO devices (id, user_id, platform, token, created_at) VALUES "
        "($1::uuid, $4::uuid, 'ios', 't1', now() - interval '1 hour'), "
        "($2::uuid, $4::uuid, 'android', 't2', now()), ($3::uuid, $5::uuid, 'web', 't3', now())",
        d1, d2, d3, u1, u2));
    auto lease = co_await pool.Acquire();
    CO_ASSERT_OK(lease);
    Audience a;
    const std::vector<std::string> users = {u1, u2}, conversations = {"c1", "c2"};
    CO_ASSERT_OK(co_await LoadAudience(**lease, users, conversations, a));
    const UserSettings& s = a.users[u1].view.settings;
    EXPECT_FALSE(s.push_enabled);
    EXPECT_TRUE(s.show_previews);
    EXPECT_EQ(s.locale, Locale::kTh);
    CO_ASSERT_TRUE(s.quiet.has_value());
    EXPECT_EQ(s.quiet->start, 60);
    EXPECT_EQ(s.quiet->end, 120);
    EXPECT_EQ(s.quiet->timezone, "Asia/Jakarta");  // the user's zone when none is set
    EXPECT_EQ(a.mutes, (std::set<std::pair<std::string, std::string>>{{u1, "c1"}}));
    CO_ASSERT_TRUE(a.users[u1].devices.size() == 2);
    EXPECT_EQ(a.users[u1].devices[0].id, d1);  // oldest first
    EXPECT_EQ(a.users[u1].devices[1].platform, "android");
    EXPECT_TRUE(a.users[u1].view.has_devices);
    CO_ASSERT_TRUE(a.users[u2].devices.size() == 1);
    EXPECT_EQ(a.users[u2].devices[0].token, "t3");
    EXPECT_TRUE(a.users[u2].view.settings.push_enabled);  // defaults without a row
  });
}

TEST_F(NotificationPgTest, BatchWritesInboxDeliveriesWaitingPushesAndPoison) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string u1 = NewUuidV7(), dev = NewUuidV7();
    InboxColumns inbox;
    inbox.id.Add(NewUuidV7());
    inbox.user.Add(u1);
    inbox.kind.Add("payment");
    inbox.title.Add("Paid");
    inbox.body.Add("You got 5 THB");
    inbox.data.Add(R"({"transfer_id":"t1"})");
    inbox.event.Add("ev1");
    inbox.at.Add("2026-01-02T03:04:05.678Z");
    SendingColumns sending;
    sending.id.Add(NewUuidV7());
    sending.channel.Add("push");
    sending.user.Add(u1);
    sending.collapse_key.Add("");
    sending.payload.Add(R"({"kind":"payment"})");
    sending.device_ids.Add("{" + dev + "}");
    sending.event.Add("ev1");
    sending.id.Add(NewUuidV7());
    sending.channel.Add("sms");
    sending.user.Add("");
    sending.collapse_key.Add("");
    sending.payload.Add(R"({"phone":"+66812345678"})");
    sending.device_ids.AddNull();
    sending.event.Add("ev2");
    // Two batches wait on one (user, key): counts add up, the newest seq stays.
    const auto waiting = [&](std::string payload, std::string count, std::string event) {
      WaitingColumns w;
      w.id.Add(NewUuidV7());
      w.user.Add(u1);
      w.collapse_key.Add("conv:c1");
      w.payload.Add(payload);
      w.count.Add(count);
      w.event.Add(event);
      return UpsertWaitingDeliveries(w, 60000);
    };
    PoisonColumns poison;
    poison.entry_id.Add("1-0");
    poison.event_id.Add("");
    poison.type.Add("");
    poison.reason.Add("not JSON");
    poison.raw.Add("{");
    std::vector<pg::Statement> st;
    st.push_back(InsertInboxEntries(inbox));
    st.push_back(InsertSendingDeliveries(sending, 30000));
    st.push_back(waiting(R"({"seq":5,"event_at":10})", "2", "ev3"));
    st.push_back(waiting(R"({"seq":4,"event_at":20})", "1", "ev4"));
    const std::string stream(events::kAuthStream);
    st.push_back(InsertPoisonEvents(stream, poison));
    CO_ASSERT_OK(co_await pool.Pipeline(std::move(st)));
    CO_ASSERT_OK(co_await RecordPoisonEvents(pool, stream, poison));  // once only

    auto n = co_await pool.Query(
        "SELECT kind, title, data->>'transfer_id', event_id, rfc3339(created_at) "
        "FROM notifications");
    CO_ASSERT_OK(n);
    CO_ASSERT_TRUE(n->Rows() == 1);
    EXPECT_EQ(n->GetString(0, 0), "payment");
    EXPECT_EQ(n->GetString(0, 2), "t1");
    EXPECT_EQ(n->GetString(0, 4), "2026-01-02T03:04:05.678Z");
    EXPECT_EQ(co_await Scalar(pool,
                              "SELECT count(*) FROM delivery_queue WHERE state = 'sending' AND "
                              "due_at > now() + interval '20 seconds' AND ((channel = 'push' "
                              "AND device_ids IS NOT NULL AND user_id IS NOT NULL) OR (channel = "
                              "'sms' AND device_ids IS NULL AND user_id IS NULL)) "
                              "AND collapse_key IS NULL"),
              2);
    auto w = co_await pool.Query(
        "SELECT msg_count, payload->>'seq', event_id FROM delivery_queue WHERE state = 'waiting'");
    CO_ASSERT_OK(w);
    CO_ASSERT_TRUE(w->Rows() == 1);
    EXPECT_EQ(w->GetInt64(0, 0), 3);
    EXPECT_EQ(w->GetString(0, 1), "5");
    EXPECT_EQ(w->GetString(0, 2), "ev4");
    auto p = co_await pool.Query(
        "SELECT count(*) FROM poison_events WHERE event_id IS NULL AND event_type IS NULL AND "
        "stream = $1",
        stream);
    CO_ASSERT_OK(p);
    EXPECT_EQ(p->GetInt64(0, 0), 1);
  });
}

// New message entries, the lock of the unread one, a merge, and an insert that
// meets an entry created meanwhile.
TEST_F(NotificationPgTest, MessageEntriesAreLockedMergedAndInsertedOnce) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string u1 = NewUuidV7();
    const auto create = [&](const std::string& title) {
      MessageEntryColumns r;
      r.i_id.Add(NewUuidV7());
      r.i_user.Add(u1);
      r.i_title.Add(title);
      r.i_body.Add("hi");
      r.i_data.Add(R"({"conversation_id":"c1","count":2})");
      r.i_render.Add(R"({"seq":2})");
      r.i_event.Add("ev1");
      r.i_at.Add("2026-01-02T03:04:05.678Z");
      return r;
    };
    auto lease = co_await pool.Acquire();
    CO_ASSERT_OK(lease);
    pg::Connection& c = **lease;
    const MessageEntryColumns first = create("first"), second = create("second");
    auto wrote = co_await WriteMessageEntries(c, first);
    CO_ASSERT_OK(wrote);
    EXPECT_EQ(*wrote, (std::set<MessageInboxKey>{{u1, "c1"}}));
    auto again = co_await WriteMessageEntries(c, second);
    CO_ASSERT_OK(again);
    EXPECT_TRUE(again->empty());  // the unread entry exists: nothing inserted

    const std::vector<MessageInboxKey> keys = {{u1, "c1"}, {u1, "c2"}};
    auto locked = co_await LockMessageEntries(c, keys);
    CO_ASSERT_OK(locked);
    CO_ASSERT_TRUE(locked->size() == 1 && locked->contains({u1, "c1"}));
    const LockedMessageEntry& e = locked->at({u1, "c1"});
    EXPECT_EQ(e.count, 2);
    EXPECT_EQ(e.render.at("seq").as_int64(), 2);

    MessageEntryColumns merge;
    merge.u_id.Add(e.id);
    merge.u_title.Add("merged");
    merge.u_body.Add("3 messages");
    merge.u_data.Add(R"({"conversation_id":"c1","count":3})");
    merge.u_render.Add(R"({"seq":3})");
    merge.u_event.Add("ev2");
    merge.u_at.Add("2026-01-01T00:00:00.000Z");  // older: created_at stays
    auto merged = co_await WriteMessageEntries(c, merge);
    CO_ASSERT_OK(merged);
    EXPECT_TRUE(merged->empty());
    auto row = co_await pool.Query(
        "SELECT title, data->>'count', render->>'seq', event_id, rfc3339(created_at) "
        "FROM notifications");
    CO_ASSERT_OK(row);
    CO_ASSERT_TRUE(row->Rows() == 1);
    EXPECT_EQ(row->GetString(0, 0), "merged");
    EXPECT_EQ(row->GetString(0, 1), "3");
    EXPECT_EQ(row->GetString(0, 2), "3");
    EXPECT_EQ(row->GetString(0, 3), "ev2");
    EXPECT_EQ(row->GetString(0, 4), "2026-01-02T03:04:05.678Z");
  });
}

// Claims lease due rows once; outcomes delete, reschedule, dead-letter and drop
// unregistered devices; the queue depth counts states.
// A writer inserts unread entries while the inbox is read: every page of unread
// entries must list exactly as many as its unread_count says, because the page
// and the count come from one snapshot. Two statements would sometimes count an
// entry that the list, read a moment earlier, does not show.
TEST_F(NotificationPgTest, InboxPageAndUnreadCountComeFromOneStatement) {
  const std::string user = NewUuidV7();
  std::atomic<bool> stop = false;
  std::atomic<int> inserted = 0;
  std::thread writer([&] {
    PGconn* c = PQconnectdb(db_.url.c_str());
    // Past 900 entries each insert first deletes the oldest, so the inbox stays
    // within one page (limit 1000) and keeps changing.
    const std::string trim =
        "DELETE FROM notifications WHERE id = (SELECT id FROM notifications "
        "WHERE user_id = '" +
        user + "' ORDER BY created_at, id LIMIT 1)";
    while (!stop && PQstatus(c) == CONNECTION_OK) {
      if (inserted >= 900) PQclear(PQexec(c, trim.c_str()));
      const std::string sql =
          "INSERT INTO notifications (id, user_id, kind, title, body) VALUES ('" + NewUuidV7() +
          "', '" + user + "', 'payment.received', 't', 'b')";
      PQclear(PQexec(c, sql.c_str()));
      ++inserted;
    }
    PQfinish(c);
  });
  Run([&](pg::Pool& pool) -> Task<void> {
    auto empty = co_await ListInbox(pool, NewUuidV7(), 10, std::nullopt, true);
    CO_ASSERT_OK(empty);
    EXPECT_TRUE(empty->notifications.empty());
    EXPECT_EQ(empty->unread_count, 0);
    for (int i = 0; i < 300 && !HasFailure(); ++i) {
      auto page = co_await ListInbox(pool, user, 1000, std::nullopt, true);
      CO_ASSERT_OK(page);
      EXPECT_EQ(static_cast<std::int64_t>(page->notifications.size()), page->unread_count)
          << "read " << i;
    }
  });
  stop = true;
  writer.join();
  EXPECT_GT(inserted.load(), 0);
}

TEST_F(NotificationPgTest, DeliveriesAreClaimedOnceAndTheirOutcomesRecorded) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string u1 = NewUuidV7(), dev = NewUuidV7(), q1 = NewUuidV7(), q2 = NewUuidV7(),
                      q3 = NewUuidV7();
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO devices (id, user_id, platform, token) VALUES ($1::uuid, $2::uuid, 'ios', "
        "'tok')",
        dev, u1));
    CO_ASSERT_OK(co_await pool.Query(
        "INSERT INTO delivery_queue (id, channel, user_id, payload, msg_count, device_ids, state, "
        "due_at, event_id) VALUES "
        "($1::uuid, 'push', $4::uuid, '{\"seq\":1}', 2, ARRAY[$5::uuid], 'retry', now(), 'ev1'), "
        "($2::uuid, 'sms', NULL, '{}', 1, NULL, 'sending', now() - interval '1 second', NULL), "
        "($3::uuid, 'push', $4::uuid, '{}', 1, NULL, 'waiting', now() + interval '1 hour', NULL)",
        q1, q2, q3, u1, dev));
    auto claimed = co_await ClaimDueDeliveries(pool, 10, 60000);
    CO_ASSERT_OK(claimed);
    CO_ASSERT_TRUE(claimed->size() == 2);  // q3 is not due
    const QueuedDelivery& push = (*claimed)[0].id == q1 ? (*claimed)[0] : (*claimed)[1];
    const QueuedDelivery& sms = (*claimed)[0].id == q1 ? (*claimed)[1] : (*claimed)[0];
    EXPECT_EQ(push.id, q1);
    EXPECT_EQ(push.user_id, u1);
    EXPECT_EQ(push.msg_count, 2);
    EXPECT_EQ(push.payload.at("seq").as_int64(), 1);
    EXPECT_EQ(push.device_ids, std::optional<std::vector<std::string>>({dev}));
    EXPECT_EQ(push.event_id, "ev1");
    EXPECT_EQ(sms.id, q2);
    EXPECT_TRUE(sms.user_id.empty() && !sms.device_ids && sms.event_id.empty());
    auto twice = co_await ClaimDueDeliveries(pool, 10, 60000);
    CO_ASSERT_OK(twice);
    EXPECT_TRUE(twice->empty());  // leased
    auto depth = co_await CountQueuedDeliveries(pool);
    CO_ASSERT_OK(depth);
    EXPECT_EQ(depth->sending, 2);
    EXPECT_EQ(depth->waiting, 1);
    EXPECT_EQ(depth->retry, 0);
    const std::vector<std::string> users = {u1, NewUuidV7()};
    auto devices = co_await DevicesOfUsers(pool, users);
    CO_ASSERT_OK(devices);
    CO_ASSERT_TRUE(devices->size() == 1);
    EXPECT_EQ((*devices)[0].token, "tok");

    DeliveryOutcomes o;
    o.done.Add(q2);
    o.retry_id.Add(q1);
    o.retry_devices.Add("{" + dev + "}");
    o.retry_ms.Add("5000");
    o.retry_error.Add("503");
    o.retry_inc.Add("1");
    o.dead_id.Add(NewUuidV7());
    o.dead_channel.Add("push");
    o.dead_user.Add(u1);
    o.dead_device.Add(dev);
    o.dead_platform.Add("ios");
    o.dead_payload.Add("{}");
    o.dead_attempts.Add("5");
    o.dead_error.Add("410 unregistered");
    o.dead_event.Add("");
    o.unregistered.Add(dev);
    CO_ASSERT_OK(co_await WriteDeliveryOutcomes(pool, o));
    auto rows = co_await pool.Query(
        "SELECT (SELECT count(*) FROM delivery_queue WHERE id = $2::uuid), "
        "(SELECT count(*) FROM delivery_queue WHERE id = $1::uuid AND state = 'retry' AND "
        "attempts = 1 AND last_error = '503' AND due_at > now() + interval '3 seconds'), "
        "(SELECT count(*) FROM dead_letters WHERE event_id IS NULL AND attempts = 5), "
        "(SELECT count(*) FROM devices)",
        q1, q2);
    CO_ASSERT_OK(rows);
    EXPECT_EQ(rows->GetInt64(0, 0), 0);
    EXPECT_EQ(rows->GetInt64(0, 1), 1);
    EXPECT_EQ(rows->GetInt64(0, 2), 1);
    EXPECT_EQ(rows->GetInt64(0, 3), 0);
  });
}

// (Outside the coroutine: GCC 12 cannot keep an initializer list in its frame.)
std::vector<std::string> Pair(const std::string& a, const std::string& b) {
  std::vector<std::string> v;
  v.push_back(a);
  v.push_back(b);
  return v;
}
std::vector<std::string> UserTables() {
  std::vector<std::string> v;
  for (const char* t :
       {"devices", "notification_preferences", "muted_conversations", "notifications"}) {
    v.emplace_back(t);
  }
  return v;
}

// auth.user.deleted: the deleted user's devices, preferences, mutes and inbox go,
// another user's stay; applying it again is harmless.
TEST_F(NotificationPgTest, DeletedUsersLoseDevicesPreferencesAndInbox) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string gone = NewUuidV7(), kept = NewUuidV7();
    const std::vector<std::string> both = Pair(gone, kept);
    for (const std::string* u = both.data(); u != both.data() + both.size(); ++u) {
      const std::string device = NewUuidV7(), token = "tok-" + NewUuidV7(), entry = NewUuidV7();
      CO_ASSERT_OK(co_await pool.Query(
          "INSERT INTO devices (id, user_id, platform, token) VALUES ($1::uuid, $2::uuid, "
          "'android', $3)",
          device, *u, token));
      CO_ASSERT_OK(co_await pool.Query(
          "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, quiet_timezone) "
          "VALUES ($1::uuid, 1320, 420, 'Asia/Bangkok')",
          *u));
      CO_ASSERT_OK(co_await pool.Query(
          "INSERT INTO muted_conversations (user_id, conversation_id) VALUES ($1::uuid, 'c1')",
          *u));
      CO_ASSERT_OK(co_await pool.Query(
          "INSERT INTO notifications (id, user_id, kind, title, body) VALUES ($1::uuid, $2::uuid, "
          "'payment', 't', 'b')",
          entry, *u));
    }
    pg::ArrayBuilder users;
    users.Add(gone);
    for (int round = 0; round < 2; ++round) {
      pg::Statement st = DeleteUsersData(users);
      auto r = co_await pool.Execute(st.sql, std::move(st.params));
      CO_ASSERT_OK(r);
    }
    const std::vector<std::string> tables = UserTables();
    for (const std::string& table : tables) {
      const std::string count_gone =
          "SELECT count(*) FROM " + table + " WHERE user_id = '" + gone + "'";
      const std::string count_kept =
          "SELECT count(*) FROM " + table + " WHERE user_id = '" + kept + "'";
      EXPECT_EQ(co_await Scalar(pool, count_gone), 0) << table;
      EXPECT_EQ(co_await Scalar(pool, count_kept), 1) << table;
    }
  });
}

// The inbox and the delivery queue carry their autovacuum settings (migration
// 000005; docs/operations/data-scale.md).
TEST_F(NotificationPgTest, AppendHeavyTablesHaveTheirAutovacuumSettings) {
  Run([&](pg::Pool& pool) -> Task<void> {
    auto r = co_await pool.Query(
        "SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relkind = 'r' "
        "AND relname IN ('delivery_queue', 'notifications') ORDER BY relname");
    CO_ASSERT_OK(r);
    CO_ASSERT_TRUE(r->Rows() == 2);
    const std::string queue(r->GetString(0, 1)), inbox(r->GetString(1, 1));
    EXPECT_NE(queue.find("autovacuum_vacuum_scale_factor=0.01"), std::string::npos) << queue;
    EXPECT_NE(queue.find("autovacuum_vacuum_threshold=1000"), std::string::npos) << queue;
    for (const char* want :
         {"autovacuum_vacuum_insert_scale_factor=0.02", "autovacuum_vacuum_insert_threshold=50000",
          "autovacuum_vacuum_scale_factor=0.02", "autovacuum_vacuum_threshold=50000",
          "autovacuum_analyze_scale_factor=0.02"}) {
      EXPECT_NE(inbox.find(want), std::string::npos) << inbox << " lacks " << want;
    }
  });
}

}  // namespace
}  // namespace tchat::notification
