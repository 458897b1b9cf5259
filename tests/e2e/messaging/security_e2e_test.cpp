// Security end-to-end tests of the messaging service against the running stack
// (issue 17, OWASP ASVS level 2): WebSockets end with their credentials (logout,
// session revocation, password change: auth announces them on its event stream),
// presence is seen only by people who share a conversation and were not blocked,
// and nobody is put into a group by someone they blocked. Needs
// TCHAT_TEST_MESSAGING_URL, TCHAT_TEST_JWT_KEY_FILE and TCHAT_TEST_AUTH_URL (auth
// with TCHAT_DEV_OTP=1). The rate limits are tested against replicas with low
// limits (replicas_e2e_test.cpp): the stack runs with limits for load.
#include <chrono>
#include <random>
#include <string>

#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/fixture.hpp"
#include "support/json_fields.hpp"
#include "support/users.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;
using client::WsClient;

// An account signed in through the auth service: a real session.
struct Account {
  std::string user_id;
  std::string access;
  std::string session_id;
};

class SecurityE2e : public ServiceTest {
 protected:
  SecurityE2e() : ServiceTest("TCHAT_TEST_MESSAGING_URL") {}
  void SetUp() override {
    ServiceTest::SetUp();
    auth_ = std::make_unique<BlockingApi>(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
    auth_->set_header("X-Real-IP", FreshIp());  // this test's own sign-in limits
  }

  ApiResponse Auth(const std::string& method, const std::string& path, const json::value& body,
                   const std::string& bearer = {}) {
    ApiRequest req(method, path, body.is_null() ? std::string() : json::serialize(body));
    req.bearer = bearer;
    return auth_->Send(std::move(req));
  }

  // Signs in with a one-time code (a new user for a new number).
  Account SignIn(const std::string& phone) {
    Session s = tchat::e2e::SignIn(*auth_, phone);
    Account a{s.user_id, s.access, {}};
    ApiResponse list = Auth("GET", "/v1/auth/sessions", json::value(nullptr), a.access);
    for (const auto& row : Arr(list.object(), "sessions")) {
      const json::value* cur = row.get_object().if_contains("current");
      if (cur != nullptr && cur->is_bool() && cur->get_bool()) {
        a.session_id = Str(row.get_object(), "id");
      }
    }
    EXPECT_FALSE(a.session_id.empty()) << list.raw;
    return a;
  }

  std::string Direct(User& a, const User& b) {
    auto r = a.api->Run(a.api->async().CreateDirect(b.id));
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    return Str(r.object(), "id");
  }
  std::string Group(User& owner, const std::vector<const User*>& members,
                    const std::string& title) {
    std::vector<std::string> ids;
    for (const User* m : members) ids.push_back(m->id);
    auto r = owner.api->Run(owner.api->async().CreateGroup(title, ids));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Str(r.object(), "id");
  }

  static std::string NewPhone() {
    std::random_device rd;
    std::string digits;
    for (int i = 0; i < 7; ++i) digits += static_cast<char>('0' + rd() % 10);
    return "+6681" + digits;
  }

  std::unique_ptr<BlockingWs> ConnectWith(const std::string& token) {
    auto ws = std::make_unique<BlockingWs>(io_);
    auto st = ws->Connect(url_, token);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    return ws;
  }

  // True when the socket still answers a ping.
  bool Alive(BlockingWs& ws) {
    if (!ws.Send(WsClient::PingFrame()).ok()) return false;
    return ws.NextOfType("pong", 3s).has_value();
  }

  std::unique_ptr<BlockingApi> auth_;
};

// ---------------------------------------------------------------------------
// WebSockets end with their credentials
// ---------------------------------------------------------------------------

TEST_F(SecurityE2e, LogoutClosesTheSessionsSocketsWithin2s) {
  const std::string phone = NewPhone();
  Account one = SignIn(phone);
  Account two = SignIn(phone);  // a second device: another session
  ASSERT_FALSE(one.access.empty());
  ASSERT_EQ(one.user_id, two.user_id);
  auto ws_one = ConnectWith(one.access);
  auto ws_one_again = ConnectWith(one.access);
  auto ws_two = ConnectWith(two.access);
  ASSERT_TRUE(Alive(*ws_one));

  auto out = Auth("POST", "/v1/auth/logout", json::value(nullptr), one.access);
  ASSERT_EQ(out.status, 204) << out.raw;
  const auto logged_out = std::chrono::steady_clock::now();
  EXPECT_TRUE(ws_one->WaitClosed(2s)) << "the logged-out session's socket is still open";
  EXPECT_TRUE(ws_one_again->WaitClosed(2s));
  EXPECT_LE(std::chrono::steady_clock::now() - logged_out, 2s);
  EXPECT_EQ(ws_one->close_code(), 4001);
  EXPECT_EQ(ws_one_again->close_code(), 4001);
  EXPECT_TRUE(Alive(*ws_two)) << "another session's socket must stay";

  // Its token (still unexpired) cannot open a new socket.
  auto again = std::make_unique<BlockingWs>(io_);
  (void)again->Connect(url_, one.access, {}, 5s);
  EXPECT_TRUE(again->WaitClosed(3s));
  EXPECT_EQ(again->close_code(), 4001);
}

TEST_F(SecurityE2e, RevokingASessionClosesItsSockets) {
  const std::string phone = NewPhone();
  Account one = SignIn(phone);
  Account two = SignIn(phone);
  auto ws_one = ConnectWith(one.access);
  auto ws_two = ConnectWith(two.access);
  ASSERT_TRUE(Alive(*ws_one));
  auto r = Auth("DELETE", "/v1/auth/sessions/" + one.session_id, json::value(nullptr), two.access);
  ASSERT_EQ(r.status, 204) << r.raw;
  EXPECT_TRUE(ws_one->WaitClosed(2s));
  EXPECT_EQ(ws_one->close_code(), 4001);
  EXPECT_TRUE(Alive(*ws_two));
}

TEST_F(SecurityE2e, APasswordChangeClosesTheOtherSessionsSockets) {
  const std::string phone = NewPhone();
  Account one = SignIn(phone);
  Account two = SignIn(phone);
  auto ws_one = ConnectWith(one.access);
  auto ws_two = ConnectWith(two.access);
  ASSERT_TRUE(Alive(*ws_one));
  // A password change needs a proof besides the session: a code sent for it.
  const std::string code = RequestDevCode(*auth_, phone, "", "password");
  auto r =
      Auth("PUT", "/v1/auth/password",
           json::object{{"password", "correct horse battery 9"}, {"otp_code", code}}, two.access);
  ASSERT_EQ(r.status, 204) << r.raw;
  EXPECT_TRUE(ws_one->WaitClosed(2s)) << "the other session's socket is still open";
  EXPECT_EQ(ws_one->close_code(), 4001);
  EXPECT_TRUE(Alive(*ws_two)) << "the session that changed the password keeps its socket";
}

// After a password change the other sessions' access tokens (valid for up to
// 15 minutes) can neither open a socket nor renew one: auth.sessions.revoked
// lists the sessions it ended.
TEST_F(SecurityE2e, APasswordChangeRefusesTheOtherSessionsTokens) {
  const std::string phone = NewPhone();
  Account one = SignIn(phone);
  Account two = SignIn(phone);
  auto ws_one = ConnectWith(one.access);
  auto ws_two = ConnectWith(two.access);
  ASSERT_TRUE(Alive(*ws_one));
  const std::string code = RequestDevCode(*auth_, phone, "", "password");
  auto r =
      Auth("PUT", "/v1/auth/password",
           json::object{{"password", "correct horse battery 7"}, {"otp_code", code}}, two.access);
  ASSERT_EQ(r.status, 204) << r.raw;
  // The open socket closing shows that this replica has the revocation.
  ASSERT_TRUE(ws_one->WaitClosed(2s)) << "the other session's socket is still open";

  auto again = std::make_unique<BlockingWs>(io_);
  (void)again->Connect(url_, one.access, {}, 5s);
  EXPECT_TRUE(again->WaitClosed(3s)) << "a revoked session's token opened a socket";
  EXPECT_EQ(again->close_code(), 4001);
  // Nor does it renew a socket (of the session that stays).
  ASSERT_TRUE(ws_two->Send(R"({"type":"auth","access_token":")" + one.access + "\"}").ok());
  auto refused = ws_two->NextOfType("error", 3s);
  ASSERT_TRUE(refused) << "the revoked session's token renewed a socket";
  EXPECT_EQ(Str(Obj(*refused, "error"), "code"), "unauthenticated");
  EXPECT_TRUE(Alive(*ws_two)) << "the session that changed the password keeps its socket";
  auto fresh = ConnectWith(two.access);
  EXPECT_TRUE(Alive(*fresh)) << "the session that stays still opens sockets";
}

// The per-user session cap (AUTH_MAX_SESSIONS_PER_USER, 10 in the test stack)
// ends the oldest session when an eleventh signs in: it is announced like any
// revocation, so its sockets close within 2 s and its token opens no new one.
TEST_F(SecurityE2e, ASessionEvictedByTheCapClosesItsSockets) {
  constexpr int kCap = 10;
  const std::string phone = NewPhone();
  Account oldest = SignIn(phone);
  const std::string pw = "evicted by the cap " + phone.substr(5);
  const std::string code = RequestDevCode(*auth_, phone, "", "password");
  auto set = Auth("PUT", "/v1/auth/password", json::object{{"password", pw}, {"otp_code", code}},
                  oldest.access);
  ASSERT_EQ(set.status, 204) << set.raw;
  auto ws_oldest = ConnectWith(oldest.access);
  ASSERT_TRUE(Alive(*ws_oldest));
  std::string newest;
  for (int i = 1; i < kCap; ++i) {  // sessions 2..10: the cap is reached, nothing ends
    auto login = Auth("POST", "/v1/auth/login", json::object{{"phone", phone}, {"password", pw}});
    ASSERT_EQ(login.status, 200) << login.raw;
    newest = Str(login.object(), "access_token");
  }
  auto ws_newest = ConnectWith(newest);
  ASSERT_TRUE(Alive(*ws_oldest)) << "a session within the cap must stay";

  auto login = Auth("POST", "/v1/auth/login", json::object{{"phone", phone}, {"password", pw}});
  ASSERT_EQ(login.status, 200) << login.raw;  // the eleventh: the oldest is evicted
  const auto evicted = std::chrono::steady_clock::now();
  EXPECT_TRUE(ws_oldest->WaitClosed(2s)) << "the evicted session's socket is still open";
  EXPECT_LE(std::chrono::steady_clock::now() - evicted, 2s);
  EXPECT_EQ(ws_oldest->close_code(), 4001);
  EXPECT_TRUE(Alive(*ws_newest)) << "the sessions within the cap keep their sockets";
  auto again = std::make_unique<BlockingWs>(io_);
  (void)again->Connect(url_, oldest.access, {}, 5s);
  EXPECT_TRUE(again->WaitClosed(3s)) << "the evicted session's token opened a socket";
  EXPECT_EQ(again->close_code(), 4001);
}

TEST_F(SecurityE2e, AnExpiredTokenClosesTheSocketUnlessRenewed) {
  User a = NewUser();
  const std::string short_lived = Minter().Mint(a.id, 3s);
  auto expiring = ConnectWith(short_lived);
  auto renewed = ConnectWith(Minter().Mint(a.id, 3s));
  ASSERT_TRUE(
      renewed->Send(R"({"type":"auth","access_token":")" + Minter().Mint(a.id) + "\"}").ok());
  auto ok = renewed->NextOfType("auth.ok", 3s);
  ASSERT_TRUE(ok) << "no auth.ok";
  EXPECT_FALSE(Str(*ok, "expires_at").empty());
  // Another user's token does not renew the socket.
  User b = NewUser();
  ASSERT_TRUE(
      expiring->Send(R"({"type":"auth","access_token":")" + Minter().Mint(b.id) + "\"}").ok());
  auto refused = expiring->NextOfType("error", 3s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(Str(Obj(*refused, "error"), "code"), "permission_denied");

  EXPECT_TRUE(expiring->WaitClosed(6s)) << "the socket outlived its token";
  EXPECT_EQ(expiring->close_code(), 4001);
  EXPECT_TRUE(Alive(*renewed)) << "a renewed socket must stay open";
}

// ---------------------------------------------------------------------------
// Presence is for people who share a conversation, and not for the blocked
// ---------------------------------------------------------------------------

TEST_F(SecurityE2e, PresenceIsHiddenFromStrangersAndFromTheBlocked) {
  User a = NewUser(), friend_ = NewUser(), stranger = NewUser(), blocked = NewUser();
  (void)Direct(a, friend_);
  (void)Group(a, {&blocked}, "with the blocked");
  ASSERT_EQ(a.api->Run(a.api->async().Block(blocked.id)).status, 204);
  auto wb = Connect(blocked);
  auto wa = Connect(a);
  auto wa_closed = Connect(a);  // a second device, closed below: last_seen is written
  wa_closed->Close();

  auto seen_by = [&](User& viewer) {
    auto r = viewer.api->Run(viewer.api->async().Presence({a.id}));
    EXPECT_EQ(r.status, 200) << r.raw;
    const auto& list = Arr(r.object(), "presence");
    return list.size() == 1 ? list[0].get_object() : json::object{};
  };
  EXPECT_TRUE(seen_by(friend_).at("online").as_bool());
  for (User* u : {&stranger, &blocked}) {
    const json::object p = seen_by(*u);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(Str(p, "user_id"), a.id);
    EXPECT_FALSE(p.at("online").as_bool()) << "presence shown to " << u->id;
    EXPECT_TRUE(p.at("last_seen_at").is_null());
  }
  // Nor does the blocked member of a shared group get a's presence events.
  wa->Close();
  EXPECT_TRUE(wb->CollectType("presence", 1500ms).empty());
}

// ---------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------

TEST_F(SecurityE2e, NobodyIsPutIntoAGroupBySomeoneTheyBlocked) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  ASSERT_EQ(b.api->Run(b.api->async().Block(a.id)).status, 204);
  auto refused = a.api->Run(a.api->async().CreateGroup("g", {b.id, c.id}));
  EXPECT_EQ(refused.status, 403) << refused.raw;
  auto made = a.api->Run(a.api->async().CreateGroup("g", {c.id}));
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string g = Str(made.object(), "id");
  auto add = a.api->Run(a.api->async().AddMembers(g, {b.id}));
  EXPECT_EQ(add.status, 403) << add.raw;
  // The other way round is fine: b blocked a, not the reverse.
  auto theirs = b.api->Run(b.api->async().CreateGroup("g2", {c.id}));
  ASSERT_EQ(theirs.status, 201) << theirs.raw;
}

}  // namespace
}  // namespace tchat::e2e
