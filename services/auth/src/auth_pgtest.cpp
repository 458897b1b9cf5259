// The auth domain against live PostgreSQL and Redis: TCHAT_TEST_PG_URL (a
// superuser libpq URI; a scratch database is created, migrated with every
// migrations/postgres/tchat_auth/*.up.sql and dropped) and TCHAT_TEST_REDIS_URL.
// Both are required: the tests fail when either is unset. Every test uses fresh
// phone numbers and client addresses, so they do not share rate-limit state.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <unistd.h>

#include <tchat/core/async.hpp>
#include <tchat/core/client_address.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/redis/streams.hpp>
#include <tchat/core/sealed_box.hpp>
#include <tchat/core/testing/pg_scratch.hpp>

#include "phone.hpp"
#include "service.hpp"

namespace tchat::auth {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A Thai mobile number nobody else in this run uses.
std::string FreshPhone() {
  static std::atomic<int> n{0};
  const int suffix = (static_cast<int>(::getpid()) * 131 + n++ * 7919) % 10'000'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "+6681%07d", suffix);  // +66 81x xxx xxx: TH mobile
  return buf;
}

// An address no other test process uses (the per-address limits live in Redis
// for an hour, and ctest runs every test, of both builds, as its own process):
// a random start in 10/8, then consecutive.
std::string FreshIp() {
  static const std::uint32_t base = std::random_device{}() & 0xFFFFFFu;
  static std::atomic<std::uint32_t> n{0};
  const std::uint32_t a = (base + n++) & 0xFFFFFFu;
  return "10." + std::to_string(a >> 16) + "." + std::to_string((a >> 8) & 0xFFu) + "." +
         std::to_string(a & 0xFFu);
}

class AuthPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_url_ = GetEnv("TCHAT_TEST_PG_URL");
    redis_url_ = GetEnv("TCHAT_TEST_REDIS_URL");
    ASSERT_FALSE(admin_url_.empty()) << "TCHAT_TEST_PG_URL is not set";
    ASSERT_FALSE(redis_url_.empty()) << "TCHAT_TEST_REDIS_URL is not set";
    db_ = ScratchName("tchat_auth_pgtest");
    db_url_ = CreateMigratedDatabase(
        admin_url_, db_, std::filesystem::path(TCHAT_SOURCE_DIR) / "migrations/postgres/tchat_auth",
        2);

    config_.dev_otp = true;
    // RFC 7748's Bob: the codes in the events are sealed to this key.
    config_.notification_seal_public_key =
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    config_.otp_per_ip = {1000, std::chrono::hours(1)};
    config_.otp_verify_per_ip = {1000, std::chrono::hours(1)};
    config_.password_opslimit = 1;
    config_.password_memlimit = 8 * 1024 * 1024;
    config_.password_threads = 2;
  }
  void TearDown() override {
    if (!db_.empty() && !admin_url_.empty()) {
      DropDatabase(admin_url_, db_);
    }
  }

  // Everything a test body needs, alive for one Run().
  struct Env {
    asio::any_io_executor ex;
    pg::Pool& pool;
    redis::RedisClient& redis;
    AuthService& svc;
    std::shared_ptr<events::OutboxRelay> relay;
  };

  void Run(std::function<Task<void>(Env&)> body) {
    asio::io_context io;
    pg::PoolOptions po;
    po.conninfo = db_url_;
    po.max_open = 8;
    po.service = "auth_pgtest";
    po.database = db_;
    pg::Pool pool(io.get_executor(), po);
    redis::RedisOptions ro;
    ro.url = redis_url_;
    ro.service = "auth_pgtest";
    ro.pool_size = 4;
    ro.min_idle = 0;
    redis::RedisClient redis(io.get_executor(), ro);
    auto relay = events::OutboxRelay::Create(io.get_executor(), events::OutboxRelayOptions{});
    auto deps =
        MakeAuthDeps(config_, KeyFile{jwt::Ed25519KeyPair::Generate("k-test"), std::nullopt},
                     "tchat-auth", "tchat", relay);
    ASSERT_TRUE(deps.ok()) << deps.error().message;
    AuthService svc(*deps, pool, redis);
    Env env{io.get_executor(), pool, redis, svc, relay};
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          co_await body(env);
          redis.Close();
          done = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    io.run();
    EXPECT_TRUE(done);
  }

  // As the server fills it in: the address, and the key its limits count under.
  static ClientInfo Client(std::string ip = FreshIp()) {
    ClientInfo c;
    c.ip = std::move(ip);
    c.limit_key = AddressLimitKey(c.ip);
    c.user_agent = "auth_pgtest";
    c.device_name = "test device";
    c.platform = "android";
    return c;
  }

  // Requests a code and returns it (dev_code).
  static Task<Result<std::string>> RequestCode(AuthService& svc, const std::string& phone,
                                               const ClientInfo& c,
                                               std::string purpose = "sign_in") {
    auto r = co_await svc.RequestOtp(phone, "", "", purpose, c);
    if (!r) co_return std::move(r).error();
    if (!r->dev_code) co_return Error::Internal("no dev_code");
    co_return *r->dev_code;
  }

  static Task<Result<TokenGrant>> SignIn(AuthService& svc, const std::string& phone,
                                         const ClientInfo& c) {
    auto code = co_await RequestCode(svc, phone, c);
    if (!code) co_return std::move(code).error();
    co_return co_await svc.VerifyOtp(phone, "", *code, c);
  }

  // Sets the first password of `g`'s user, proved by a code of purpose "password".
  static Task<Status> FirstPassword(AuthService& svc, const TokenGrant& g, const std::string& pw,
                                    const ClientInfo& c) {
    auto code = co_await RequestCode(svc, g.user.phone, c, "password");
    if (!code) co_return std::move(code).error();
    co_return co_await svc.SetPassword(CallerOf(g), pw, std::nullopt, *code, c.ip);
  }

  static Caller CallerOf(const TokenGrant& g) {
    return Caller{g.user.id, g.session_id, std::chrono::system_clock::now() + 15min};
  }

  static std::string WrongCode(const std::string& code) {
    std::string w = code;
    w[5] = code[5] == '9' ? '0' : static_cast<char>(code[5] + 1);
    return w;
  }

  std::string admin_url_, redis_url_, db_, db_url_;
  Config config_;
};

TEST_F(AuthPgTest, FirstVerificationCreatesTheUserAndTheSecondSignsIn) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    auto first = co_await SignIn(e.svc, phone, Client());
    CO_ASSERT_OK(first);
    EXPECT_TRUE(first->new_user);
    EXPECT_EQ(first->user.phone, phone);
    EXPECT_EQ(first->user.country, "TH");
    EXPECT_EQ(first->user.locale, "th");
    EXPECT_EQ(first->expires_in, 900);
    EXPECT_EQ(first->refresh_token.size(), 43u);
    auto caller = co_await e.svc.Authenticate(first->access_token);
    CO_ASSERT_OK(caller);
    EXPECT_EQ(caller->user_id, first->user.id);
    EXPECT_EQ(caller->session_id, first->session_id);

    auto second = co_await SignIn(e.svc, phone, Client());
    CO_ASSERT_OK(second);
    EXPECT_FALSE(second->new_user);
    EXPECT_EQ(second->user.id, first->user.id);
    EXPECT_NE(second->session_id, first->session_id);
  });
}

TEST_F(AuthPgTest, BruteForcingACodeStopsAtTheAttemptLimit) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const ClientInfo c = Client();
    auto code = co_await RequestCode(e.svc, phone, c);
    CO_ASSERT_OK(code);
    const std::string wrong = WrongCode(*code);
    for (int i = 1; i <= 4; ++i) {
      auto r = co_await e.svc.VerifyOtp(phone, "", wrong, c);
      CO_ASSERT_TRUE(!r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
      EXPECT_NE(r.error().message.find(std::to_string(5 - i) + " attempts left"), std::string::npos)
          << r.error().message;
    }
    auto fifth = co_await e.svc.VerifyOtp(phone, "", wrong, c);
    CO_ASSERT_TRUE(!fifth.ok());
    EXPECT_NE(fifth.error().message.find("no longer works"), std::string::npos);
    // The right code is worthless now: the code was burned.
    auto right = co_await e.svc.VerifyOtp(phone, "", *code, c);
    CO_ASSERT_TRUE(!right.ok());
    EXPECT_EQ(right.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(right.error().message.find("no valid code"), std::string::npos);
  });
}

TEST_F(AuthPgTest, ACodeWorksOnce) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const ClientInfo c = Client();
    auto code = co_await RequestCode(e.svc, phone, c);
    CO_ASSERT_OK(code);
    CO_ASSERT_OK(co_await e.svc.VerifyOtp(phone, "", *code, c));
    auto again = co_await e.svc.VerifyOtp(phone, "", *code, c);
    CO_ASSERT_TRUE(!again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
  });
}

TEST_F(AuthPgTest, AnExpiredCodeFails) {
  config_.otp_ttl = 1s;
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const ClientInfo c = Client();
    auto code = co_await RequestCode(e.svc, phone, c);
    CO_ASSERT_OK(code);
    co_await Sleep(1300ms);
    auto r = co_await e.svc.VerifyOtp(phone, "", *code, c);
    CO_ASSERT_TRUE(!r.ok());
    EXPECT_NE(r.error().message.find("expired"), std::string::npos);
  });
}

TEST_F(AuthPgTest, TwoConcurrentVerificationsOfOneCodeExactlyOneWins) {
  Run([&](Env& e) -> Task<void> {
    for (int round = 0; round < 5; ++round) {
      const std::string phone = FreshPhone();
      const ClientInfo c = Client();
      auto code = co_await RequestCode(e.svc, phone, c);
      CO_ASSERT_OK(code);
      int wins = 0, losses = 0, done = 0;
      constexpr int kRacers = 8;
      for (int i = 0; i < kRacers; ++i) {
        asio::co_spawn(
            e.ex,
            [&, phone, c, code = *code]() -> Task<void> {
              auto r = co_await e.svc.VerifyOtp(phone, "", code, c);
              (r.ok() ? wins : losses)++;
              ++done;
            },
            asio::detached);
      }
      while (done < kRacers) co_await Sleep(5ms);
      EXPECT_EQ(wins, 1) << "round " << round;
      EXPECT_EQ(losses, kRacers - 1);
    }
  });
}

TEST_F(AuthPgTest, ResendCooldownAndPerNumberAndPerAddressLimits) {
  config_.otp_resend_cooldown = 0s;
  config_.otp_per_number = {3, std::chrono::hours(1)};
  config_.otp_per_ip = {5, std::chrono::hours(1)};
  Run([&](Env& e) -> Task<void> {
    const ClientInfo c = Client();
    const std::string phone = FreshPhone();
    for (int i = 0; i < 3; ++i) CO_ASSERT_OK(co_await e.svc.RequestOtp(phone, "", "", "", c));
    auto fourth = co_await e.svc.RequestOtp(phone, "", "", "", c);
    CO_ASSERT_TRUE(!fourth.ok());
    EXPECT_EQ(fourth.error().code, ErrorCode::kRateLimited);
    EXPECT_NE(fourth.error().message.find("this number"), std::string::npos);
    CO_ASSERT_TRUE(fourth.error().retry_after.has_value());
    EXPECT_GT(fourth.error().retry_after->count(), 3000);  // the hour window
    // The address has used 4 of 5 requests: one more, then refused.
    CO_ASSERT_OK(co_await e.svc.RequestOtp(FreshPhone(), "", "", "", c));
    auto sixth = co_await e.svc.RequestOtp(FreshPhone(), "", "", "", c);
    CO_ASSERT_TRUE(!sixth.ok());
    EXPECT_EQ(sixth.error().code, ErrorCode::kRateLimited);
    EXPECT_NE(sixth.error().message.find("address"), std::string::npos);
    // Another address is unaffected.
    CO_ASSERT_OK(co_await e.svc.RequestOtp(FreshPhone(), "", "", "", Client()));
  });
  config_.otp_resend_cooldown = 60s;
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    CO_ASSERT_OK(co_await e.svc.RequestOtp(phone, "", "", "", Client()));
    auto again = co_await e.svc.RequestOtp(phone, "", "", "", Client());
    CO_ASSERT_TRUE(!again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kRateLimited);
    CO_ASSERT_TRUE(again.error().retry_after.has_value());
    EXPECT_GE(again.error().retry_after->count(), 55);
    EXPECT_LE(again.error().retry_after->count(), 60);
  });
}

TEST_F(AuthPgTest, OtpRequestGoesOutAsAnEventThroughTheOutbox) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const std::string stream(events::kAuthStream);
    auto before = co_await e.redis.Command("XREVRANGE", stream, "+", "-", "COUNT", "1");
    CO_ASSERT_OK(before);
    ClientInfo c = Client();
    c.accept_language = "vi-VN,vi;q=0.9";
    auto code = co_await RequestCode(e.svc, phone, c);
    CO_ASSERT_OK(code);
    auto n = co_await e.relay->RelayOnce(e.pool, e.redis);
    CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 1u);
    auto last = co_await e.redis.Command("XREVRANGE", stream, "+", "-", "COUNT", "1");
    CO_ASSERT_OK(last);
    auto entries = redis::ParseStreamEntries(std::move(*last));
    CO_ASSERT_OK(entries);
    CO_ASSERT_TRUE(entries->size() == 1u);
    const auto& entry = entries->front();
    CO_ASSERT_TRUE(entry.Field("type") && *entry.Field("type") == "auth.otp.requested");
    json::value env = json::parse(*entry.Field("event"));
    EXPECT_EQ(env.at("type").as_string(), "auth.otp.requested");
    const auto& data = env.at("data").as_object();
    EXPECT_EQ(data.at("phone").as_string(), phone);
    EXPECT_EQ(data.at("locale").as_string(), "vi");
    EXPECT_EQ(data.at("purpose").as_string(), "sign_in");
    // The code is nowhere in plaintext: not in the entry, not in the outbox row;
    // it opens only with the notification service's key (RFC 7748's Bob).
    EXPECT_EQ(entry.Field("event")->find(*code), std::string::npos) << *entry.Field("event");
    EXPECT_FALSE(data.contains("code"));
    EXPECT_FALSE(data.contains("message"));
    auto opener = SealedBoxOpener::FromSecretKeyHex(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    CO_ASSERT_TRUE(opener.ok());
    auto opened = opener->Open(data.at("sealed_code").as_string());
    CO_ASSERT_OK(opened);
    EXPECT_EQ(*opened, *code);
    auto rows = co_await e.pool.Query("SELECT payload::text FROM outbox WHERE type = $1",
                                      std::string("auth.otp.requested"));
    CO_ASSERT_OK(rows);
    CO_ASSERT_TRUE(rows->Rows() >= 1);
    for (int i = 0; i < rows->Rows(); ++i) {
      EXPECT_EQ(std::string(rows->GetString(i, 0)).find(*code), std::string::npos);
    }
  });
}

TEST_F(AuthPgTest, RefreshRotatesAndReuseRevokesTheWholeSession) {
  Run([&](Env& e) -> Task<void> {
    const ClientInfo c = Client();
    auto grant = co_await SignIn(e.svc, FreshPhone(), c);
    CO_ASSERT_OK(grant);
    auto r1 = co_await e.svc.Refresh(grant->refresh_token, c);
    CO_ASSERT_OK(r1);
    EXPECT_NE(r1->refresh_token, grant->refresh_token);
    EXPECT_EQ(r1->session_id, grant->session_id);
    EXPECT_EQ(r1->user.id, grant->user.id);
    auto r2 = co_await e.svc.Refresh(r1->refresh_token, c);
    CO_ASSERT_OK(r2);

    // A stolen, already-rotated token comes back: the session dies.
    auto replay = co_await e.svc.Refresh(grant->refresh_token, c);
    CO_ASSERT_TRUE(!replay.ok());
    EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(replay.error().message.find("already used"), std::string::npos);
    auto latest = co_await e.svc.Refresh(r2->refresh_token, c);
    CO_ASSERT_TRUE(!latest.ok());
    EXPECT_NE(latest.error().message.find("revoked"), std::string::npos);
    auto auth = co_await e.svc.Authenticate(r2->access_token);
    EXPECT_FALSE(auth.ok()) << "access tokens of a revoked session fail on auth's endpoints";

    auto junk = co_await e.svc.Refresh(NewRefreshToken(), c);
    CO_ASSERT_TRUE(!junk.ok());
    EXPECT_EQ(junk.error().code, ErrorCode::kUnauthenticated);
  });
}

TEST_F(AuthPgTest, ConcurrentRefreshesOfOneTokenNeverYieldTwoLiveTokens) {
  Run([&](Env& e) -> Task<void> {
    const ClientInfo c = Client();
    auto grant = co_await SignIn(e.svc, FreshPhone(), c);
    CO_ASSERT_OK(grant);
    int ok = 0, done = 0;
    std::vector<std::string> issued;
    for (int i = 0; i < 4; ++i) {
      asio::co_spawn(
          e.ex,
          [&, token = grant->refresh_token]() -> Task<void> {
            auto r = co_await e.svc.Refresh(token, c);
            if (r.ok()) {
              ++ok;
              issued.push_back(r->refresh_token);
            }
            ++done;
          },
          asio::detached);
    }
    while (done < 4) co_await Sleep(5ms);
    EXPECT_LE(ok, 1);
    // Whoever won, the replays revoked the session: nothing issued still works.
    for (const auto& t : issued) EXPECT_FALSE((co_await e.svc.Refresh(t, c)).ok());
  });
}

TEST_F(AuthPgTest, SessionsAreCappedPerUserOldestEvicted) {
  config_.max_sessions_per_user = 3;
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    std::vector<TokenGrant> grants;
    for (int i = 0; i < 5; ++i) {
      auto g = co_await SignIn(e.svc, phone, Client());
      CO_ASSERT_OK(g);
      grants.push_back(std::move(*g));
    }
    auto page = co_await e.svc.ListSessions(CallerOf(grants.back()), std::nullopt, 50);
    CO_ASSERT_OK(page);
    CO_ASSERT_TRUE(page->sessions.size() == 3u);
    EXPECT_EQ(page->sessions[0].id, grants[4].session_id);  // newest first
    EXPECT_EQ(page->sessions[2].id, grants[2].session_id);
    EXPECT_FALSE((co_await e.svc.Refresh(grants[0].refresh_token, Client())).ok());
    EXPECT_FALSE((co_await e.svc.Refresh(grants[1].refresh_token, Client())).ok());
    EXPECT_TRUE((co_await e.svc.Refresh(grants[2].refresh_token, Client())).ok());

    // Pagination over the three.
    auto p1 = co_await e.svc.ListSessions(CallerOf(grants.back()), std::nullopt, 2);
    CO_ASSERT_OK(p1);
    CO_ASSERT_TRUE(p1->sessions.size() == 2u && p1->next_cursor.has_value());
    auto p2 = co_await e.svc.ListSessions(CallerOf(grants.back()), p1->next_cursor, 2);
    CO_ASSERT_OK(p2);
    EXPECT_EQ(p2->sessions.size(), 1u);
    EXPECT_FALSE(p2->next_cursor.has_value());
  });
}

TEST_F(AuthPgTest, OneUserCannotSeeOrRevokeAnothersSessions) {
  Run([&](Env& e) -> Task<void> {
    auto alice = co_await SignIn(e.svc, FreshPhone(), Client());
    auto bob = co_await SignIn(e.svc, FreshPhone(), Client());
    CO_ASSERT_OK(alice);
    CO_ASSERT_OK(bob);
    auto list = co_await e.svc.ListSessions(CallerOf(*bob), std::nullopt, 50);
    CO_ASSERT_OK(list);
    for (const auto& s : list->sessions) EXPECT_NE(s.id, alice->session_id);
    Status st = co_await e.svc.RevokeSession(CallerOf(*bob), alice->session_id);
    CO_ASSERT_TRUE(!st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    CO_ASSERT_OK(co_await e.svc.Refresh(alice->refresh_token, Client()));

    // Her own revocation works and stops her refresh token at once.
    auto alice2 = co_await SignIn(e.svc, alice->user.phone, Client());
    CO_ASSERT_OK(alice2);
    CO_ASSERT_OK(co_await e.svc.RevokeSession(CallerOf(*alice2), alice2->session_id));
    EXPECT_FALSE((co_await e.svc.Refresh(alice2->refresh_token, Client())).ok());
    EXPECT_FALSE((co_await e.svc.Authenticate(alice2->access_token)).ok());
  });
}

TEST_F(AuthPgTest, PasswordLoginLockoutSlowsDownButOtpStillWorks) {
  config_.login_failures_before_lock = 3;
  config_.account_failures_before_lock = 6;
  config_.login_lock_base = 2s;
  config_.login_lock_max = 4s;
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const ClientInfo home = Client();
    auto g = co_await SignIn(e.svc, phone, home);
    CO_ASSERT_OK(g);
    const std::string pw = "correct horse battery staple";
    auto too_short =
        co_await e.svc.SetPassword(CallerOf(*g), "short", std::nullopt, std::nullopt, home.ip);
    CO_ASSERT_TRUE(!too_short.ok());
    EXPECT_EQ(too_short.error().code, ErrorCode::kInvalidArgument);
    CO_ASSERT_OK(co_await FirstPassword(e.svc, *g, pw, home));
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw, home));

    // An attacker from one address: three failures, then locked (429) even with
    // the right password.
    const ClientInfo attacker = Client();
    for (int i = 0; i < 3; ++i) {
      auto r = co_await e.svc.Login(phone, "", "", "wrong password " + std::to_string(i), attacker);
      CO_ASSERT_TRUE(!r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    }
    auto locked = co_await e.svc.Login(phone, "", "", pw, attacker);
    CO_ASSERT_TRUE(!locked.ok());
    EXPECT_EQ(locked.error().code, ErrorCode::kRateLimited);
    CO_ASSERT_TRUE(locked.error().retry_after.has_value());
    EXPECT_LE(locked.error().retry_after->count(), 2);
    // The owner, elsewhere, is not locked out by that.
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw, home));
    // The lock ends by itself.
    co_await Sleep(2100ms);
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw, attacker));

    // Many addresses failing lock password sign-in account-wide, for at most
    // login_lock_max; an OTP sign-in lifts it at once.
    for (int i = 0; i < 6; ++i) {
      (void)co_await e.svc.Login(phone, "", "", "nope nope nope", Client());
    }
    auto wide = co_await e.svc.Login(phone, "", "", pw, home);
    CO_ASSERT_TRUE(!wide.ok());
    EXPECT_EQ(wide.error().code, ErrorCode::kRateLimited);
    CO_ASSERT_TRUE(wide.error().retry_after.has_value());
    EXPECT_LE(wide.error().retry_after->count(), 4);
    CO_ASSERT_OK(co_await SignIn(e.svc, phone, home));
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw, home));
  });
}

TEST_F(AuthPgTest, PasswordChangeNeedsTheCurrentOneAndEndsOtherSessions) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    auto a = co_await SignIn(e.svc, phone, Client());
    auto b = co_await SignIn(e.svc, phone, Client());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    const std::string pw1 = "first password 123", pw2 = "second password 456";
    CO_ASSERT_OK(co_await FirstPassword(e.svc, *a, pw1, Client("10.0.0.1")));
    // b was signed out by the change.
    EXPECT_FALSE((co_await e.svc.Refresh(b->refresh_token, Client())).ok());
    auto missing =
        co_await e.svc.SetPassword(CallerOf(*a), pw2, std::nullopt, std::nullopt, "10.0.0.1");
    CO_ASSERT_TRUE(!missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
    auto wrong = co_await e.svc.SetPassword(CallerOf(*a), pw2, std::string("not it at all"),
                                            std::nullopt, "10.0.0.1");
    CO_ASSERT_TRUE(!wrong.ok());
    EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
    CO_ASSERT_OK(co_await e.svc.SetPassword(CallerOf(*a), pw2, pw1, std::nullopt, "10.0.0.1"));
    EXPECT_FALSE((co_await e.svc.Login(phone, "", "", pw1, Client())).ok());
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw2, Client()));
  });
}

// A session alone (a stolen access token, or one minted from a stolen refresh
// token) cannot set a password: only a code sent to the phone for this purpose
// or the current password proves the change; a reset by code ends every session.
TEST_F(AuthPgTest, PasswordNeedsAFreshProofAndTheUserIsTold) {
  Run([&](Env& e) -> Task<void> {
    const std::string phone = FreshPhone();
    const ClientInfo c = Client();
    auto a = co_await SignIn(e.svc, phone, c);
    CO_ASSERT_OK(a);
    auto refreshed = co_await e.svc.Refresh(a->refresh_token, c);
    CO_ASSERT_OK(refreshed);
    const std::string pw = "taken over for good?";
    auto bare =
        co_await e.svc.SetPassword(CallerOf(*refreshed), pw, std::nullopt, std::nullopt, c.ip);
    CO_ASSERT_TRUE(!bare.ok());
    EXPECT_EQ(bare.error().code, ErrorCode::kInvalidArgument);
    // A sign-in code proves nothing for a password.
    auto signin_code = co_await RequestCode(e.svc, phone, c);
    CO_ASSERT_OK(signin_code);
    auto wrong_kind =
        co_await e.svc.SetPassword(CallerOf(*a), pw, std::nullopt, *signin_code, c.ip);
    CO_ASSERT_TRUE(!wrong_kind.ok());
    EXPECT_EQ(wrong_kind.error().code, ErrorCode::kPermissionDenied);
    CO_ASSERT_OK(co_await e.svc.VerifyOtp(phone, "", *signin_code, c));  // ends the cooldown
    auto code = co_await RequestCode(e.svc, phone, c, "password");
    CO_ASSERT_OK(code);
    auto wrong = co_await e.svc.SetPassword(CallerOf(*a), pw, std::nullopt, WrongCode(*code), c.ip);
    CO_ASSERT_TRUE(!wrong.ok());
    EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
    CO_ASSERT_OK(co_await e.svc.SetPassword(CallerOf(*a), pw, std::nullopt, *code, c.ip));
    // Used up.
    auto again = co_await e.svc.SetPassword(CallerOf(*a), pw, std::nullopt, *code, c.ip);
    CO_ASSERT_TRUE(!again.ok());

    // Reset by code: every session ends, the new password works.
    auto reset_code = co_await RequestCode(e.svc, phone, c, "password");
    CO_ASSERT_OK(reset_code);
    const std::string pw2 = "forgotten, then reset";
    auto bad_reset = co_await e.svc.ResetPassword(phone, "", WrongCode(*reset_code), pw2, c.ip);
    CO_ASSERT_TRUE(!bad_reset.ok());
    EXPECT_EQ(bad_reset.error().code, ErrorCode::kUnauthenticated);
    CO_ASSERT_OK(co_await e.svc.ResetPassword(phone, "", *reset_code, pw2, c.ip));
    auto dead = co_await e.svc.Authenticate(a->access_token);
    EXPECT_FALSE(dead.ok()) << "a reset ends every session";
    CO_ASSERT_OK(co_await e.svc.Login(phone, "", "", pw2, c));

    // Both changes went out to be told to the user.
    auto rows = co_await e.pool.Query(
        "SELECT payload->'data'->>'change' FROM outbox WHERE type = 'auth.password.changed' AND "
        "payload->'data'->>'user_id' = $1 ORDER BY created_at",
        a->user.id);
    CO_ASSERT_OK(rows);
    CO_ASSERT_TRUE(rows->Rows() == 2);
    EXPECT_EQ(rows->GetString(0, 0), "set");
    EXPECT_EQ(rows->GetString(1, 0), "reset");
  });
}

TEST_F(AuthPgTest, ProfileUsernameIsUniqueIgnoringCaseAndLoginWorksByUsername) {
  Run([&](Env& e) -> Task<void> {
    auto a = co_await SignIn(e.svc, FreshPhone(), Client());
    auto b = co_await SignIn(e.svc, FreshPhone(), Client());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    const std::string name = "Somchai" + std::to_string(::getpid() % 100000);
    ProfilePatch p;
    p.set_username = true;
    p.username = name;
    p.set_display_name = true;
    p.display_name = "สมชาย";
    auto u = co_await e.svc.UpdateMe(CallerOf(*a), p);
    CO_ASSERT_OK(u);
    EXPECT_EQ(u->username, name);
    EXPECT_EQ(u->display_name, "สมชาย");
    ProfilePatch clash;
    clash.set_username = true;
    std::string lower = name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    clash.username = lower;
    auto taken = co_await e.svc.UpdateMe(CallerOf(*b), clash);
    CO_ASSERT_TRUE(!taken.ok());
    EXPECT_EQ(taken.error().code, ErrorCode::kConflict);

    CO_ASSERT_OK(co_await FirstPassword(e.svc, *a, "a fine password!", Client("10.1.1.1")));
    auto by_name = co_await e.svc.Login("", "", lower, "a fine password!", Client());
    CO_ASSERT_OK(by_name);
    EXPECT_EQ(by_name->user.id, a->user.id);
    auto unknown = co_await e.svc.Login("", "", "nobody_here_x", "a fine password!", Client());
    CO_ASSERT_TRUE(!unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthenticated);
    auto no_pw = co_await e.svc.Login(b->user.phone, "", "", "a fine password!", Client());
    CO_ASSERT_TRUE(!no_pw.ok());
    EXPECT_EQ(no_pw.error().code, ErrorCode::kUnauthenticated);
  });
}

TEST_F(AuthPgTest, ContactLookupIsRateLimitedPerUser) {
  config_.lookup_per_user = {3, std::chrono::hours(1)};
  Run([&](Env& e) -> Task<void> {
    auto a = co_await SignIn(e.svc, FreshPhone(), Client());
    auto b = co_await SignIn(e.svc, FreshPhone(), Client());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    // National format falls back to the caller's country.
    const std::string national = "0" + b->user.phone.substr(3);
    auto found = co_await e.svc.LookupByPhone(CallerOf(*a), national, "", "10.9.9.9");
    CO_ASSERT_OK(found);
    CO_ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, b->user.id);
    auto none = co_await e.svc.LookupByPhone(CallerOf(*a), FreshPhone(), "", "10.9.9.9");
    CO_ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());
    CO_ASSERT_OK(co_await e.svc.LookupByPhone(CallerOf(*a), FreshPhone(), "", "10.9.9.9"));
    auto limited = co_await e.svc.LookupByPhone(CallerOf(*a), FreshPhone(), "", "10.9.9.9");
    CO_ASSERT_TRUE(!limited.ok());
    EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
  });
}

TEST_F(AuthPgTest, ContactLookupByUsernameIgnoresCaseAndSharesThePhoneLimit) {
  config_.lookup_per_user = {5, std::chrono::hours(1)};
  Run([&](Env& e) -> Task<void> {
    auto a = co_await SignIn(e.svc, FreshPhone(), Client());
    auto b = co_await SignIn(e.svc, FreshPhone(), Client());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    // Unique in this run and across runs on the same database.
    const std::string name = "Look_" + b->user.id.substr(b->user.id.size() - 12);
    ProfilePatch p;
    p.set_username = true;
    p.username = name;
    CO_ASSERT_OK(co_await e.svc.UpdateMe(CallerOf(*b), p));
    std::string lower = name, upper = name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    // 1, 2: found in any case.
    auto found = co_await e.svc.LookupByUsername(CallerOf(*a), lower, "10.9.9.8");
    CO_ASSERT_OK(found);
    CO_ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, b->user.id);
    EXPECT_EQ((*found)->username, name) << "the name as chosen, not as searched";
    auto found_upper = co_await e.svc.LookupByUsername(CallerOf(*a), upper, "10.9.9.8");
    CO_ASSERT_OK(found_upper);
    CO_ASSERT_TRUE(found_upper->has_value());
    // 3: exact match only.
    auto prefix =
        co_await e.svc.LookupByUsername(CallerOf(*a), name.substr(0, name.size() - 1), "10.9.9.8");
    CO_ASSERT_OK(prefix);
    EXPECT_FALSE(prefix->has_value());
    // 4: no username can look like this.
    auto bad = co_await e.svc.LookupByUsername(CallerOf(*a), "9lives", "10.9.9.8");
    CO_ASSERT_TRUE(!bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
    // 5: a phone lookup counts against the same limit; the sixth lookup is refused.
    CO_ASSERT_OK(co_await e.svc.LookupByPhone(CallerOf(*a), FreshPhone(), "", "10.9.9.8"));
    auto limited = co_await e.svc.LookupByUsername(CallerOf(*a), lower, "10.9.9.8");
    CO_ASSERT_TRUE(!limited.ok());
    EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
  });
}

// Runs `fn` with stdout (where the JSON logs go) captured; returns what was written.
std::string CaptureStdout(const std::function<void()>& fn) {
  std::fflush(stdout);
  char path[] = "/tmp/auth_pgtest_log_XXXXXX";
  const int fd = ::mkstemp(path);
  const int saved = ::dup(1);
  ::dup2(fd, 1);
  fn();
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  ::close(fd);
  std::string out = ReadFile(path);
  ::unlink(path);
  return out;
}

TEST_F(AuthPgTest, NoSecretOrCodeOrFullPhoneNumberIsLogged) {
  log::SetLevel(log::Level::kDebug);
  std::vector<std::string> secrets;
  std::string phone;
  const std::string logs = CaptureStdout([&] {
    Run([&](Env& e) -> Task<void> {
      phone = FreshPhone();
      const ClientInfo c = Client();
      auto code = co_await RequestCode(e.svc, phone, c);
      CO_ASSERT_OK(code);
      secrets.push_back(*code);
      (void)co_await e.svc.VerifyOtp(phone, "", WrongCode(*code), c);
      auto g = co_await e.svc.VerifyOtp(phone, "", *code, c);
      CO_ASSERT_OK(g);
      secrets.push_back(g->access_token);
      secrets.push_back(g->refresh_token);
      const std::string pw = "my very secret passphrase";
      secrets.push_back(pw);
      CO_ASSERT_OK(co_await FirstPassword(e.svc, *g, pw, c));
      const ClientInfo attacker = Client();
      for (int i = 0; i < 6; ++i) {
        const std::string guess = "guessed password " + std::to_string(i);
        secrets.push_back(guess);
        (void)co_await e.svc.Login(phone, "", "", guess, attacker);
      }
      auto l = co_await e.svc.Login(phone, "", "", pw, c);
      CO_ASSERT_OK(l);
      auto r = co_await e.svc.Refresh(l->refresh_token, c);
      CO_ASSERT_OK(r);
      secrets.push_back(r->refresh_token);
      (void)co_await e.svc.Refresh(l->refresh_token, c);  // reuse: logged as a warning
      (void)co_await e.relay->RelayOnce(e.pool, e.redis);
    });
  });
  log::SetLevel(log::Level::kInfo);
  ASSERT_FALSE(logs.empty()) << "nothing was logged: the capture is broken";
  EXPECT_NE(logs.find("otp requested"), std::string::npos);
  EXPECT_NE(logs.find("refresh token reused"), std::string::npos);
  EXPECT_NE(logs.find(MaskPhone(phone)), std::string::npos);
  ASSERT_GE(secrets.size(), 5u);
  for (const auto& s : secrets) {
    EXPECT_EQ(logs.find(s), std::string::npos)
        << "a secret was logged: " << s.substr(0, 4) << "...";
  }
  EXPECT_EQ(logs.find(phone), std::string::npos) << "a full phone number was logged";
  EXPECT_EQ(logs.find(phone.substr(1)), std::string::npos);
}

}  // namespace
}  // namespace tchat::auth
