// End-to-end tests of messaging replicas: the test starts its own Redis and two
// tchat-messaging processes on one database, then checks cross-replica fan-out,
// a kill -9 in the middle of a stream of messages, a Redis restart, session
// revocations reaching every replica, and per-user rate limits shared by them.
//
// Environment: TCHAT_TEST_MESSAGING_BIN (the binary), TCHAT_TEST_MESSAGING_DATABASE_URL
// (a migrated tchat_messaging database); redis-server is taken from PATH or
// TCHAT_TEST_REDIS_SERVER_BIN. Ports are picked free at run time.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tchat/client/token_minter.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/fixture.hpp"
#include "support/json_fields.hpp"
#include "support/process.hpp"
#include "support/redis.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;
using client::WsClient;

class Replicas : public ServiceTest {
 protected:
  void SetUp() override {
    bin_ = RequireEnv("TCHAT_TEST_MESSAGING_BIN");
    db_ = RequireEnv("TCHAT_TEST_MESSAGING_DATABASE_URL");
    redis_bin_ = EnvOr("TCHAT_TEST_REDIS_SERVER_BIN", "redis-server");
    char dir[] = "/tmp/tchat-replicas-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    // Our own signing key and JWKS.
    auto key = jwt::Ed25519KeyPair::Generate("replicas-test");
    minter_.emplace(client::TokenMinter::FromKeyPair(key));
    std::ofstream(dir_ + "/jwks.json") << minter_->Jwks();
    redis_port_ = FreePort();
    ASSERT_TRUE(StartRedis());
    for (int i = 0; i < 2; ++i) {
      ports_[i] = FreePort();
      ASSERT_TRUE(StartReplica(i)) << "replica " << i << " did not start; see " << dir_;
    }
  }

  void TearDown() override {
    for (auto& r : replicas_) r.Stop(SIGTERM);
    redis_.Stop(SIGTERM);
    // The logs stay for a failed test; a passing one leaves nothing behind.
    if (!dir_.empty() && !HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string Url(int i) const { return "http://127.0.0.1:" + std::to_string(ports_[i]); }

  bool StartRedis() {
    redis_.Stop(SIGKILL);
    if (!redis_.Start({redis_bin_, "--port", std::to_string(redis_port_), "--save", "",
                       "--appendonly", "no", "--bind", "127.0.0.1"},
                      {"PATH=/usr/bin:/bin:/usr/local/bin"}, dir_ + "/redis.log")) {
      return false;
    }
    BlockingApi probe(io_, "http://127.0.0.1:1");
    for (int i = 0; i < 100; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(redis_port_));
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (up) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  bool StartReplica(int i) {
    std::vector<std::string> env = {
        "PATH=/usr/bin:/bin",
        "PORT=" + std::to_string(ports_[i]),
        "DATABASE_URL=" + db_,
        "REDIS_URL=redis://127.0.0.1:" + std::to_string(redis_port_) + "/0",
        "JWKS_FILE=" + dir_ + "/jwks.json",
        "TCHAT_THREADS=2",
        "LOG_LEVEL=" + EnvOr("TCHAT_TEST_REPLICA_LOG_LEVEL", "warn"),
        "redis_dial_timeout=1s",
        "redis_read_timeout=1s",
    };
    // The load above is far beyond a person's; LimitedReplicas sets low limits.
    std::vector<std::string> limits = limits_env_;
    if (limits.empty()) {
      limits = {"messaging_rate_messages_per_minute=0", "messaging_rate_typing_per_minute=0",
                "messaging_rate_groups_per_hour=0", "messaging_rate_ws_connects_per_minute=0"};
    }
    env.insert(env.end(), limits.begin(), limits.end());
    if (const char* asan = std::getenv("ASAN_OPTIONS"))
      env.push_back(std::string("ASAN_OPTIONS=") + asan);
    if (!replicas_[i].Start({bin_}, env, dir_ + "/replica" + std::to_string(i) + ".log")) {
      return false;
    }
    BlockingApi api(io_, Url(i));
    return client::RunUntil(
        io_, [&] { return api.Call("GET", "/health/ready").status == 200; }, 20s);
  }

  // An access token of `user_id` for `session_id`.
  std::string Token(const std::string& user_id, const std::string& session_id,
                    std::chrono::seconds ttl = std::chrono::minutes(15)) {
    return minter_->Mint(user_id, ttl, session_id);
  }

  User NewUser(int replica) {
    const std::string id = NewUuidV7();
    return UserWithToken(id, minter_->Mint(id), Url(replica));
  }
  // A user whose token belongs to the given session.
  User SessionUser(const std::string& user_id, const std::string& session_id, int replica) {
    return UserWithToken(user_id, Token(user_id, session_id), Url(replica));
  }

  // Adds an event to the replicas' Redis as auth's outbox relay would.
  void AuthEvent(const std::string& type, json::object data) {
    Redis redis("redis://127.0.0.1:" + std::to_string(redis_port_) + "/0");
    redis.Publish(events::kAuthStream, Envelope(type, std::move(data)));
  }

  std::unique_ptr<BlockingWs> Connect(const User& u, int replica) {
    return ServiceTest::Connect(u, Url(replica));
  }

  // Every message of a conversation, paging forward.
  std::vector<json::object> AllHistory(User& u, const std::string& conv) {
    std::vector<json::object> out;
    std::optional<std::int64_t> after = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      auto r = u.api->Run(u.api->async().History(conv, std::nullopt, after, 200));
      EXPECT_EQ(r.status, 200) << r.raw;
      if (r.status != 200) break;
      for (const auto& m : Arr(r.object(), "messages")) out.push_back(m.get_object());
      if (!r.object().at("has_more").as_bool() || out.empty()) break;
      after = Int(out.back(), "seq");
    }
    return out;
  }

  // What a client does after a reconnect: GET /v1/sync?since=token, then page the
  // history of conversations that sync marked as truncated. Returns the messages
  // of `conv` it learnt about (each seq at most once per source).
  std::vector<json::object> CatchUp(User& u, const std::string& token, const std::string& conv,
                                    std::string* next_token) {
    auto r = u.api->Run(u.api->async().Sync(token));
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<json::object> out;
    for (const auto& m : Arr(r.object(), "messages")) {
      if (Str(m.get_object(), "conversation_id") == conv) out.push_back(m.get_object());
    }
    bool truncated = false;
    for (const auto& c : Arr(r.object(), "truncated_conversation_ids")) {
      truncated = truncated || c.as_string() == conv;
    }
    if (truncated && !out.empty()) {
      std::optional<std::int64_t> after = Int(out.back(), "seq");
      for (int guard = 0; guard < 1000; ++guard) {
        auto h = u.api->Run(u.api->async().History(conv, std::nullopt, after, 200));
        EXPECT_EQ(h.status, 200);
        const auto& page = Arr(h.object(), "messages");
        for (const auto& m : page) out.push_back(m.get_object());
        if (!h.object().at("has_more").as_bool() || page.empty()) break;
        after = Int(out.back(), "seq");
      }
    }
    if (next_token != nullptr) *next_token = Str(r.object(), "token");
    return out;
  }

  std::string bin_, db_, redis_bin_, dir_;
  std::vector<std::string> limits_env_;  // set before SetUp
  std::optional<client::TokenMinter> minter_;
  ChildProcess redis_;
  ChildProcess replicas_[2];
  int ports_[2] = {0, 0};
  int redis_port_ = 0;
};

TEST_F(Replicas, AMessageSentOnOneReplicaReachesEveryConnectionOnBothOnce) {
  User a = NewUser(0), b = NewUser(1), c = NewUser(1);
  auto r = a.api->Run(a.api->async().CreateGroup("across", {b.id, c.id}));
  ASSERT_EQ(r.status, 201) << r.raw;
  const std::string g = Str(r.object(), "id");
  auto wa = Connect(a, 0);
  auto wb = Connect(b, 1);   // other replica
  auto wb2 = Connect(b, 0);  // b's second device, on the sender's replica
  auto wc = Connect(c, 1);
  constexpr int kN = 300;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(wa->Send(WsClient::MessageSendFrame(g, "x" + std::to_string(i), "hello")).ok());
  }
  std::set<std::int64_t> acked;
  client::RunUntil(
      io_,
      [&] {
        while (auto e = wa->NextOfType("ack", 0ms)) acked.insert(Int(Obj(*e, "message"), "seq"));
        return acked.size() == kN;
      },
      30s);
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kN));
  for (auto* w : {wb.get(), wb2.get(), wc.get()}) {
    std::multiset<std::int64_t> got;
    client::RunUntil(
        io_,
        [&] {
          while (auto e = w->NextOfType("message.new", 0ms))
            got.insert(Int(Obj(*e, "message"), "seq"));
          return got.size() >= kN;
        },
        30s);
    for (const auto& e : w->CollectType("message.new", 300ms)) {
      got.insert(Int(Obj(e, "message"), "seq"));
    }
    EXPECT_EQ(got.size(), static_cast<std::size_t>(kN));
    for (std::int64_t s = 1; s <= kN; ++s) EXPECT_EQ(got.count(s), 1u) << "seq " << s;
  }
}

TEST_F(Replicas, KillNineMidStreamLosesNothingAcknowledged) {
  User a = NewUser(1), a2 = NewUser(0), b = NewUser(1);
  a2.id = a.id;  // a second device of a, on the replica that dies
  a2.token = a.token;
  a2.api = std::make_shared<BlockingApi>(io_, Url(0), a.token);
  b.api = std::make_shared<BlockingApi>(io_, Url(1), b.token);
  auto created = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string conv = Str(created.object(), "id");
  // b's sync point before anything is sent.
  auto s0 = b.api->Run(b.api->async().Sync());
  ASSERT_EQ(s0.status, 200);
  const std::string t0 = Str(s0.object(), "token");

  auto w_survivor = Connect(a, 1);            // sends from the replica that lives
  auto w_doomed = Connect(a2, 0);             // sends from the replica that is killed
  auto w_receiver = Connect(b, 0);            // listens on the replica that is killed
  std::map<std::string, std::int64_t> acked;  // client_msg_id -> seq
  auto drain_acks = [&](BlockingWs& w) {
    while (auto e = w.NextOfType("ack", 0ms)) {
      acked[Str(*e, "client_msg_id")] = Int(Obj(*e, "message"), "seq");
    }
  };
  std::set<std::int64_t> live;
  std::size_t live_total = 0;
  auto drain_live = [&] {
    while (auto e = w_receiver->NextOfType("message.new", 0ms)) {
      live.insert(Int(Obj(*e, "message"), "seq"));
      ++live_total;
    }
  };
  auto doomed_acks = [&] {
    std::size_t n = 0;
    for (const auto& [k, s] : acked) n += k[0] == 'd';
    return n;
  };
  // Both devices send; the doomed replica is killed once 250 of its messages
  // are acknowledged, with more of them on the way. The readers take what has
  // arrived after every send, as a client's would: a client that stops reading
  // while it sends 2,000 frames would be dropped as a slow consumer.
  constexpr int kEach = 1000;
  bool killed = false;
  for (int i = 0; i < kEach; ++i) {
    if (!killed) {
      ASSERT_TRUE(
          w_doomed->Send(WsClient::MessageSendFrame(conv, "d" + std::to_string(i), "d")).ok());
    }
    ASSERT_TRUE(
        w_survivor->Send(WsClient::MessageSendFrame(conv, "s" + std::to_string(i), "s")).ok());
    io_.poll();
    if (!killed && i % 10 == 9) {
      drain_acks(*w_doomed);
      drain_live();
      if (doomed_acks() >= 250) {
        replicas_[0].Stop(SIGKILL);
        killed = true;
      }
    }
  }
  if (!killed) {
    client::RunUntil(
        io_,
        [&] {
          drain_acks(*w_doomed);
          drain_live();
          return doomed_acks() >= 250;
        },
        30s);
    replicas_[0].Stop(SIGKILL);
  }
  EXPECT_TRUE(w_doomed->WaitClosed(10s));
  EXPECT_TRUE(w_receiver->WaitClosed(10s));
  drain_acks(*w_doomed);
  drain_live();
  EXPECT_EQ(live.size(), live_total) << "a message was delivered twice";
  const std::size_t doomed_acked = doomed_acks();
  EXPECT_GE(doomed_acked, 250u);
  EXPECT_LT(doomed_acked, static_cast<std::size_t>(kEach)) << "the kill came too late to test";

  // The survivor's stream completes on the other replica.
  int survivor_acked = 0;
  ASSERT_TRUE(client::RunUntil(
      io_,
      [&] {
        drain_acks(*w_survivor);
        survivor_acked = 0;
        for (const auto& [k, v] : acked) survivor_acked += k[0] == 's';
        return survivor_acked == kEach;
      },
      60s))
      << "the surviving replica acknowledged " << survivor_acked << " of " << kEach
      << " messages in 60 s";

  // Every acknowledged message is in the history, with the seq it was acknowledged
  // with; seqs are 1..N without gaps or duplicates.
  auto history = AllHistory(b, conv);
  std::map<std::string, std::int64_t> stored;
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(Int(history[i], "seq"), static_cast<std::int64_t>(i + 1));
    EXPECT_TRUE(stored.emplace(Str(history[i], "client_msg_id"), Int(history[i], "seq")).second)
        << "client_msg_id stored twice";
  }
  for (const auto& [k, seq] : acked) {
    auto it = stored.find(k);
    ASSERT_NE(it, stored.end()) << "acknowledged message " << k << " is missing";
    EXPECT_EQ(it->second, seq) << k;
  }

  // The receiver reconnects (to the surviving replica) and catches up with sync:
  // together with what it saw live, each message exactly once.
  auto w_back = Connect(b, 1);
  std::string t1;
  auto caught = CatchUp(b, t0, conv, &t1);
  std::set<std::int64_t> synced;
  for (const auto& m : caught) {
    EXPECT_TRUE(synced.insert(Int(m, "seq")).second) << "sync returned a seq twice";
  }
  std::set<std::int64_t> seen = live;
  seen.insert(synced.begin(), synced.end());
  ASSERT_EQ(seen.size(), history.size());
  EXPECT_EQ(*seen.rbegin(), static_cast<std::int64_t>(history.size()));
  // A second sync from the new token returns nothing for this conversation.
  auto again = CatchUp(b, t1, conv, nullptr);
  EXPECT_TRUE(again.empty());

  // The doomed device retries what it never had acknowledged, with the same ids,
  // on the surviving replica: nothing is duplicated.
  auto w_retry = Connect(a, 1);
  int retried = 0;
  for (int i = 0; i < kEach; ++i) {
    const std::string k = "d" + std::to_string(i);
    if (acked.count(k)) continue;
    ASSERT_TRUE(w_retry->Send(WsClient::MessageSendFrame(conv, k, "d")).ok());
    ++retried;
  }
  int retry_acks = 0;
  client::RunUntil(
      io_,
      [&] {
        while (auto e = w_retry->NextOfType("ack", 0ms)) {
          ++retry_acks;
          acked[Str(*e, "client_msg_id")] = Int(Obj(*e, "message"), "seq");
        }
        return retry_acks == retried;
      },
      60s);
  EXPECT_EQ(retry_acks, retried);
  auto final_history = AllHistory(b, conv);
  EXPECT_EQ(final_history.size(), static_cast<std::size_t>(2 * kEach));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < final_history.size(); ++i) {
    EXPECT_EQ(Int(final_history[i], "seq"), static_cast<std::int64_t>(i + 1));
    EXPECT_TRUE(ids.insert(Str(final_history[i], "client_msg_id")).second);
  }
}

TEST_F(Replicas, FanOutResumesAfterARedisRestart) {
  User a = NewUser(0), b = NewUser(1);
  auto created = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(created.status, 201);
  const std::string conv = Str(created.object(), "id");
  auto wa = Connect(a, 0);
  auto wb = Connect(b, 1);
  ASSERT_EQ(a.api->Run(a.api->async().SendText(conv, "before", "before")).status, 201);
  ASSERT_TRUE(wb->NextOfType("message.new", 10s));

  redis_.Stop(SIGKILL);
  // Messages still commit while Redis is away; only their live delivery is lost.
  ASSERT_EQ(a.api->Run(a.api->async().SendText(conv, "during", "during")).status, 201);
  ASSERT_TRUE(StartRedis());
  // Each connection is told to sync once the subscriber is back.
  EXPECT_TRUE(wb->NextOfType("sync.required", 20s));
  EXPECT_TRUE(wa->NextOfType("sync.required", 20s));
  (void)wb->CollectFor(200ms);
  ASSERT_EQ(a.api->Run(a.api->async().SendText(conv, "after", "after")).status, 201);
  auto e = wb->NextOfType("message.new", 10s);
  ASSERT_TRUE(e) << "fan-out did not resume";
  EXPECT_EQ(Str(Obj(*e, "message"), "client_msg_id"), "after");
  auto history = AllHistory(a, conv);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(Str(history[1], "client_msg_id"), "during");
}

TEST_F(Replicas, SigtermClosesWebSocketsWith1001AndKeepsTheOtherReplicaServing) {
  User a = NewUser(0), b = NewUser(1);
  auto created = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(created.status, 201);
  const std::string conv = Str(created.object(), "id");
  auto wa = Connect(a, 0);
  auto wb = Connect(b, 1);
  ASSERT_TRUE(wa->Send(WsClient::MessageSendFrame(conv, "last-words", "bye")).ok());
  ASSERT_TRUE(wa->NextOfType("ack", 10s));
  // Keep the clients' event loop running while the replica drains: they answer
  // the close handshake like any client would.
  replicas_[0].Signal(SIGTERM);
  EXPECT_TRUE(client::RunUntil(
      io_, [&] { return replicas_[0].Reaped(); }, 15s))
      << "shutdown took too long";
  ASSERT_TRUE(wa->WaitClosed(5s));
  EXPECT_EQ(wa->close_code(), 1001);
  // Acknowledged before the shutdown: stored and delivered.
  auto e = wb->NextOfType("message.new", 10s);
  ASSERT_TRUE(e);
  EXPECT_EQ(Str(Obj(*e, "message"), "client_msg_id"), "last-words");
  User a_elsewhere = NewUser(1);
  a_elsewhere.id = a.id;
  a_elsewhere.token = a.token;
  a_elsewhere.api = std::make_shared<BlockingApi>(io_, Url(1), a.token);
  EXPECT_EQ(a_elsewhere.api->Run(a_elsewhere.api->async().SendText(conv, "again", "hi")).status,
            201);
}

// ---------------------------------------------------------------------------
// Credentials: a revoked session's sockets close on every replica
// ---------------------------------------------------------------------------

TEST_F(Replicas, ARevokedSessionsSocketsCloseOnEveryReplicaWithin2s) {
  const std::string user = NewUuidV7(), revoked = NewUuidV7(), kept = NewUuidV7();
  User u = SessionUser(user, revoked, 0);
  User other = SessionUser(user, kept, 1);
  auto on0 = Connect(u, 0);
  auto on1 = Connect(u, 1);
  auto kept_on1 = Connect(other, 1);
  (void)on0->CollectFor(300ms);  // the watchers are reading the stream by now

  AuthEvent("auth.session.revoked",
            json::object{{"session_id", revoked}, {"user_id", user}, {"reason", "logout"}});
  const auto at = std::chrono::steady_clock::now();
  EXPECT_TRUE(on0->WaitClosed(2s)) << "replica 0 kept the revoked socket";
  EXPECT_TRUE(on1->WaitClosed(2s)) << "replica 1 kept the revoked socket";
  EXPECT_LE(std::chrono::steady_clock::now() - at, 2s);
  EXPECT_EQ(on0->close_code(), 4001);
  EXPECT_EQ(on1->close_code(), 4001);
  ASSERT_TRUE(kept_on1->Send(WsClient::PingFrame()).ok());
  EXPECT_TRUE(kept_on1->NextOfType("pong", 3s)) << "another session's socket must stay";

  // A user-wide revocation (a password change) spares only the named session.
  auto on0_again = Connect(other, 0);
  User third = SessionUser(user, NewUuidV7(), 0);
  auto third_on0 = Connect(third, 0);
  AuthEvent("auth.sessions.revoked",
            json::object{{"user_id", user}, {"except_session_id", kept}, {"reason", "password"}});
  EXPECT_TRUE(third_on0->WaitClosed(2s));
  EXPECT_EQ(third_on0->close_code(), 4001);
  ASSERT_TRUE(on0_again->Send(WsClient::PingFrame()).ok());
  EXPECT_TRUE(on0_again->NextOfType("pong", 3s));

  // A replica that starts after the revocation still refuses the session.
  replicas_[1].Stop(SIGTERM);
  ASSERT_TRUE(StartReplica(1));
  std::this_thread::sleep_for(300ms);  // its watcher reads the stream back
  auto late = std::make_unique<BlockingWs>(io_);
  (void)late->Connect(Url(1), u.token, {}, 5s);
  EXPECT_TRUE(late->WaitClosed(3s));
  EXPECT_EQ(late->close_code(), 4001);
}

// ---------------------------------------------------------------------------
// Per-user rate limits, shared by the replicas
// ---------------------------------------------------------------------------

class LimitedReplicas : public Replicas {
 protected:
  LimitedReplicas() {
    limits_env_ = {"messaging_rate_messages_per_minute=5", "messaging_rate_typing_per_minute=3",
                   "messaging_rate_groups_per_hour=2", "messaging_rate_ws_connects_per_minute=3"};
  }

  // Status and Retry-After of a raw HTTP call.
  std::pair<int, std::string> RawPost(int replica, const std::string& token,
                                      const std::string& path, const json::value& body) {
    BlockingApi api(io_, Url(replica), token);
    ApiResponse r = api.Send(ApiRequest("POST", path, json::serialize(body)));
    return {r.status, r.header("Retry-After")};
  }
};

TEST_F(LimitedReplicas, MessagesOverTheLimitAre429OnAnyReplicaAndAnErrorOnTheSocket) {
  User a = NewUser(0), b = NewUser(1);
  auto created = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(created.status, 201);
  const std::string conv = Str(created.object(), "id");
  const std::string path = "/v1/conversations/" + conv + "/messages";
  auto body = [](int i) {
    return json::object{
        {"client_msg_id", "m" + std::to_string(i)}, {"type", "text"}, {"body", "hi"}};
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(RawPost(0, a.token, path, body(i)).first, 201);
  for (int i = 3; i < 5; ++i) EXPECT_EQ(RawPost(1, a.token, path, body(i)).first, 201);
  auto [status, retry] = RawPost(0, a.token, path, body(5));
  EXPECT_EQ(status, 429);
  ASSERT_FALSE(retry.empty()) << "no Retry-After";
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 60);
  EXPECT_EQ(RawPost(1, a.token, path, body(6)).first, 429);
  // b's own limit is untouched.
  EXPECT_EQ(RawPost(1, b.token, path, body(7)).first, 201);

  auto ws = Connect(a, 1);
  ASSERT_TRUE(ws->Send(WsClient::MessageSendFrame(conv, "ws-1", "hi")).ok());
  auto e = ws->NextOfType("error", 5s);
  ASSERT_TRUE(e) << "no error frame";
  EXPECT_EQ(Str(*e, "client_msg_id"), "ws-1");
  EXPECT_EQ(Str(Obj(*e, "error"), "code"), "rate_limited");
  EXPECT_GE(Int(*e, "retry_after"), 1);
  EXPECT_FALSE(ws->NextOfType("ack", 300ms));
}

TEST_F(LimitedReplicas, TypingGroupsAndConnectionsHaveTheirLimits) {
  User a = NewUser(0), b = NewUser(1);
  auto created = a.api->Run(a.api->async().CreateDirect(b.id));
  ASSERT_EQ(created.status, 201);
  const std::string conv = Str(created.object(), "id");
  auto ws = Connect(a, 0);  // connection 1 of 3
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ws->Send(WsClient::TypingFrame(conv)).ok());
  EXPECT_FALSE(ws->NextOfType("error", 500ms)) << "typing under the limit was refused";
  ASSERT_TRUE(ws->Send(WsClient::TypingFrame(conv)).ok());
  auto e = ws->NextOfType("error", 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(Str(Obj(*e, "error"), "code"), "rate_limited");

  EXPECT_EQ(RawPost(0, a.token, "/v1/conversations",
                    json::object{{"type", "group"},
                                 {"title", "g1"},
                                 {"member_ids", json::array{json::value(b.id)}}})
                .first,
            201);
  EXPECT_EQ(RawPost(1, a.token, "/v1/conversations",
                    json::object{{"type", "group"},
                                 {"title", "g2"},
                                 {"member_ids", json::array{json::value(b.id)}}})
                .first,
            201);
  auto [status, retry] = RawPost(
      0, a.token, "/v1/conversations",
      json::object{
          {"type", "group"}, {"title", "g3"}, {"member_ids", json::array{json::value(b.id)}}});
  EXPECT_EQ(status, 429);
  EXPECT_FALSE(retry.empty());

  auto second = Connect(a, 1);  // 2 of 3
  auto third = Connect(a, 0);   // 3 of 3
  auto fourth = std::make_unique<BlockingWs>(io_);
  (void)fourth->Connect(Url(1), a.token, {}, 5s);
  EXPECT_TRUE(fourth->WaitClosed(3s)) << "a fourth socket in a minute was let in";
  EXPECT_EQ(fourth->close_code(), 4029);
  ASSERT_TRUE(ws->Send(WsClient::PingFrame()).ok());
  EXPECT_TRUE(ws->NextOfType("pong", 3s)) << "the open sockets stay";
}

}  // namespace
}  // namespace tchat::e2e
