// At-least-once without duplicates across a crash (issue 6): two notification
// processes share the streams; one is killed with SIGKILL while events flow and
// is restarted under a new consumer name (so its pending entries must be taken
// over with XAUTOCLAIM). Afterwards every event has produced exactly its
// notifications at the sink.
//
// The test runs its own service processes against a database and a Redis
// database of its own, so it needs only:
//   TCHAT_TEST_PG_URL     a libpq URI of an administrative database (it creates
//                         and drops tchat_notification_crashtest_<pid>)
//   TCHAT_TEST_REDIS_URL  a Redis server (it uses database 9 and flushes it), or a
//                         Redis Cluster (redis-cluster://...; it flushes every
//                         master: nothing else may use the cluster meanwhile)
// The service binary and the migrations are located at build time.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <tchat/client/blocking.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/sealed_box.hpp>

#include "sink.hpp"
#include "support/env.hpp"
#include "support/process.hpp"
#include "support/redis.hpp"
#include "support/users.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;

std::string ReplaceDb(const std::string& url, const std::string& db) {
  // postgresql://user@host:port/dbname?params
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme + 3);
  const auto q = url.find('?', slash == std::string::npos ? 0 : slash);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  return base + "/" + db + (q == std::string::npos ? "" : url.substr(q));
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  const std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error(err + " in: " + sql.substr(0, 200));
}
std::string Scalar(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  std::string v =
      PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "?";
  PQclear(r);
  return v;
}

bool WaitReady(std::uint16_t port) {
  boost::asio::io_context io;
  client::BlockingApi api(io, "http://127.0.0.1:" + std::to_string(port));
  for (int i = 0; i < 150; ++i) {
    if (api.Get("/health/ready").status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST(NotificationCrash, KillDashNineWhileEventsFlowLosesAndDuplicatesNothing) {
  const std::string admin_url = RequireEnv("TCHAT_TEST_PG_URL");
  std::string redis_url = RequireEnv("TCHAT_TEST_REDIS_URL");
  // A cluster has database 0 only.
  if (!redis_url.starts_with("redis-cluster://")) {
    redis_url = redis_url.substr(0, redis_url.find('/', 8)) + "/9";
  }
  const std::string db = "tchat_notification_crashtest_" + std::to_string(getpid());

  PGconn* admin = PQconnectdb(admin_url.c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK) << PQerrorMessage(admin);
  Exec(admin, "DROP DATABASE IF EXISTS " + db);
  Exec(admin, "CREATE DATABASE " + db);
  const std::string db_url = ReplaceDb(admin_url, db);
  PGconn* conn = PQconnectdb(db_url.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  std::vector<std::filesystem::path> ups;
  for (const auto& f : std::filesystem::directory_iterator(TCHAT_NOTIFICATION_MIGRATIONS)) {
    if (f.path().string().ends_with(".up.sql")) ups.push_back(f.path());
  }
  std::sort(ups.begin(), ups.end());
  ASSERT_GE(ups.size(), 2u);
  for (const auto& p : ups) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    Exec(conn, ss.str());
  }

  Redis redis(redis_url);
  redis.FlushDb();
  HttpSink sink("127.0.0.1:0");

  // 300 recipients with two devices each, registered directly in the database.
  constexpr int kUsers = 300;
  std::vector<std::string> users;
  std::map<std::string, std::vector<std::string>> devices;  // user → device ids
  {
    std::string sql = "INSERT INTO devices (id, user_id, platform, token) VALUES ";
    for (int i = 0; i < kUsers; ++i) {
      users.push_back(NewUserId());
      for (int d = 0; d < 2; ++d) {
        const std::string id = NewUserId();
        devices[users.back()].push_back(id);
        sql += (i || d ? "," : "") + std::string("('") + id + "','" + users.back() +
               "','android','t-" + id + "')";
      }
    }
    Exec(conn, sql);
  }

  // The OTP sealing pair of these replicas (their own, fresh).
  std::string seal_key(64, '0');
  {
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(seal_key.data(), seal_key.size() + 1, raw, sizeof raw);
  }
  const auto opener = SealedBoxOpener::FromSecretKeyHex(seal_key);
  ASSERT_TRUE(opener.ok());
  const auto sealer = SealedBoxSender::FromPublicKeyHex(opener->PublicKeyHex());
  ASSERT_TRUE(sealer.ok());

  auto env_for = [&](std::uint16_t port, const std::string& consumer) {
    return std::vector<std::string>{
        "TCHAT_NOTIFICATION_SEAL_KEY=" + seal_key,
        "PORT=" + std::to_string(port),
        "DATABASE_URL=" + db_url,
        "REDIS_URL=" + redis_url,
        "TCHAT_PUSH_WEBHOOK_URL=http://127.0.0.1:" + std::to_string(sink.port()) + "/push",
        "TCHAT_SMS_WEBHOOK_URL=http://127.0.0.1:" + std::to_string(sink.port()) + "/sms",
        "TCHAT_THREADS=2",
        "NOTIFICATION_CONSUMER=" + consumer,
        "NOTIFICATION_COLLAPSE_WINDOW=0",
        "NOTIFICATION_CLAIM_MIN_IDLE=2s",
        "NOTIFICATION_CLAIM_INTERVAL=500ms",
        "NOTIFICATION_SEND_LEASE=10s",
        "NOTIFICATION_PROVIDER_TIMEOUT=5s",
        "NOTIFICATION_RETRY_BASE=200ms",
        "NOTIFICATION_RETRY_MAX=2s",
        "NOTIFICATION_POLL_INTERVAL=200ms",
        "NOTIFICATION_BATCH_SIZE=64",
        "NOTIFICATION_MAX_IN_FLIGHT=64",
        "LOG_LEVEL=warn"};
  };
  const std::uint16_t port_a = FreePort(), port_b = FreePort();
  const std::string logdir = std::filesystem::temp_directory_path() / db;
  std::filesystem::create_directories(logdir);
  ChildProcess a({TCHAT_NOTIFICATION_BIN}, env_for(port_a, "crash-a"), logdir + "/a.log");
  ChildProcess b({TCHAT_NOTIFICATION_BIN}, env_for(port_b, "crash-b"), logdir + "/b.log");
  a.Start();
  b.Start();
  ASSERT_TRUE(WaitReady(port_a)) << "see " << logdir;
  ASSERT_TRUE(WaitReady(port_b)) << "see " << logdir;

  // ~3 s of events: messages (2 pushes each) and OTPs (1 SMS each).
  constexpr int kMessages = 1500;
  constexpr int kOtps = 150;
  std::map<std::string, std::set<std::string>> expected;  // event id → device ids / phone
  std::vector<std::pair<std::string, json::object>> events;
  for (int i = 0; i < kMessages; ++i) {
    const std::string& to = users[static_cast<std::size_t>(i % kUsers)];
    json::object data{{"conversation_id", NewUserId()},
                      {"message_id", NewUserId()},
                      {"seq", i + 1},
                      {"sender_id", NewUserId()},
                      {"recipients", json::array{json::string(to)}},
                      {"preview", "m" + std::to_string(i)},
                      {"type", "text"}};
    auto env = Envelope("message.created", std::move(data));
    const std::string id(env.at("id").as_string());
    expected[id] = {devices[to][0], devices[to][1]};
    events.emplace_back(tchat::events::kMessagingStream, std::move(env));
    if (i % 10 == 0 && i / 10 < kOtps) {
      const std::string phone = "+6681" + std::to_string(1000000 + i);
      auto otp =
          Envelope("auth.otp.requested", json::object{{"phone", phone},
                                                      {"sealed_code", sealer->Seal("123456")},
                                                      {"locale", "en"}});
      expected[std::string(otp.at("id").as_string())] = {phone};
      events.emplace_back(tchat::events::kAuthStream, std::move(otp));
    }
  }
  std::atomic<bool> produced{false};
  std::thread producer([&] {
    Redis r(redis_url);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < events.size(); ++i) {
      r.Publish(events[i].first, events[i].second);
      // ~550 events/s.
      std::this_thread::sleep_until(start + std::chrono::microseconds(1800 * (i + 1)));
    }
    produced = true;
  });
  std::this_thread::sleep_for(1200ms);
  a.Stop(SIGKILL);  // SIGKILL mid-stream: its read batches, leases and sends are cut off
  std::this_thread::sleep_for(800ms);
  ChildProcess a2({TCHAT_NOTIFICATION_BIN}, env_for(port_a, "crash-a2"),
                  logdir + "/a2.log");  // a new consumer name
  a2.Start();
  ASSERT_TRUE(WaitReady(port_a)) << "restart failed; see " << logdir;
  producer.join();
  ASSERT_TRUE(produced.load());

  // Wait for every expected (event, target) to reach the sink.
  auto key_of = [](const SinkRequest& r) -> std::pair<std::string, std::string> {
    auto s = [&](const char* f) {
      auto it = r.body.find(f);
      return it != r.body.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                           : "";
    };
    return {s("event_id"), r.path == "/sms" ? s("to") : s("device_id")};
  };
  std::size_t want = 0;
  for (const auto& [e, t] : expected) want += t.size();
  const bool complete = sink.WaitFor(
      [&](const std::vector<SinkRequest>& all) {
        std::set<std::pair<std::string, std::string>> got;
        for (const auto& r : all) {
          if (r.status == 200) got.insert(key_of(r));
        }
        return got.size() >= want;
      },
      90s);
  // Deliveries the killed process had leased stay queued until their lease (10 s)
  // runs out and another process sends them again: wait for the queue to drain
  // (bounded) so that those re-sends are counted below, then a little longer for
  // anything late.
  const auto drain_deadline = std::chrono::steady_clock::now() + 45s;
  while (Scalar(conn, "SELECT count(*) FROM delivery_queue") != "0" &&
         std::chrono::steady_clock::now() < drain_deadline) {
    std::this_thread::sleep_for(250ms);
  }
  std::this_thread::sleep_for(2s);

  const auto all = sink.All();
  std::map<std::pair<std::string, std::string>, int> count;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> keys;
  std::size_t unexpected = 0;
  for (const auto& r : all) {
    auto k = key_of(r);
    auto it = expected.find(k.first);
    if (it == expected.end() || !it->second.contains(k.second)) {
      ++unexpected;
      continue;
    }
    ++count[k];
    keys[k].insert(r.idempotency_key);
  }
  std::size_t missing = 0, resent = 0, second_notifications = 0;
  for (const auto& [e, targets] : expected) {
    for (const auto& t : targets) {
      auto it = count.find({e, t});
      if (it == count.end()) {
        ++missing;
      } else {
        resent += static_cast<std::size_t>(it->second - 1);
        if (keys[{e, t}].size() > 1) ++second_notifications;
      }
    }
  }
  std::printf(
      "crash test: %zu events, %zu notifications expected, %zu requests at the sink, "
      "%zu missing, %zu unexpected, %zu events notified twice, %zu re-sends of an "
      "in-flight delivery (same idempotency key)\n",
      expected.size(), want, all.size(), missing, unexpected, second_notifications, resent);
  EXPECT_TRUE(complete) << "not every notification arrived; logs in " << logdir;
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(unexpected, 0u);
  // The de-duplication guarantee: a redelivered event never creates a second
  // notification (every arrival of a target carries the same delivery id).
  EXPECT_EQ(second_notifications, 0u);
  // Not asserted, printed above: a delivery the provider accepted just before
  // SIGKILL, whose outcome was not yet recorded, is re-sent with the same
  // idempotency key (at-least-once toward a provider; a receiver honouring
  // Idempotency-Key sees it once). Measured: a few to a few dozen on an idle
  // machine; hundreds under ASan on a loaded one, where the count depends on
  // timing.

  // Everything settled: all acknowledged, nothing left queued, each event once.
  EXPECT_EQ(Scalar(conn, "SELECT count(*) FROM processed_events"), std::to_string(expected.size()));
  EXPECT_EQ(Scalar(conn, "SELECT count(*) FROM delivery_queue"), "0");
  EXPECT_EQ(Scalar(conn, "SELECT count(*) FROM poison_events"), "0");
  EXPECT_EQ(Scalar(conn, "SELECT count(*) FROM dead_letters"), "0");
  for (std::string_view stream : {tchat::events::kMessagingStream, tchat::events::kAuthStream}) {
    // XPENDING summary: first element is the count.
    std::vector<std::string> args{"EVAL",
                                  "return redis.call('XPENDING', KEYS[1], 'notification')[1]", "1",
                                  std::string(stream)};
    EXPECT_EQ(redis.Command(args), "0") << stream << " has unacknowledged entries";
  }

  a2.Stop(SIGTERM);
  b.Stop(SIGTERM);
  PQfinish(conn);
  Exec(admin, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  PQfinish(admin);
  redis.FlushDb();
}

}  // namespace
}  // namespace tchat::e2e
