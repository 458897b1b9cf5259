// Black-box tests of the running notification service (docs/api/openapi.yaml, notification, issue
// 6): its HTTP API, and the notifications it sends for events published on the Redis streams,
// observed at a local HTTP sink that stands in for the providers.
//
// Environment (all required; the test fails when one is missing):
//   TCHAT_TEST_NOTIFICATION_URL   the service, e.g. http://127.0.0.1:18084
//   TCHAT_TEST_NOTIFICATION_SINK  where this test listens, e.g. 127.0.0.1:18294; the
//                                 service runs with TCHAT_PUSH_WEBHOOK_URL=http://<sink>/push
//                                 and TCHAT_SMS_WEBHOOK_URL=http://<sink>/sms
//   TCHAT_TEST_REDIS_URL          the Redis holding the event streams
//   TCHAT_TEST_JWT_KEY_FILE       signing key of the JWKS the service trusts
//   TCHAT_TEST_ADMIN_TOKEN        the service's TCHAT_ADMIN_TOKEN
//   TCHAT_TEST_AUTH_URL           auth (dev OTP on, same Redis), for the OTP end-to-end test
//   TCHAT_TEST_NOTIFICATION_SEAL_PUBLIC_KEY  the key OTP codes are sealed to (secrets.env)
//   TCHAT_TEST_PG_URL             the stack's PostgreSQL (tchat_auth, tchat_notification)
// The service must run with its default collapse window (1 s) or shorter retry
// settings; the tests allow for the defaults.
#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <tchat/client/blocking.hpp>
#include <tchat/core/events/streams.hpp>
#include <tchat/core/sealed_box.hpp>
#include <tchat/core/time.hpp>

#include "sink.hpp"
#include "support/env.hpp"
#include "support/redis.hpp"
#include "support/users.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;
using client::ApiRequest;
using client::ApiResponse;
using client::BlockingApi;

constexpr auto kWait = 15s;  // generous: a loaded CI machine

// A Thai mobile number no earlier run used (auth limits codes per number per
// hour, and std::rand() repeats its numbers in every run).
std::string FreshThaiPhone() {
  static std::mt19937 rng(std::random_device{}());
  return "+6681" + std::to_string(1000000 + rng() % 8999999);
}

// An OTP code as auth sends it: sealed to the notification service's key.
std::string Sealed(std::string_view code) {
  static const SealedBoxSender sender =
      SealedBoxSender::FromPublicKeyHex(RequireEnv("TCHAT_TEST_NOTIFICATION_SEAL_PUBLIC_KEY"))
          .value();
  return sender.Seal(code);
}

// The rows `sql` returns, each as the text of its first column, from database
// `db` of the stack's PostgreSQL.
std::vector<std::string> PgRows(const std::string& db, const std::string& sql,
                                const std::string& param) {
  std::string url = RequireEnv("TCHAT_TEST_PG_URL");
  const auto slash = url.find('/', url.find("://") + 3);
  const auto q = url.find('?', slash);
  url = url.substr(0, slash) + "/" + db + (q == std::string::npos ? "" : url.substr(q));
  PGconn* c = PQconnectdb(url.c_str());
  std::vector<std::string> out;
  if (PQstatus(c) == CONNECTION_OK) {
    const char* params[] = {param.c_str()};
    PGresult* r = PQexecParams(c, sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    } else {
      ADD_FAILURE() << PQresultErrorMessage(r);
    }
    PQclear(r);
  } else {
    ADD_FAILURE() << "cannot connect to " << db << ": " << PQerrorMessage(c);
  }
  PQfinish(c);
  return out;
}

class NotificationE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_ = std::make_unique<BlockingApi>(io_, RequireEnv("TCHAT_TEST_NOTIFICATION_URL"));
    sink_ = std::make_unique<HttpSink>(RequireEnv("TCHAT_TEST_NOTIFICATION_SINK"));
    redis_ = std::make_unique<Redis>(RequireEnv("TCHAT_TEST_REDIS_URL"));
    admin_ = RequireEnv("TCHAT_TEST_ADMIN_TOKEN");
  }
  static void TearDownTestSuite() {
    sink_.reset();
    redis_.reset();
    api_.reset();
  }

  static User NewUser() { return MintUser(); }
  // A request to `api` (another service: auth); `bearer` empty: no credential.
  static ApiResponse CallOn(BlockingApi& api, const std::string& method, const std::string& target,
                            const std::string& bearer = {}, const std::string& body = {}) {
    ApiRequest request(method, target, body);
    request.bearer = bearer;
    return api.Send(std::move(request));
  }
  // A request to the notification service.
  static ApiResponse Call(const std::string& method, const std::string& target,
                          const std::string& bearer = {}, const std::string& body = {}) {
    return CallOn(*api_, method, target, bearer, body);
  }
  // Registers a device; returns {device id, push token}.
  static std::pair<std::string, std::string> AddDevice(const User& u,
                                                       const std::string& platform = "android") {
    const std::string push_token = "tok-" + NewUserId();
    auto r = Call("POST", "/v1/devices", u.token,
                  ToJson(json::object{{"platform", platform}, {"token", push_token}}));
    EXPECT_EQ(r.status, 201) << r.raw;
    return {std::string(r.object().at("id").as_string()), push_token};
  }
  static void SetPrefs(const User& u, const json::object& prefs) {
    auto r = Call("PUT", "/v1/notification-preferences", u.token, ToJson(prefs));
    ASSERT_EQ(r.status, 200) << r.raw;
  }
  static json::object Message(const std::string& conversation, const User& sender,
                              const std::vector<std::string>& recipients,
                              const std::string& preview,
                              const std::string& sender_name = "Somchai") {
    json::array rs;
    for (const auto& r : recipients) rs.push_back(json::string(r));
    return json::object{{"conversation_id", conversation},
                        {"message_id", NewUserId()},
                        {"seq", 1},
                        {"sender_id", sender.id},
                        {"sender_name", sender_name},
                        {"recipients", std::move(rs)},
                        {"preview", preview},
                        {"type", "text"}};
  }
  static json::object Transfer(const User& from, const User& to, std::int64_t amount,
                               const std::string& currency) {
    return json::object{{"transfer", json::object{{"id", NewUserId()},
                                                  {"from_user_id", from.id},
                                                  {"to_user_id", to.id},
                                                  {"amount", amount},
                                                  {"currency", currency},
                                                  {"note", "lunch"},
                                                  {"conversation_id", NewUserId()}}}};
  }
  static std::string Str(const SinkRequest& r, const char* field) {
    auto it = r.body.find(field);
    return it != r.body.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                         : std::string();
  }
  static std::string DataStr(const SinkRequest& r, const char* field) {
    auto it = r.body.find("data");
    if (it == r.body.end() || !it->value().is_object()) return {};
    auto f = it->value().as_object().find(field);
    return f != it->value().as_object().end() && f->value().is_string()
               ? std::string(f->value().as_string())
               : std::string();
  }
  // "HH:MM" of now + `offset` in a zone with a fixed offset from UTC.
  static std::string ClockIn(int utc_offset_minutes, std::chrono::minutes offset) {
    const auto now = std::chrono::system_clock::now() + offset;
    const auto mins = std::chrono::floor<std::chrono::minutes>(now.time_since_epoch()).count() +
                      utc_offset_minutes;
    const long day_min = ((mins % 1440) + 1440) % 1440;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", day_min / 60, day_min % 60);
    return buf;
  }

  // The user's inbox (GET /v1/notifications + `query`) once `done` holds for it;
  // the last answer when kWait runs out.
  static json::object InboxWhen(const User& u, const std::function<bool(const json::object&)>& done,
                                const std::string& query = "") {
    json::object last;
    const auto until = std::chrono::steady_clock::now() + kWait;
    while (true) {
      auto r = Call("GET", "/v1/notifications" + query, u.token);
      if (r.status == 200 && r.body.is_object()) {
        last = r.body.as_object();
        if (done(last)) break;
      }
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(100ms);
    }
    return last;
  }
  static json::object Inbox(const User& u, const std::string& query = "") {
    auto r = Call("GET", "/v1/notifications" + query, u.token);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body.is_object() ? r.body.as_object() : json::object{};
  }
  static std::vector<json::object> Items(const json::object& inbox) {
    std::vector<json::object> out;
    if (auto it = inbox.find("notifications"); it != inbox.end() && it->value().is_array()) {
      for (const auto& n : it->value().as_array()) out.push_back(n.as_object());
    }
    return out;
  }
  static const json::object& Data(const json::object& item) { return item.at("data").as_object(); }
  static std::string ItemStr(const json::object& item, const char* field) {
    auto it = item.find(field);
    return it != item.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                       : std::string();
  }
  // The message count of the user's unread "message" entry of `conversation` (0: none).
  static std::int64_t UnreadCount(const json::object& inbox, const std::string& conversation) {
    for (const auto& n : Items(inbox)) {
      if (n.at("kind") == "message" && n.at("read") == false &&
          Data(n).at("conversation_id") == json::value(conversation)) {
        return Data(n).at("count").as_int64();
      }
    }
    return 0;
  }
  // A message.created envelope with a given seq.
  static json::object MessageEvent(const std::string& conversation, const User& sender,
                                   const std::vector<std::string>& recipients,
                                   const std::string& preview, std::int64_t seq) {
    json::object m = Message(conversation, sender, recipients, preview);
    m["seq"] = seq;
    return Envelope("message.created", std::move(m));
  }

  static boost::asio::io_context io_;
  static std::unique_ptr<BlockingApi> api_;
  static std::unique_ptr<HttpSink> sink_;
  static std::unique_ptr<Redis> redis_;
  static std::string admin_;
};

boost::asio::io_context NotificationE2E::io_;
std::unique_ptr<BlockingApi> NotificationE2E::api_;
std::unique_ptr<HttpSink> NotificationE2E::sink_;
std::unique_ptr<Redis> NotificationE2E::redis_;
std::string NotificationE2E::admin_;

constexpr int kBangkok = 7 * 60;  // UTC+7, no DST
constexpr int kManila = 8 * 60;   // UTC+8, no DST

// ---------------------------------------------------------------- devices

TEST_F(NotificationE2E, DevicesRegisterListDeleteEachUserOnlyTheirOwn) {
  User a = NewUser(), b = NewUser();
  auto [id1, tok1] = AddDevice(a, "android");
  auto [id2, tok2] = AddDevice(a, "ios");
  // The same token again is the same device (201, same id).
  auto again = Call("POST", "/v1/devices", a.token,
                    ToJson(json::object{{"platform", "android"}, {"token", tok1}}));
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.object().at("id").as_string(), id1);

  auto list = Call("GET", "/v1/devices", a.token);
  ASSERT_EQ(list.status, 200);
  const auto& devices = list.object().at("devices").as_array();
  ASSERT_EQ(devices.size(), 2u);
  std::set<std::string> platforms;
  for (const auto& d : devices)
    platforms.insert(std::string(d.as_object().at("platform").as_string()));
  EXPECT_EQ(platforms, (std::set<std::string>{"android", "ios"}));

  // b sees none of a's devices and cannot delete them.
  EXPECT_EQ(Call("GET", "/v1/devices", b.token).object().at("devices").as_array().size(), 0u);
  EXPECT_EQ(Call("DELETE", "/v1/devices/" + id1, b.token).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/devices/" + id1, a.token).status, 204);
  EXPECT_EQ(Call("DELETE", "/v1/devices/" + id1, a.token).status, 404);
  EXPECT_EQ(Call("GET", "/v1/devices", a.token).object().at("devices").as_array().size(), 1u);

  // A token registered by another account does not move silently (issue 17):
  // 409, and a keeps it until a removes it (or signs out on that device).
  auto moved = Call("POST", "/v1/devices", b.token,
                    ToJson(json::object{{"platform", "ios"}, {"token", tok2}}));
  ASSERT_EQ(moved.status, 409) << moved.raw;
  EXPECT_EQ(Call("GET", "/v1/devices", a.token).object().at("devices").as_array().size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/devices", b.token).object().at("devices").as_array().size(), 0u);
  EXPECT_EQ(Call("DELETE", "/v1/devices/" + id2, a.token).status, 204);
  auto freed = Call("POST", "/v1/devices", b.token,
                    ToJson(json::object{{"platform", "ios"}, {"token", tok2}}));
  ASSERT_EQ(freed.status, 201) << freed.raw;
  EXPECT_EQ(Call("GET", "/v1/devices", b.token).object().at("devices").as_array().size(), 1u);
}

// Push devices belong to the session that registered them (issue 17): logging
// out, or revoking the session from another device, removes its devices; the
// other sessions' devices stay.
TEST_F(NotificationE2E, EndingASessionRemovesItsDevices) {
  BlockingApi auth(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
  const std::string phone = FreshThaiPhone();
  auto sign_in = [&]() {
    auto r =
        CallOn(auth, "POST", "/v1/auth/otp/request", {}, ToJson(json::object{{"phone", phone}}));
    EXPECT_EQ(r.status, 202) << r.raw;
    auto v = CallOn(auth, "POST", "/v1/auth/otp/verify", {},
                    ToJson(json::object{{"phone", phone}, {"code", r.object().at("dev_code")}}));
    EXPECT_EQ(v.status, 200) << v.raw;
    return User{std::string(v.object().at("user").as_object().at("id").as_string()),
                std::string(v.object().at("access_token").as_string()), nullptr};
  };
  User one = sign_in(), two = sign_in(), three = sign_in();
  auto [d1, t1] = AddDevice(one);
  auto [d2, t2] = AddDevice(two, "ios");
  auto [d3, t3] = AddDevice(three, "web");
  auto count = [&](const User& u) {
    return Call("GET", "/v1/devices", u.token).object().at("devices").as_array().size();
  };
  ASSERT_EQ(count(three), 3u);
  ASSERT_EQ(CallOn(auth, "POST", "/v1/auth/logout", one.token).status, 204);
  // The session of `two`, revoked from `three`.
  auto sessions = CallOn(auth, "GET", "/v1/auth/sessions", three.token);
  ASSERT_EQ(sessions.status, 200) << sessions.raw;
  std::string sid_two;
  for (const auto& s : sessions.object().at("sessions").as_array()) {
    const auto& o = s.as_object();
    if (!o.at("current").as_bool() && sid_two.empty())
      sid_two = std::string(o.at("id").as_string());
  }
  ASSERT_FALSE(sid_two.empty());
  ASSERT_EQ(CallOn(auth, "DELETE", "/v1/auth/sessions/" + sid_two, three.token).status, 204);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = count(three) == 1u;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(gone) << "the ended sessions' devices are still registered";
  auto left = Call("GET", "/v1/devices", three.token).object().at("devices").as_array();
  EXPECT_EQ(left.at(0).as_object().at("id").as_string(), d3);
  // A push to the user now reaches only the device of the live session.
  User sender = NewUser();
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.transfer.completed", Transfer(sender, three, 5, "THB")));
  ASSERT_TRUE(sink_->WaitForCount("token", t3, 1, kWait));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(sink_->Matching("token", t1).empty());
  EXPECT_TRUE(sink_->Matching("token", t2).empty());
}

// The per-user session cap (AUTH_MAX_SESSIONS_PER_USER, 10 in the test stack)
// ends the oldest session when an eleventh signs in: auth announces it
// (auth.session.revoked, reason "evicted") and its devices go, as at a logout.
TEST_F(NotificationE2E, ASessionEvictedByTheCapLosesItsDevices) {
  constexpr int kCap = 10;
  BlockingApi auth(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
  auth.set_header("X-Real-IP", FreshIp());
  const std::string phone = FreshThaiPhone();
  auto code = [&](const std::string& purpose) {
    auto r = CallOn(auth, "POST", "/v1/auth/otp/request", {},
                    ToJson(json::object{{"phone", phone}, {"purpose", purpose}}));
    EXPECT_EQ(r.status, 202) << r.raw;
    return std::string(r.object().at("dev_code").as_string());
  };
  auto v = CallOn(auth, "POST", "/v1/auth/otp/verify", {},
                  ToJson(json::object{{"phone", phone}, {"code", code("sign_in")}}));
  ASSERT_EQ(v.status, 200) << v.raw;
  User oldest{std::string(v.object().at("user").as_object().at("id").as_string()),
              std::string(v.object().at("access_token").as_string()), nullptr};
  const std::string pw = "evicted device " + phone.substr(4);
  auto put = CallOn(auth, "PUT", "/v1/auth/password", oldest.token,
                    ToJson(json::object{{"password", pw}, {"otp_code", code("password")}}));
  ASSERT_EQ(put.status, 204) << put.raw;
  auto [d_old, t_old] = AddDevice(oldest);
  auto login = [&]() {
    auto r = CallOn(auth, "POST", "/v1/auth/login", {},
                    ToJson(json::object{{"phone", phone}, {"password", pw}}));
    EXPECT_EQ(r.status, 200) << r.raw;
    return User{oldest.id, std::string(r.object().at("access_token").as_string()), nullptr};
  };
  User newest;
  for (int i = 1; i < kCap; ++i) newest = login();  // sessions 2..10: within the cap
  auto [d_new, t_new] = AddDevice(newest, "ios");
  auto count = [&]() {
    return Call("GET", "/v1/devices", newest.token).object().at("devices").as_array().size();
  };
  ASSERT_EQ(count(), 2u);
  (void)login();  // the eleventh: the oldest session is evicted
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = count() == 1u;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(gone) << "the evicted session's device is still registered";
  auto left = Call("GET", "/v1/devices", newest.token).object().at("devices").as_array();
  EXPECT_EQ(left.at(0).as_object().at("id").as_string(), d_new);
  EXPECT_NE(d_old, d_new);
  EXPECT_NE(t_old, t_new);
}

TEST_F(NotificationE2E, DevicesRejectBadInputAndMissingToken) {
  User a = NewUser();
  EXPECT_EQ(Call("GET", "/v1/devices").status, 401);
  EXPECT_EQ(Call("POST", "/v1/devices", a.token, R"({"platform":"nokia","token":"x"})").status,
            400);
  EXPECT_EQ(Call("POST", "/v1/devices", a.token, R"({"platform":"ios","token":""})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/devices", a.token, R"({"platform":"ios"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/devices", a.token, R"({"platform":"ios","token":"a b"})").status,
            400);
  EXPECT_EQ(Call("POST", "/v1/devices", a.token, "not json").status, 400);
  EXPECT_EQ(Call("DELETE", "/v1/devices/not-a-uuid", a.token).status, 404);
}

// ---------------------------------------------------------------- preferences

TEST_F(NotificationE2E, PreferencesDefaultsPutAndValidation) {
  User a = NewUser();
  auto def = Call("GET", "/v1/notification-preferences", a.token);
  ASSERT_EQ(def.status, 200);
  EXPECT_EQ(def.object().at("push_enabled"), true);
  EXPECT_EQ(def.object().at("show_previews"), true);
  EXPECT_TRUE(def.object().at("quiet_hours").is_null());
  EXPECT_EQ(def.object().at("muted_conversations").as_array().size(), 0u);
  EXPECT_EQ(def.object().at("locale"), "en");
  EXPECT_EQ(def.object().at("timezone"), "Asia/Bangkok");

  const std::string conv = NewUserId();
  auto put =
      Call("PUT", "/v1/notification-preferences", a.token,
           ToJson(json::object{
               {"push_enabled", false},
               {"show_previews", false},
               {"quiet_hours",
                json::object{{"start", "22:00"}, {"end", "07:00"}, {"timezone", "Asia/Manila"}}},
               {"muted_conversations",
                json::array{json::object{{"conversation_id", conv}, {"until", nullptr}}}},
               {"locale", "th-TH"}}));
  ASSERT_EQ(put.status, 200) << put.raw;
  auto got = Call("GET", "/v1/notification-preferences", a.token);
  const auto& p = got.object();
  EXPECT_EQ(p.at("push_enabled"), false);
  EXPECT_EQ(p.at("show_previews"), false);
  EXPECT_EQ(p.at("locale"), "th");
  EXPECT_EQ(p.at("quiet_hours").as_object().at("start"), "22:00");
  EXPECT_EQ(p.at("quiet_hours").as_object().at("end"), "07:00");
  EXPECT_EQ(p.at("quiet_hours").as_object().at("timezone"), "Asia/Manila");
  ASSERT_EQ(p.at("muted_conversations").as_array().size(), 1u);
  EXPECT_EQ(p.at("muted_conversations").as_array()[0].as_object().at("conversation_id"),
            json::value(conv));

  // A partial PUT keeps the rest; null clears quiet hours.
  ASSERT_EQ(Call("PUT", "/v1/notification-preferences", a.token,
                 R"({"push_enabled":true,"quiet_hours":null})")
                .status,
            200);
  auto after = Call("GET", "/v1/notification-preferences", a.token).object();
  EXPECT_EQ(after.at("push_enabled"), true);
  EXPECT_EQ(after.at("show_previews"), false);
  EXPECT_TRUE(after.at("quiet_hours").is_null());
  EXPECT_EQ(after.at("muted_conversations").as_array().size(), 1u);

  // Another user's preferences are untouched.
  User b = NewUser();
  EXPECT_EQ(Call("GET", "/v1/notification-preferences", b.token).object().at("show_previews"),
            true);

  for (const char* bad :
       {R"({"quiet_hours":{"start":"25:00","end":"07:00"}})",
        R"({"quiet_hours":{"start":"22:00","end":"22:00"}})",
        R"({"quiet_hours":{"start":"22:00","end":"07:00","timezone":"Mars/Base"}})",
        R"({"quiet_hours":"always"})", R"({"timezone":"Nowhere/City"})", R"({"locale":"klingon"})",
        R"({"push_enabled":"yes"})", R"({"muted_conversations":[{"conversation_id":""}]})",
        R"({"muted_conversations":[{"conversation_id":"c","until":"tomorrow"}]})", "[1,2]"}) {
    EXPECT_EQ(Call("PUT", "/v1/notification-preferences", a.token, bad).status, 400) << bad;
  }
}

// ---------------------------------------------------------------- message rules

TEST_F(NotificationE2E, MessagePushGoesToOfflineRecipientsNotSenderNorOnline) {
  User sender = NewUser(), offline = NewUser(), online = NewUser();
  auto [sdev, stok] = AddDevice(sender);
  auto [odev, otok] = AddDevice(offline);
  auto [ndev, ntok] = AddDevice(online);
  // Messaging's presence: a sorted set of sessions scored with their expiry (ms).
  const auto expiry = std::chrono::duration_cast<std::chrono::milliseconds>(
                          (std::chrono::system_clock::now() + 60s).time_since_epoch())
                          .count();
  redis_->Command({"ZADD", "tchat:rt:presence:" + online.id, std::to_string(expiry), "node-1"});
  // An expired session (a crashed replica) does not count.
  User stale = NewUser();
  auto [xdev, xtok] = AddDevice(stale);
  redis_->Command(
      {"ZADD", "tchat:rt:presence:" + stale.id, std::to_string(expiry - 120000), "node-2"});
  const std::string conv = NewUserId();
  redis_->Publish(
      events::kMessagingStream,
      Envelope("message.created",
               Message(conv, sender, {sender.id, offline.id, online.id, stale.id}, "hello there")));
  ASSERT_TRUE(sink_->WaitForCount("token", otok, 1, kWait));
  auto got = sink_->Matching("token", otok);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Str(got[0], "title"), "Somchai");
  EXPECT_EQ(Str(got[0], "body"), "hello there");
  EXPECT_EQ(Str(got[0], "collapse_key"), conv);
  EXPECT_EQ(DataStr(got[0], "conversation_id"), conv);
  EXPECT_EQ(Str(got[0], "user_id"), offline.id);
  EXPECT_FALSE(Str(got[0], "id").empty());
  EXPECT_EQ(got[0].idempotency_key, Str(got[0], "id"));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(sink_->Matching("token", stok).empty()) << "the sender got a push";
  EXPECT_TRUE(sink_->Matching("token", ntok).empty()) << "an online user got a push";
  EXPECT_TRUE(sink_->WaitForCount("token", xtok, 1, kWait))
      << "an expired session counted as online";
  redis_->Command({"DEL", "tchat:rt:presence:" + online.id, "tchat:rt:presence:" + stale.id});
}

TEST_F(NotificationE2E, MessagePushHonoursPushDisabledMuteAndExpiredMute) {
  User sender = NewUser(), off = NewUser(), muted = NewUser(), was_muted = NewUser(),
       control = NewUser();
  auto [d1, t_off] = AddDevice(off);
  auto [d2, t_muted] = AddDevice(muted);
  auto [d3, t_was] = AddDevice(was_muted);
  auto [d4, t_ctl] = AddDevice(control);
  const std::string conv = NewUserId();
  SetPrefs(off, json::object{{"push_enabled", false}});
  SetPrefs(muted,
           json::object{{"muted_conversations",
                         json::array{json::object{
                             {"conversation_id", conv},
                             {"until", FormatRfc3339Ms(std::chrono::system_clock::now() + 1h)}}}}});
  SetPrefs(was_muted,
           json::object{{"muted_conversations",
                         json::array{json::object{
                             {"conversation_id", conv},
                             {"until", FormatRfc3339Ms(std::chrono::system_clock::now() - 1h)}}}}});
  redis_->Publish(
      events::kMessagingStream,
      Envelope("message.created",
               Message(conv, sender, {off.id, muted.id, was_muted.id, control.id}, "hi")));
  ASSERT_TRUE(sink_->WaitForCount("token", t_ctl, 1, kWait));
  ASSERT_TRUE(sink_->WaitForCount("token", t_was, 1, kWait)) << "an expired mute still silenced";
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(sink_->Matching("token", t_off).empty()) << "push_enabled=false got a push";
  EXPECT_TRUE(sink_->Matching("token", t_muted).empty()) << "muted conversation got a push";
}

TEST_F(NotificationE2E, QuietHoursAcrossMidnightInTheUsersTimeZone) {
  User sender = NewUser(), manila = NewUser(), bangkok = NewUser(), wrap_quiet = NewUser(),
       wrap_open = NewUser();
  auto [d1, t_manila] = AddDevice(manila);
  auto [d2, t_bangkok] = AddDevice(bangkok);
  auto [d3, t_wq] = AddDevice(wrap_quiet);
  auto [d4, t_wo] = AddDevice(wrap_open);
  // [now-30m, now+30m) in Manila's clock: quiet in Manila; the same clock times
  // read in Bangkok (one hour behind) are [now+30m, now+90m): not quiet.
  const json::object window{{"start", ClockIn(kManila, -30min)}, {"end", ClockIn(kManila, 30min)}};
  json::object qm = window;
  qm["timezone"] = "Asia/Manila";
  json::object qb = window;
  qb["timezone"] = "Asia/Bangkok";
  SetPrefs(manila, json::object{{"quiet_hours", qm}});
  SetPrefs(bangkok, json::object{{"quiet_hours", qb}});
  // Windows with start > end span midnight: 23 h containing now, and 22 h leaving
  // a two-hour gap around now (Bangkok, the default zone).
  SetPrefs(wrap_quiet,
           json::object{{"quiet_hours", json::object{{"start", ClockIn(kBangkok, -60min)},
                                                     {"end", ClockIn(kBangkok, -120min)}}}});
  SetPrefs(wrap_open,
           json::object{{"quiet_hours", json::object{{"start", ClockIn(kBangkok, 60min)},
                                                     {"end", ClockIn(kBangkok, -60min)}}}});
  redis_->Publish(events::kMessagingStream,
                  Envelope("message.created",
                           Message(NewUserId(), sender,
                                   {manila.id, bangkok.id, wrap_quiet.id, wrap_open.id}, "late?")));
  ASSERT_TRUE(sink_->WaitForCount("token", t_bangkok, 1, kWait))
      << "Bangkok user outside quiet hours";
  ASSERT_TRUE(sink_->WaitForCount("token", t_wo, 1, kWait)) << "outside a midnight-spanning window";
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(sink_->Matching("token", t_manila).empty()) << "Manila user inside quiet hours";
  EXPECT_TRUE(sink_->Matching("token", t_wq).empty()) << "inside a midnight-spanning window";
}

TEST_F(NotificationE2E, HiddenPreviewsAndLocalisedMessageTitles) {
  User sender = NewUser(), hidden_th = NewUser(), shown = NewUser();
  auto [d1, t_hidden] = AddDevice(hidden_th);
  auto [d2, t_shown] = AddDevice(shown);
  SetPrefs(hidden_th, json::object{{"show_previews", false}, {"locale", "th"}});
  redis_->Publish(events::kMessagingStream,
                  Envelope("message.created", Message(NewUserId(), sender, {hidden_th.id, shown.id},
                                                      "the secret is 42")));
  ASSERT_TRUE(sink_->WaitForCount("token", t_hidden, 1, kWait));
  ASSERT_TRUE(sink_->WaitForCount("token", t_shown, 1, kWait));
  auto h = sink_->Matching("token", t_hidden)[0];
  EXPECT_EQ(Str(h, "title"), "ข้อความใหม่");
  EXPECT_EQ(Str(h, "body"), "เปิด Tchat เพื่ออ่าน");
  EXPECT_EQ(ToJson(h.body).find("secret"), std::string::npos) << "preview leaked";
  EXPECT_EQ(ToJson(h.body).find("Somchai"), std::string::npos) << "sender leaked";
  auto s = sink_->Matching("token", t_shown)[0];
  EXPECT_EQ(Str(s, "body"), "the secret is 42");
}

TEST_F(NotificationE2E, BurstInOneConversationCollapsesToOnePushPerDevice) {
  User sender = NewUser(), r = NewUser();
  auto [d1, t1] = AddDevice(r, "android");
  auto [d2, t2] = AddDevice(r, "ios");
  const std::string conv = NewUserId();
  for (int i = 1; i <= 5; ++i) {
    json::object m = Message(conv, sender, {r.id}, "msg " + std::to_string(i));
    m["seq"] = i;
    redis_->Publish(events::kMessagingStream, Envelope("message.created", std::move(m)));
  }
  ASSERT_TRUE(sink_->WaitForCount("token", t1, 1, kWait));
  ASSERT_TRUE(sink_->WaitForCount("token", t2, 1, kWait));
  std::this_thread::sleep_for(2500ms);  // longer than the collapse window
  auto a = sink_->Matching("token", t1);
  auto b = sink_->Matching("token", t2);
  ASSERT_EQ(a.size(), 1u) << "a burst produced several pushes on one device";
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(DataStr(a[0], "count"), "5");
  EXPECT_EQ(Str(a[0], "body"), "msg 5");
  EXPECT_NE(Str(a[0], "title").find("5 new messages"), std::string::npos) << Str(a[0], "title");
}

// ---------------------------------------------------------------- message inbox

TEST_F(NotificationE2E, MessageInboxOneEntryPerConversationWithTheLatestMessage) {
  User sender = NewUser(), r = NewUser();
  const std::string c1 = NewUserId(), c2 = NewUserId();
  std::string latest_c1;
  for (int i = 1; i <= 5; ++i) {
    json::object env = MessageEvent(c1, sender, {sender.id, r.id}, "msg " + std::to_string(i), i);
    latest_c1 = std::string(env.at("data").as_object().at("message_id").as_string());
    redis_->Publish(events::kMessagingStream, env);
  }
  std::this_thread::sleep_for(5ms);  // c2's messages are later
  for (int i = 1; i <= 2; ++i) {
    redis_->Publish(events::kMessagingStream,
                    MessageEvent(c2, sender, {r.id}, "other " + std::to_string(i), i));
  }
  // No device and no push: the inbox still fills.
  auto inbox = InboxWhen(
      r, [&](const json::object& b) { return UnreadCount(b, c1) == 5 && UnreadCount(b, c2) == 2; });
  auto items = Items(inbox);
  ASSERT_EQ(items.size(), 2u) << ToJson(inbox);
  EXPECT_EQ(inbox.at("unread_count"), 2);
  EXPECT_EQ(Data(items[0]).at("conversation_id"), json::value(c2)) << "newest first";
  const json::object e1 = items[1];
  EXPECT_EQ(e1.at("kind"), "message");
  EXPECT_EQ(e1.at("read"), false);
  EXPECT_EQ(ItemStr(e1, "title"), "Somchai · 5 new messages");
  EXPECT_EQ(ItemStr(e1, "body"), "msg 5");
  EXPECT_EQ(Data(e1).at("conversation_id"), json::value(c1));
  EXPECT_EQ(Data(e1).at("message_id"), json::value(latest_c1));
  EXPECT_EQ(Data(e1).at("sender_id"), json::value(sender.id));
  EXPECT_EQ(Data(e1).at("seq"), 5);
  EXPECT_EQ(Data(e1).at("count"), 5);
  EXPECT_EQ(ItemStr(items[0], "title"), "Somchai · 2 new messages");
  EXPECT_EQ(ItemStr(items[0], "body"), "other 2");
  // The sender is not notified of their own messages.
  EXPECT_TRUE(Items(Inbox(sender)).empty());

  // A later message updates c1's entry and moves it to the top; the same event
  // delivered twice counts once.
  std::this_thread::sleep_for(5ms);
  const json::object env6 = MessageEvent(c1, sender, {r.id}, "msg 6", 6);
  redis_->Publish(events::kMessagingStream, env6);
  redis_->Publish(events::kMessagingStream, env6);
  inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, c1) >= 6; });
  std::this_thread::sleep_for(1s);  // time for the duplicate to be (not) counted
  inbox = Inbox(r);
  items = Items(inbox);
  ASSERT_EQ(items.size(), 2u) << ToJson(inbox);
  EXPECT_EQ(items[0].at("id"), e1.at("id")) << "the same entry, moved to the top";
  EXPECT_EQ(Data(items[0]).at("count"), 6) << "a redelivered event was counted again";
  EXPECT_EQ(Data(items[0]).at("seq"), 6);
  EXPECT_EQ(ItemStr(items[0], "body"), "msg 6");
  EXPECT_GT(ItemStr(items[0], "created_at"), ItemStr(items[1], "created_at"));
  EXPECT_EQ(inbox.at("unread_count"), 2);
}

TEST_F(NotificationE2E, MessageInboxReadEntryStaysTheNextMessageMakesANewOne) {
  User sender = NewUser(), r = NewUser();
  const std::string conv = NewUserId();
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "first", 1));
  auto inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, conv) == 1; });
  ASSERT_EQ(Items(inbox).size(), 1u) << ToJson(inbox);
  const std::string first_id = ItemStr(Items(inbox)[0], "id");
  ASSERT_EQ(Call("POST", "/v1/notifications/" + first_id + "/read", r.token).status, 204);

  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "second", 2));
  inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, conv) == 1; });
  auto items = Items(inbox);
  ASSERT_EQ(items.size(), 2u) << ToJson(inbox);
  EXPECT_NE(ItemStr(items[0], "id"), first_id);
  EXPECT_EQ(ItemStr(items[0], "body"), "second");
  EXPECT_EQ(items[0].at("read"), false);
  EXPECT_EQ(ItemStr(items[1], "id"), first_id);
  EXPECT_EQ(items[1].at("read"), true);
  EXPECT_EQ(ItemStr(items[1], "body"), "first") << "a read entry changed";
  EXPECT_EQ(Data(items[1]).at("count"), 1);
  EXPECT_EQ(inbox.at("unread_count"), 1);

  // The same after read-all.
  ASSERT_EQ(Call("POST", "/v1/notifications/read-all", r.token).status, 204);
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "third", 3));
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "fourth", 4));
  inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, conv) == 2; });
  items = Items(inbox);
  ASSERT_EQ(items.size(), 3u) << ToJson(inbox);
  EXPECT_EQ(ItemStr(items[0], "body"), "fourth");
  EXPECT_EQ(Data(items[0]).at("count"), 2);
  EXPECT_EQ(inbox.at("unread_count"), 1);
}

TEST_F(NotificationE2E, MessageInboxSkipsOnlineAndMutedButNotHeldBackPushes) {
  User sender = NewUser(), offline = NewUser(), online = NewUser(), muted = NewUser(),
       push_off = NewUser(), quiet = NewUser();
  const std::string conv = NewUserId();
  const auto expiry = std::chrono::duration_cast<std::chrono::milliseconds>(
                          (std::chrono::system_clock::now() + 60s).time_since_epoch())
                          .count();
  redis_->Command({"ZADD", "tchat:rt:presence:" + online.id, std::to_string(expiry), "node-1"});
  SetPrefs(muted, json::object{{"muted_conversations",
                                json::array{json::object{{"conversation_id", conv}}}}});
  SetPrefs(push_off, json::object{{"push_enabled", false}});
  SetPrefs(quiet, json::object{{"quiet_hours", json::object{{"start", ClockIn(kBangkok, -60min)},
                                                            {"end", ClockIn(kBangkok, 60min)}}}});
  auto [qdev, qtok] = AddDevice(quiet);
  redis_->Publish(events::kMessagingStream,
                  MessageEvent(conv, sender,
                               {sender.id, offline.id, online.id, muted.id, push_off.id, quiet.id},
                               "are you there?", 1));
  for (const User* u : {&offline, &push_off, &quiet}) {
    auto inbox = InboxWhen(*u, [&](const json::object& b) { return UnreadCount(b, conv) == 1; });
    ASSERT_EQ(UnreadCount(inbox, conv), 1) << "no inbox entry for " << u->id;
    EXPECT_EQ(ItemStr(Items(inbox)[0], "body"), "are you there?");
  }
  // The event has been handled (one transaction for every recipient).
  EXPECT_TRUE(Items(Inbox(online)).empty()) << "an online user got an inbox entry";
  EXPECT_TRUE(Items(Inbox(muted)).empty()) << "a muted conversation made an inbox entry";
  EXPECT_TRUE(Items(Inbox(sender)).empty()) << "the sender got an inbox entry";
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(sink_->Matching("token", qtok).empty()) << "pushed during quiet hours";
  redis_->Command({"DEL", "tchat:rt:presence:" + online.id});
}

TEST_F(NotificationE2E, MessageInboxHonoursHiddenPreviews) {
  User sender = NewUser(), hidden = NewUser(), shown = NewUser();
  SetPrefs(hidden, json::object{{"show_previews", false}});
  const std::string conv = NewUserId();
  for (int i = 1; i <= 2; ++i) {
    json::object env = MessageEvent(conv, sender, {hidden.id, shown.id},
                                    "the secret is " + std::to_string(40 + i), i);
    env["data"].as_object()["conversation_title"] = "Poker night";
    redis_->Publish(events::kMessagingStream, env);
  }
  auto h = InboxWhen(hidden, [&](const json::object& b) { return UnreadCount(b, conv) == 2; });
  ASSERT_EQ(Items(h).size(), 1u) << ToJson(h);
  const auto entry = Items(h)[0];
  EXPECT_EQ(ItemStr(entry, "title"), "2 new messages");
  EXPECT_EQ(ItemStr(entry, "body"), "Open Tchat to read");
  const std::string all = ToJson(entry);
  EXPECT_EQ(all.find("secret"), std::string::npos) << "preview leaked: " << all;
  EXPECT_EQ(all.find("Somchai"), std::string::npos) << "sender's name leaked: " << all;
  EXPECT_EQ(all.find("Poker"), std::string::npos) << "conversation title leaked: " << all;
  EXPECT_EQ(Data(entry).at("seq"), 2);

  auto s = InboxWhen(shown, [&](const json::object& b) { return UnreadCount(b, conv) == 2; });
  ASSERT_EQ(Items(s).size(), 1u);
  EXPECT_EQ(ItemStr(Items(s)[0], "title"), "Poker night · 2 new messages");
  EXPECT_EQ(ItemStr(Items(s)[0], "body"), "Somchai: the secret is 42");
}

TEST_F(NotificationE2E, MessageInboxCollapsesWhateverTheCaseOfTheUserId) {
  User sender = NewUser(), r = NewUser();
  std::string upper = r.id;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string conv = NewUserId();
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "one", 1));
  auto inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, conv) == 1; });
  ASSERT_EQ(UnreadCount(inbox, conv), 1);
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {upper}, "two", 2));
  redis_->Publish(events::kMessagingStream, MessageEvent(conv, sender, {r.id}, "three", 3));
  inbox = InboxWhen(r, [&](const json::object& b) { return UnreadCount(b, conv) == 3; });
  ASSERT_EQ(Items(inbox).size(), 1u) << ToJson(inbox);
  EXPECT_EQ(UnreadCount(inbox, conv), 3);
  EXPECT_EQ(ItemStr(Items(inbox)[0], "body"), "three");
}

TEST_F(NotificationE2E, MessageInboxPagesGoOnWhenAnEntryMovesUp) {
  User sender = NewUser(), r = NewUser();
  const std::string a = NewUserId(), b = NewUserId(), c = NewUserId();
  for (const std::string* conv : {&a, &b, &c}) {
    redis_->Publish(events::kMessagingStream, MessageEvent(*conv, sender, {r.id}, "hi", 1));
    std::this_thread::sleep_for(5ms);  // distinct occurred_at milliseconds
  }
  auto all = InboxWhen(r, [&](const json::object& x) { return Items(x).size() == 3; });
  ASSERT_EQ(Items(all).size(), 3u) << ToJson(all);
  auto page = Inbox(r, "?limit=2");
  auto first = Items(page);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(Data(first[0]).at("conversation_id"), json::value(c));
  EXPECT_EQ(Data(first[1]).at("conversation_id"), json::value(b));
  ASSERT_TRUE(page.at("next_cursor").is_string());
  const std::string cursor(page.at("next_cursor").as_string());

  // b moves to the top while the client holds the cursor.
  redis_->Publish(events::kMessagingStream, MessageEvent(b, sender, {r.id}, "again", 2));
  all = InboxWhen(r, [&](const json::object& x) { return UnreadCount(x, b) == 2; });
  ASSERT_EQ(Data(Items(all)[0]).at("conversation_id"), json::value(b)) << ToJson(all);
  auto next = Inbox(r, "?limit=2&cursor=" + cursor);
  auto second = Items(next);
  ASSERT_EQ(second.size(), 1u) << ToJson(next);
  EXPECT_EQ(Data(second[0]).at("conversation_id"), json::value(a));
  EXPECT_TRUE(next.at("next_cursor").is_null());

  // An entry id (the cursor of earlier releases) is still a position.
  auto legacy = Call("GET", "/v1/notifications?cursor=" + ItemStr(first[0], "id"), r.token);
  ASSERT_EQ(legacy.status, 200) << legacy.raw;
  for (const auto& n : Items(legacy.object())) {
    EXPECT_NE(Data(n).at("conversation_id"), json::value(c)) << "the cursor's own entry again";
  }
  EXPECT_EQ(Call("GET", "/v1/notifications?cursor=12_zz", r.token).status, 400);
}

// ---------------------------------------------------------------- payments, inbox

TEST_F(NotificationE2E, TransferPushesAndInboxToBothPartiesInTheirLanguages) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"en", "Payment received"}, {"th", "ได้รับเงินแล้ว"},           {"id", "Pembayaran diterima"},
      {"ms", "Bayaran diterima"}, {"fil", "Natanggap ang bayad"}, {"vi", "Đã nhận tiền"}};
  User from = NewUser();
  auto [fd, ftok] = AddDevice(from);
  std::vector<std::pair<User, std::string>> receivers;
  for (const auto& [locale, title] : expected) {
    User to = NewUser();
    SetPrefs(to, json::object{{"locale", locale}});
    auto [d, t] = AddDevice(to);
    redis_->Publish(events::kPaymentStream,
                    Envelope("payment.transfer.completed", Transfer(from, to, 12345, "THB")));
    receivers.emplace_back(to, t);
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [to, tok] = receivers[i];
    ASSERT_TRUE(sink_->WaitForCount("token", tok, 1, kWait)) << expected[i].first;
    auto push = sink_->Matching("token", tok)[0];
    EXPECT_EQ(Str(push, "title"), expected[i].second) << expected[i].first;
    EXPECT_NE(Str(push, "body").find("123.45 THB"), std::string::npos) << Str(push, "body");
    // The inbox has the same entry.
    auto inbox = Call("GET", "/v1/notifications", to.token);
    ASSERT_EQ(inbox.status, 200);
    const auto& items = inbox.object().at("notifications").as_array();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].as_object().at("kind"), "payment.received");
    EXPECT_EQ(items[0].as_object().at("title"), json::value(expected[i].second));
    EXPECT_EQ(items[0].as_object().at("read"), false);
    EXPECT_EQ(items[0].as_object().at("data").as_object().at("amount"), 12345);
    EXPECT_EQ(inbox.object().at("unread_count"), 1);
  }
  // The payer got one "sent" push per transfer, and as many inbox entries.
  ASSERT_TRUE(sink_->WaitForCount("token", ftok, expected.size(), kWait));
  EXPECT_EQ(Str(sink_->Matching("token", ftok)[0], "title"), "Payment sent");
  auto inbox = Call("GET", "/v1/notifications?limit=200", from.token);
  EXPECT_EQ(inbox.object().at("notifications").as_array().size(), expected.size());
}

TEST_F(NotificationE2E, InboxPaginationReadAndReadAll) {
  User from = NewUser(), to = NewUser();
  for (int i = 0; i < 3; ++i) {
    redis_->Publish(events::kPaymentStream, Envelope("payment.transfer.completed",
                                                     Transfer(from, to, 100 * (i + 1), "SGD")));
    std::this_thread::sleep_for(5ms);  // distinct occurred_at milliseconds
  }
  // No device: the inbox still fills.
  ApiResponse page;
  for (int tries = 0; tries < 150; ++tries) {
    page = Call("GET", "/v1/notifications?limit=2", to.token);
    if (page.object().at("unread_count") == 3) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(page.object().at("unread_count"), 3) << page.raw;
  const auto& first = page.object().at("notifications").as_array();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_NE(first[0].as_object().at("body").as_string().find("3.00 SGD"), std::string::npos)
      << "newest first";
  ASSERT_TRUE(page.object().at("next_cursor").is_string());
  auto next = Call("GET",
                   "/v1/notifications?limit=2&cursor=" +
                       std::string(page.object().at("next_cursor").as_string()),
                   to.token);
  ASSERT_EQ(next.status, 200);
  ASSERT_EQ(next.object().at("notifications").as_array().size(), 1u);
  EXPECT_TRUE(next.object().at("next_cursor").is_null());

  const std::string id(first[0].as_object().at("id").as_string());
  EXPECT_EQ(Call("POST", "/v1/notifications/" + id + "/read", from.token).status, 404)
      << "another user marked it read";
  EXPECT_EQ(Call("POST", "/v1/notifications/" + id + "/read", to.token).status, 204);
  EXPECT_EQ(Call("GET", "/v1/notifications", to.token).object().at("unread_count"), 2);
  auto unread = Call("GET", "/v1/notifications?unread_only=true", to.token);
  EXPECT_EQ(unread.object().at("notifications").as_array().size(), 2u);
  EXPECT_EQ(Call("POST", "/v1/notifications/read-all", to.token).status, 204);
  EXPECT_EQ(Call("GET", "/v1/notifications", to.token).object().at("unread_count"), 0);
  EXPECT_EQ(Call("GET", "/v1/notifications?limit=0", to.token).status, 400);
  EXPECT_EQ(Call("GET", "/v1/notifications?cursor=zzz", to.token).status, 400);
}

TEST_F(NotificationE2E, PaymentRequestAndTopupGoToTheRightParty) {
  User requester = NewUser(), payer = NewUser();
  auto [d1, t_req] = AddDevice(requester);
  auto [d2, t_pay] = AddDevice(payer);
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.request.created",
                           json::object{{"request", json::object{{"id", NewUserId()},
                                                                 {"from_user_id", payer.id},
                                                                 {"to_user_id", requester.id},
                                                                 {"amount", 5000},
                                                                 {"currency", "PHP"}}}}));
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.topup.succeeded",
                           json::object{{"topup", json::object{{"id", NewUserId()},
                                                               {"user_id", requester.id},
                                                               {"amount", 100000},
                                                               {"currency", "VND"},
                                                               {"method", "momo"}}}}));
  ASSERT_TRUE(sink_->WaitForCount("token", t_pay, 1, kWait));
  EXPECT_EQ(Str(sink_->Matching("token", t_pay)[0], "title"), "Payment request");
  EXPECT_NE(Str(sink_->Matching("token", t_pay)[0], "body").find("50.00 PHP"), std::string::npos);
  ASSERT_TRUE(sink_->WaitForCount("token", t_req, 1, kWait));
  EXPECT_EQ(Str(sink_->Matching("token", t_req)[0], "title"), "Top-up successful");
  EXPECT_NE(Str(sink_->Matching("token", t_req)[0], "body").find("100,000 VND"), std::string::npos);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink_->Matching("token", t_req).size(), 1u)
      << "the requester was pushed its own request";
}

// ---------------------------------------------------------------- OTP SMS

TEST_F(NotificationE2E, OtpSmsImmediatelyInTheUsersLanguageWhateverThePreferences) {
  const std::string phone = "+668" + NewUserId().substr(0, 8);
  std::string digits = phone;
  for (char& c : digits)
    if (c >= 'a' && c <= 'f') c = static_cast<char>('0' + (c - 'a'));
  const auto t0 = std::chrono::steady_clock::now();
  redis_->Publish(events::kAuthStream,
                  Envelope("auth.otp.requested", json::object{{"phone", digits},
                                                              {"sealed_code", Sealed("482913")},
                                                              {"locale", "th"},
                                                              {"expires_in", 300}}));
  ASSERT_TRUE(sink_->WaitForCount("to", digits, 1, kWait));
  auto sms = sink_->Matching("to", digits);
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].path, "/sms");
  EXPECT_LT(sms[0].at - t0, 1000ms) << "OTP SMS took longer than a second";
  EXPECT_NE(Str(sms[0], "text").find("482913"), std::string::npos);
  EXPECT_NE(Str(sms[0], "text").find("รหัส"), std::string::npos) << Str(sms[0], "text");
  EXPECT_EQ(Str(sms[0], "locale"), "th");

  // No locale in the event: the user's saved locale wins; else the country's.
  User u = NewUser();
  SetPrefs(u, json::object{{"locale", "ms"}, {"push_enabled", false}});
  std::string vn = "+849" + digits.substr(4, 8);
  redis_->Publish(
      events::kAuthStream,
      Envelope("auth.otp.requested",
               json::object{{"phone", vn}, {"sealed_code", Sealed("111222")}, {"user_id", u.id}}));
  std::string vn2 = "+848" + digits.substr(4, 8);
  redis_->Publish(events::kAuthStream,
                  Envelope("auth.otp.requested",
                           json::object{{"phone", vn2}, {"sealed_code", Sealed("333444")}}));
  ASSERT_TRUE(sink_->WaitForCount("to", vn, 1, kWait));
  ASSERT_TRUE(sink_->WaitForCount("to", vn2, 1, kWait));
  EXPECT_NE(Str(sink_->Matching("to", vn)[0], "text").find("Kod Tchat anda"), std::string::npos);
  EXPECT_NE(Str(sink_->Matching("to", vn2)[0], "text").find("Mã Tchat"), std::string::npos);

  // The exact shape auth emits (expires_at instead of expires_in, extra fields).
  std::string ph = "+639" + digits.substr(4, 9);
  redis_->Publish(
      events::kAuthStream,
      Envelope(
          "auth.otp.requested",
          json::object{{"phone", ph},
                       {"country", "PH"},
                       {"locale", "fil"},
                       {"sealed_code", Sealed("777888")},
                       {"purpose", "sign_in"},
                       {"expires_at", FormatRfc3339Ms(std::chrono::system_clock::now() + 5min)}}));
  ASSERT_TRUE(sink_->WaitForCount("to", ph, 1, kWait));
  EXPECT_NE(Str(sink_->Matching("to", ph)[0], "text").find("Ang iyong Tchat code ay 777888"),
            std::string::npos)
      << Str(sink_->Matching("to", ph)[0], "text");
  EXPECT_NE(Str(sink_->Matching("to", ph)[0], "text").find("5 minuto"), std::string::npos);
}

// The whole path: auth's POST /v1/auth/otp/request → its outbox → the auth
// stream → this service → the SMS provider. Needs TCHAT_TEST_AUTH_URL (auth
// running with TCHAT_DEV_OTP=1 on the same Redis).
TEST_F(NotificationE2E, OtpFromAuthReachesTheSmsSinkWithinASecond) {
  BlockingApi auth(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
  std::string local = "81" + std::to_string(1000000 + std::rand() % 8999999);
  const std::string phone = "+66" + local;
  const auto t0 = std::chrono::steady_clock::now();
  auto r =
      auth.Post("/v1/auth/otp/request", json::object{{"phone", "0" + local}, {"country", "TH"}});
  ASSERT_EQ(r.status, 202) << r.raw;
  ASSERT_TRUE(r.object().contains("dev_code")) << "auth must run with TCHAT_DEV_OTP=1";
  const std::string code(r.object().at("dev_code").as_string());
  ASSERT_TRUE(sink_->WaitForCount("to", phone, 1, kWait));
  auto sms = sink_->Matching("to", phone);
  EXPECT_LT(sms[0].at - t0, 1000ms) << "OTP SMS took longer than a second end to end";
  EXPECT_NE(Str(sms[0], "text").find(code), std::string::npos) << Str(sms[0], "text");
  EXPECT_EQ(Str(sms[0], "locale"), "th");
  EXPECT_NE(Str(sms[0], "text").find("รหัส"), std::string::npos);
}

// A code asked for the password (purpose "password": a change, a removal or a
// reset) is not worded as a sign-in code, in each of the six languages.
TEST_F(NotificationE2E, APasswordCodesSmsIsWordedForThePassword) {
  const std::string digits = FreshThaiPhone();
  // Per language: a word of the password text that the sign-in text lacks.
  const std::vector<std::pair<std::string, std::string>> langs = {
      {"en", "change your password"},  {"th", "เปลี่ยนรหัสผ่าน"},
      {"id", "mengubah kata sandi"},   {"ms", "menukar kata laluan"},
      {"fil", "palitan ang password"}, {"vi", "đổi mật khẩu"}};
  std::vector<std::string> phones;
  for (std::size_t i = 0; i < langs.size(); ++i) {
    const std::string phone = digits.substr(0, digits.size() - 1) + std::to_string(i);
    phones.push_back(phone);
    redis_->Publish(events::kAuthStream,
                    Envelope("auth.otp.requested", json::object{{"phone", phone},
                                                                {"sealed_code", Sealed("246810")},
                                                                {"locale", langs[i].first},
                                                                {"purpose", "password"},
                                                                {"expires_in", 300}}));
  }
  // The same number's sign-in code keeps the sign-in wording.
  const std::string signin = digits.substr(0, digits.size() - 1) + "9";
  redis_->Publish(events::kAuthStream,
                  Envelope("auth.otp.requested", json::object{{"phone", signin},
                                                              {"sealed_code", Sealed("135791")},
                                                              {"locale", "en"},
                                                              {"purpose", "sign_in"},
                                                              {"expires_in", 300}}));
  for (std::size_t i = 0; i < langs.size(); ++i) {
    ASSERT_TRUE(sink_->WaitForCount("to", phones[i], 1, kWait)) << langs[i].first;
    const std::string text = Str(sink_->Matching("to", phones[i])[0], "text");
    EXPECT_NE(text.find("246810"), std::string::npos) << text;
    EXPECT_NE(text.find(langs[i].second), std::string::npos) << langs[i].first << ": " << text;
    EXPECT_EQ(Str(sink_->Matching("to", phones[i])[0], "locale"), langs[i].first);
  }
  ASSERT_TRUE(sink_->WaitForCount("to", signin, 1, kWait));
  const std::string text = Str(sink_->Matching("to", signin)[0], "text");
  EXPECT_NE(text.find("Your Tchat code is 135791"), std::string::npos) << text;
  EXPECT_EQ(text.find("password"), std::string::npos) << text;
}

// A password change reaches the user's devices (issue 17): auth's
// auth.password.changed → a push to every device and a "security" inbox entry.
TEST_F(NotificationE2E, PasswordChangeIsPushedToTheUsersDevices) {
  BlockingApi auth(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
  const std::string phone = FreshThaiPhone();
  auto code = [&](const std::string& purpose) {
    auto r = CallOn(auth, "POST", "/v1/auth/otp/request", {},
                    ToJson(json::object{{"phone", phone}, {"purpose", purpose}}));
    EXPECT_EQ(r.status, 202) << r.raw;
    return std::string(r.object().at("dev_code").as_string());
  };
  auto v = CallOn(auth, "POST", "/v1/auth/otp/verify", {},
                  ToJson(json::object{{"phone", phone}, {"code", code("sign_in")}}));
  ASSERT_EQ(v.status, 200) << v.raw;
  User u{std::string(v.object().at("user").as_object().at("id").as_string()),
         std::string(v.object().at("access_token").as_string()), nullptr};
  auto [device, push_token] = AddDevice(u);
  auto put =
      CallOn(auth, "PUT", "/v1/auth/password", u.token,
             ToJson(json::object{{"password", "a password for e2e " + push_token.substr(4, 8)},
                                 {"otp_code", code("password")}}));
  ASSERT_EQ(put.status, 204) << put.raw;
  ASSERT_TRUE(sink_->WaitForCount("token", push_token, 1, kWait)) << "no push for the change";
  auto pushed = sink_->Matching("token", push_token);
  EXPECT_EQ(Str(pushed[0], "title"), "Your Tchat password changed");
  auto inbox = Call("GET", "/v1/notifications", u.token);
  ASSERT_EQ(inbox.status, 200) << inbox.raw;
  bool found = false;
  for (const auto& n : inbox.object().at("notifications").as_array()) {
    if (n.as_object().at("kind") == json::value("security")) found = true;
  }
  EXPECT_TRUE(found) << inbox.raw;
}

// No OTP code is readable at rest (issue 17): not in auth's outbox, not on the
// auth event stream, not in the delivery queue, not in a dead letter (the SMS
// provider refuses this one for good, so it stays as a dead letter).
TEST_F(NotificationE2E, OtpCodeIsNowhereAtRest) {
  BlockingApi auth(io_, RequireEnv("TCHAT_TEST_AUTH_URL"));
  const std::string phone = FreshThaiPhone();
  sink_->Script(phone, {Reply(400)});
  auto r = CallOn(auth, "POST", "/v1/auth/otp/request", {},
                  ToJson(json::object{{"phone", phone}, {"purpose", "password"}}));
  ASSERT_EQ(r.status, 202) << r.raw;
  ASSERT_TRUE(r.object().contains("dev_code")) << "auth must run with TCHAT_DEV_OTP=1";
  const std::string code(r.object().at("dev_code").as_string());
  ASSERT_TRUE(sink_->WaitForCount("to", phone, 1, kWait));
  EXPECT_NE(Str(sink_->Matching("to", phone)[0], "text").find(code), std::string::npos)
      << "the SMS request itself carries the code";

  // The outbox row.
  auto outbox = PgRows(
      "tchat_auth", "SELECT payload::text FROM outbox WHERE payload->'data'->>'phone' = $1", phone);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].find(code), std::string::npos) << outbox[0];
  EXPECT_NE(outbox[0].find("sealed_code"), std::string::npos) << outbox[0];
  // The stream entry (the newest entries of the auth stream, joined by Lua).
  const std::string stream = redis_->Command(
      {"EVAL",
       "local out = {} for _, e in ipairs(redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', "
       "200)) do local f = e[2] for i = 2, #f, 2 do if string.find(f[i], ARGV[1], 1, true) then "
       "table.insert(out, f[i]) end end end return table.concat(out, '\\n')",
       "1", std::string(events::kAuthStream), phone});
  ASSERT_NE(stream.find(phone), std::string::npos) << "the event is not on the stream";
  EXPECT_EQ(stream.find(code), std::string::npos) << stream;
  // The dead letter, through the admin API, and its row in the queue.
  std::string letter;
  for (int i = 0; i < 100 && letter.empty(); ++i) {
    auto list = Call("GET", "/v1/admin/dead-letters?limit=200", admin_);
    ASSERT_EQ(list.status, 200) << list.raw;
    for (const auto& e : list.object().at("dead_letters").as_array()) {
      const std::string text = ToJson(e);
      if (text.find(phone) != std::string::npos) letter = text;
    }
    if (letter.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(letter.empty()) << "no dead letter for the refused SMS";
  EXPECT_EQ(letter.find(code), std::string::npos) << letter;
  auto queued =
      PgRows("tchat_notification",
             "SELECT payload::text || last_error FROM dead_letters WHERE payload->>'to' = "
             "$1 UNION ALL SELECT payload::text || coalesce(last_error, '') FROM "
             "delivery_queue WHERE payload->>'to' = $1",
             phone);
  ASSERT_FALSE(queued.empty());
  for (const auto& q : queued) EXPECT_EQ(q.find(code), std::string::npos) << q;
}

// ---------------------------------------------------------------- stream semantics

TEST_F(NotificationE2E, DuplicateEventIdsNotifyOnceAndPoisonNeverBlocks) {
  User sender = NewUser(), r = NewUser();
  auto [d, tok] = AddDevice(r);
  const std::string event_id = NewUserId();
  auto env = Envelope("payment.transfer.completed", Transfer(sender, r, 700, "MYR"), event_id);
  redis_->Publish(events::kPaymentStream, env);
  // Poison: not JSON, no event field, unknown type, bad data; then the same event again.
  redis_->PublishRaw(events::kPaymentStream, {"event", "{not json"});
  redis_->PublishRaw(events::kPaymentStream, {"something", "else"});
  redis_->Publish(events::kPaymentStream, Envelope("weird.thing", json::object{}));
  redis_->Publish(
      events::kMessagingStream,
      Envelope("message.created", json::object{{"conversation_id", "c"}, {"recipients", 5}}));
  redis_->Publish(events::kPaymentStream, env);
  // A valid event after the poison is still handled.
  User r2 = NewUser();
  auto [d2, tok2] = AddDevice(r2);
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.transfer.completed", Transfer(sender, r2, 800, "MYR")));
  ASSERT_TRUE(sink_->WaitForCount("token", tok2, 1, kWait)) << "poison blocked the stream";
  ASSERT_TRUE(sink_->WaitForCount("token", tok, 1, kWait));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sink_->Matching("token", tok).size(), 1u) << "a duplicate event notified twice";
  EXPECT_EQ(
      Call("GET", "/v1/notifications", r.token).object().at("notifications").as_array().size(), 1u);

  auto poison = Call("GET", "/v1/admin/poison-events?limit=200", admin_);
  ASSERT_EQ(poison.status, 200);
  int found = 0;
  for (const auto& p : poison.object().at("poison_events").as_array()) {
    const auto& raw = p.as_object().at("raw").as_string();
    if (raw == "{not json" || p.as_object().at("event_type") == "weird.thing") ++found;
  }
  EXPECT_GE(found, 2);
  EXPECT_EQ(Call("GET", "/v1/admin/poison-events").status, 401);
}

// ---------------------------------------------------------------- provider faults

TEST_F(NotificationE2E, RetryableFaultsBackOffThenSucceed) {
  // One user per fault: a delivery's devices share one retry time (a provider's
  // Retry-After applies to the provider, not to one token).
  User sender = NewUser(), u500 = NewUser(), u429 = NewUser(), uhang = NewUser();
  auto [d1, t_500] = AddDevice(u500, "android");
  auto [d2, t_429] = AddDevice(u429, "ios");
  auto [d3, t_hang] = AddDevice(uhang, "web");
  sink_->Script(t_500, {Reply(500), Reply(503)});
  sink_->Script(t_429, {Reply(429, 2)});
  sink_->Script(t_hang, {Hang()});
  for (const User* u : {&u500, &u429, &uhang}) {
    redis_->Publish(events::kPaymentStream,
                    Envelope("payment.transfer.completed", Transfer(sender, *u, 1, "USD")));
  }
  auto delivered = [&](const std::string& t) {
    return sink_->WaitFor(
        [&](const std::vector<SinkRequest>& all) {
          for (const auto& q : all) {
            auto it = q.body.find("token");
            if (it != q.body.end() && it->value().as_string() == t && q.status == 200) return true;
          }
          return false;
        },
        60s);
  };
  ASSERT_TRUE(delivered(t_500));
  ASSERT_TRUE(delivered(t_429));
  ASSERT_TRUE(delivered(t_hang));
  auto a = sink_->Matching("token", t_500);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].idempotency_key, a[2].idempotency_key) << "a retry is the same delivery";
  // Exponential backoff with jitter in [d/2, d]: the second wait is at least
  // about as long as the first one's lower bound.
  EXPECT_GE(a[1].at - a[0].at, 50ms) << "retried without waiting";
  EXPECT_GE(a[2].at - a[1].at, (a[1].at - a[0].at) / 2) << "no exponential backoff";
  auto b = sink_->Matching("token", t_429);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_GE(b[1].at - b[0].at, 1900ms) << "Retry-After: 2 was not honoured";
  EXPECT_EQ(sink_->Matching("token", t_hang).size(), 2u);
  // Still registered: a passing fault never removes a device.
  EXPECT_EQ(Call("GET", "/v1/devices", u500.token).object().at("devices").as_array().size(), 1u);
}

TEST_F(NotificationE2E, PermanentErrorDeadLettersAndRedriveDelivers) {
  User sender = NewUser(), r = NewUser();
  auto [d1, tok] = AddDevice(r);
  sink_->Script(tok, {Reply(400)});
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.transfer.completed", Transfer(sender, r, 42, "THB")));
  ASSERT_TRUE(sink_->WaitForCount("token", tok, 1, kWait));
  // Find the dead letter.
  std::string dl_id;
  for (int i = 0; i < 100 && dl_id.empty(); ++i) {
    auto list = Call("GET", "/v1/admin/dead-letters?limit=200", admin_);
    ASSERT_EQ(list.status, 200) << list.raw;
    for (const auto& e : list.object().at("dead_letters").as_array()) {
      if (e.as_object().at("device_id") == json::value(d1))
        dl_id = std::string(e.as_object().at("id").as_string());
    }
    if (dl_id.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(dl_id.empty()) << "no dead letter for a permanent 400";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sink_->Matching("token", tok).size(), 1u) << "a permanent error was retried";
  EXPECT_EQ(Call("GET", "/v1/admin/dead-letters").status, 401);
  EXPECT_EQ(Call("GET", "/v1/admin/dead-letters", "wrong-token").status, 401);
  // Re-drive: the sink now accepts.
  auto rd = Call("POST", "/v1/admin/dead-letters/" + dl_id + "/redrive", admin_);
  ASSERT_EQ(rd.status, 200) << rd.raw;
  ASSERT_TRUE(sink_->WaitForCount("token", tok, 2, kWait));
  EXPECT_EQ(sink_->Matching("token", tok).back().status, 200);
  EXPECT_EQ(Str(sink_->Matching("token", tok).back(), "title"), "Payment received");
  EXPECT_EQ(Call("POST", "/v1/admin/dead-letters/" + dl_id + "/redrive", admin_).status, 404)
      << "re-driven twice";
}

TEST_F(NotificationE2E, UnregisteredTokenRemovesTheDevice) {
  User sender = NewUser(), r = NewUser();
  auto [gone_id, gone] = AddDevice(r, "android");
  auto [kept_id, kept] = AddDevice(r, "ios");
  sink_->Script(gone, {Reply(410)});
  redis_->Publish(events::kPaymentStream,
                  Envelope("payment.transfer.completed", Transfer(sender, r, 9, "IDR")));
  ASSERT_TRUE(sink_->WaitForCount("token", gone, 1, kWait));
  ASSERT_TRUE(sink_->WaitForCount("token", kept, 1, kWait));
  json::array devices;
  for (int i = 0; i < 100; ++i) {
    devices = Call("GET", "/v1/devices", r.token).object().at("devices").as_array();
    if (devices.size() == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].as_object().at("id"), json::value(kept_id));
}

TEST_F(NotificationE2E, MetricsExposeTheServiceSeries) {
  auto m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* series : {"notification_events_consumed_total", "notifications_sent_total",
                             "notifications_failed_total", "notification_retry_queue_depth",
                             "notification_stream_lag", "notification_delivery_latency_seconds"}) {
    EXPECT_NE(m.raw.find(series), std::string::npos) << series;
  }
}

}  // namespace
}  // namespace tchat::e2e
