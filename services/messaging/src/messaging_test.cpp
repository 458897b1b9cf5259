// Hermetic unit tests of the messaging service's pieces: text and id checks,
// input validation, wire formats (fan-out payloads, batch arguments, sync tokens,
// JSON), the mapping of payment events to messages, the configuration, and the
// send batcher's pacing.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <tchat/core/config.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/redis/client.hpp>

#include "config.hpp"
#include "hub.hpp"
#include "model_json.hpp"
#include "payment_consumer.hpp"
#include "pg_message_store.hpp"
#include "pg_rows.hpp"
#include "send_batcher.hpp"
#include "service.hpp"
#include "session_guard.hpp"
#include "text.hpp"
#include "validation.hpp"

namespace tchat::messaging {
namespace {

// ---- text ----

TEST(Text, HttpUrls) {
  EXPECT_TRUE(IsHttpUrl("https://cdn.example.com/a/b.png?x=1#f"));
  EXPECT_TRUE(IsHttpUrl("http://127.0.0.1:8080/x"));
  EXPECT_TRUE(IsHttpUrl("https://[::1]/x"));
  EXPECT_FALSE(IsHttpUrl("ftp://example.com/x"));
  EXPECT_FALSE(IsHttpUrl("javascript:alert(1)"));
  EXPECT_FALSE(IsHttpUrl("https:///nohost"));
  EXPECT_FALSE(IsHttpUrl("https://exa mple.com/"));
  EXPECT_FALSE(IsHttpUrl("https://example.com/\x01"));
  EXPECT_FALSE(IsHttpUrl("https://example.com:99999999/"));
  EXPECT_FALSE(IsHttpUrl("https://ex\"ample.com/"));
  EXPECT_FALSE(IsHttpUrl("https://example.com/" + std::string(2100, 'a')));
}

TEST(Text, ReactionsAndClientTokens) {
  EXPECT_TRUE(IsValidReaction("👍"));
  EXPECT_TRUE(IsValidReaction("👨‍👩‍👧"));  // a ZWJ sequence is one reaction
  EXPECT_TRUE(IsValidReaction("+1"));
  EXPECT_FALSE(IsValidReaction(""));
  EXPECT_FALSE(IsValidReaction("a b"));
  EXPECT_FALSE(IsValidReaction("a/b"));
  EXPECT_FALSE(IsValidReaction("123456789"));
  EXPECT_FALSE(IsValidReaction("\xFF"));
  EXPECT_TRUE(IsValidClientToken("abc-123_x.y"));
  EXPECT_FALSE(IsValidClientToken(""));
  EXPECT_FALSE(IsValidClientToken("has space"));
  EXPECT_FALSE(IsValidClientToken(std::string(129, 'a')));
  EXPECT_FALSE(IsValidClientToken("ก"));
}

// ---- validation ----

json::object Obj(std::string_view text) {
  return json::parse(text).as_object();
}

TEST(Validation, TextMessages) {
  auto ok = ParseMessageInput(Obj(R"({"client_msg_id":"c1","type":"text","body":"hi"})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->type, "text");
  EXPECT_EQ(ok->body, "hi");
  EXPECT_FALSE(ok->reply_to_seq);
  auto default_type =
      ParseMessageInput(Obj(R"({"client_msg_id":"c1","body":"x","reply_to_seq":3})"));
  ASSERT_TRUE(default_type.ok());
  EXPECT_EQ(default_type->type, "text");
  EXPECT_EQ(*default_type->reply_to_seq, 3);
  for (const char* bad : {
           R"({"type":"text","body":"x"})",
           R"({"client_msg_id":5,"body":"x"})",
           R"({"client_msg_id":"c","body":""})",
           R"({"client_msg_id":"c","body":null})",
           R"({"client_msg_id":"c","body":"x","type":"payment"})",
           R"({"client_msg_id":"c","body":"x","type":"system"})",
           R"({"client_msg_id":"c","body":"x","type":"sticker"})",
           R"({"client_msg_id":"c","body":"x","reply_to_seq":0})",
           R"({"client_msg_id":"c","body":"x","reply_to_seq":"3"})",
           R"({"client_msg_id":"c","body":"a\u0000b"})",
           R"({"client_msg_id":"c","body":"bell\u0007"})",
       }) {
    auto r = ParseMessageInput(Obj(bad));
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
  // Newlines and tabs are text.
  EXPECT_TRUE(ParseMessageInput(Obj(R"({"client_msg_id":"c","body":"a\nb\tc"})")).ok());
  // 4096 characters, not bytes.
  std::string thai;
  for (int i = 0; i < 4096; ++i) thai += "ก";
  json::object m{{"client_msg_id", "c"}, {"body", thai}};
  EXPECT_TRUE(ParseMessageInput(m).ok());
  m["body"] = thai + "ก";
  EXPECT_FALSE(ParseMessageInput(m).ok());
  // A lone surrogate escape must not become stored text.
  boost::system::error_code ec;
  json::value v = json::parse(R"({"client_msg_id":"c","body":"\ud800"})", ec);
  if (!ec) {
    EXPECT_FALSE(ParseMessageInput(v.as_object()).ok());
  }
}

TEST(Validation, AttachmentMessages) {
  auto img = ParseMessageInput(Obj(
      R"({"client_msg_id":"c","type":"image","attachment":{"url":"https://x.y/a.png","mime_type":"image/png","width":10,"height":20,"extra":"dropped"}})"));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->body, "");
  EXPECT_EQ(img->attachment->at("width").as_int64(), 10);
  EXPECT_FALSE(img->attachment->contains("extra"));
  auto file = ParseMessageInput(Obj(
      R"({"client_msg_id":"c","type":"file","body":"the report","attachment":{"url":"https://x.y/r.pdf","name":"r.pdf","size":99}})"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->attachment->at("name").as_string(), "r.pdf");
  for (
      const char* bad : {
          R"({"client_msg_id":"c","type":"image"})",
          R"({"client_msg_id":"c","type":"image","attachment":"https://x.y/a.png"})",
          R"({"client_msg_id":"c","type":"image","attachment":{"url":"data:image/png;base64,xx"}})",
          R"({"client_msg_id":"c","type":"image","attachment":{"url":"https://x.y/a","mime_type":"png"}})",
          R"({"client_msg_id":"c","type":"image","attachment":{"url":"https://x.y/a","width":0}})",
          R"({"client_msg_id":"c","type":"file","attachment":{"url":"https://x.y/a"}})",
          R"({"client_msg_id":"c","type":"file","attachment":{"url":"https://x.y/a","name":"a","size":-1}})",
      }) {
    EXPECT_FALSE(ParseMessageInput(Obj(bad)).ok()) << bad;
  }
}

TEST(Validation, TitlesIdsLimitsAndSeqs) {
  json::value title("Family");
  EXPECT_TRUE(ValidateTitle(&title).ok());
  json::value empty("");
  EXPECT_FALSE(ValidateTitle(&empty).ok());
  json::value ctrl("a\nb");
  EXPECT_FALSE(ValidateTitle(&ctrl).ok());
  EXPECT_FALSE(ValidateTitle(nullptr).ok());

  auto ids = ParseUserIds(Obj(R"({"ids":["0190B4C2-7A1E-7C3D-9F0A-000000000001",
                                         "0190b4c2-7a1e-7c3d-9f0a-000000000001",
                                         "0190b4c2-7a1e-7c3d-9f0a-000000000002"]})"),
                          "ids", 10);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 2u);  // canonicalised, de-duplicated
  EXPECT_EQ((*ids)[0], "0190b4c2-7a1e-7c3d-9f0a-000000000001");
  EXPECT_FALSE(ParseUserIds(Obj(R"({"ids":["nope"]})"), "ids", 10).ok());
  EXPECT_FALSE(ParseUserIds(Obj(R"({"ids":"x"})"), "ids", 10).ok());
  EXPECT_FALSE(ParseUserIds(Obj(R"({})"), "ids", 10).ok());
  EXPECT_FALSE(
      ParseUserIds(
          Obj(R"({"ids":["0190b4c2-7a1e-7c3d-9f0a-000000000001","0190b4c2-7a1e-7c3d-9f0a-000000000002"]})"),
          "ids", 1)
          .ok());

  EXPECT_EQ(*ParseLimit(std::nullopt), 50);
  EXPECT_EQ(*ParseLimit(std::string("200")), 200);
  EXPECT_FALSE(ParseLimit(std::string("201")).ok());
  EXPECT_FALSE(ParseLimit(std::string("0")).ok());
  EXPECT_FALSE(ParseLimit(std::string("5x")).ok());
  EXPECT_FALSE(ParseLimit(std::string("-1")).ok());

  EXPECT_FALSE(ParseSeqParam(std::nullopt, "s")->has_value());
  EXPECT_EQ(**ParseSeqParam(std::string("42"), "s"), 42);
  EXPECT_FALSE(ParseSeqParam(std::string("-2"), "s").ok());
  EXPECT_FALSE(ParseSeqParam(std::string("99999999999999999999"), "s").ok());
}

// ---- wire formats ----

TEST(Hub, PayloadRoundTrip) {
  const std::string p = Hub::Encode('m', "conv", "sess", "", {"u1", "u2"}, R"({"type":"x"})");
  EXPECT_EQ(p, "m|conv|sess||u1,u2\n{\"type\":\"x\"}");
  auto parsed = Hub::Parse(p);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->kind, 'm');
  EXPECT_EQ(parsed->conversation, "conv");
  EXPECT_EQ(parsed->exclude_session, "sess");
  EXPECT_EQ(parsed->exclude_user, "");
  EXPECT_EQ(parsed->users, "u1,u2");
  EXPECT_EQ(parsed->event, R"({"type":"x"})");
  // The event may contain newlines and bars.
  // Parse returns views into its argument, so the payload must outlive them.
  const std::string tricky_payload = Hub::Encode('a', "c", "", "u", {}, "a|b\nc");
  auto tricky = Hub::Parse(tricky_payload);
  ASSERT_TRUE(tricky);
  EXPECT_EQ(tricky->event, "a|b\nc");
  EXPECT_EQ(tricky->exclude_user, "u");
  EXPECT_FALSE(Hub::Parse(""));
  EXPECT_FALSE(Hub::Parse("m|only\n{}"));
  EXPECT_FALSE(Hub::Parse("no newline"));
}

TEST(Hub, RunsOfPayloadsRoundTrip) {
  const std::vector<std::string> payloads = {
      Hub::Encode('m', "c1", "s1", "", {"u1", "u2"}, R"({"type":"message.new","n":1})"),
      "12:34:not a length\nB5:x", Hub::Encode('a', "c1", "", "u9", {}, "{}")};
  const std::string run = Hub::EncodeRun(payloads);
  auto parts = Hub::SplitRun(run);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) EXPECT_EQ((*parts)[i], payloads[i]);
  auto first = Hub::Parse((*parts)[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->users, "u1,u2");
  for (const char* bad :
       {"", "B", "m|c||\n{}", "B3:ab", "Bx:abc", "B3abc", "B:abc", "B99999999999:x"}) {
    EXPECT_FALSE(Hub::SplitRun(bad).has_value()) << bad;
  }
  EXPECT_EQ(Hub::SplitRun("B0:")->size(), 1u);
}

TEST(PgStore, BatchArgumentAndSyncTokens) {
  AppendRequest r;
  r.id = "id1";
  r.event_id = "ev1";
  r.conversation_id = "c1";
  r.sender_id = "s1";
  r.type = "text";
  r.body = "he said \"hi\"\n";
  r.client_msg_id = "k1";
  r.reply_to_seq = 7;
  AppendRequest sys = r;
  sys.client_msg_id.reset();
  sys.reply_to_seq.reset();
  sys.type = "system";
  sys.system = json::object{{"action", "title_changed"}};
  sys.server_posted = true;
  auto v = json::parse(PgMessageStore::EncodeSendBatch({r, sys}));
  ASSERT_TRUE(v.is_array());
  const auto& a = v.as_array();
  ASSERT_EQ(a.size(), 2u);
  const json::object& text = a[0].as_object();
  EXPECT_EQ(text.at("index").as_int64(), 0);
  EXPECT_EQ(text.at("message_id").as_string(), "id1");
  EXPECT_EQ(text.at("event_id").as_string(), "ev1");
  EXPECT_EQ(text.at("conversation_id").as_string(), "c1");
  EXPECT_EQ(text.at("sender_id").as_string(), "s1");
  EXPECT_EQ(text.at("type").as_string(), "text");
  EXPECT_EQ(text.at("body").as_string(), "he said \"hi\"\n");
  EXPECT_EQ(text.at("client_msg_id").as_string(), "k1");
  EXPECT_EQ(text.at("reply_to_seq").as_int64(), 7);
  EXPECT_FALSE(text.contains("server_posted"));
  EXPECT_FALSE(text.contains("system"));
  const json::object& posted = a[1].as_object();
  EXPECT_EQ(posted.at("index").as_int64(), 1);
  EXPECT_FALSE(posted.contains("client_msg_id"));
  EXPECT_FALSE(posted.contains("reply_to_seq"));
  EXPECT_TRUE(posted.at("server_posted").as_bool());
  EXPECT_EQ(posted.at("system").at("action").as_string(), "title_changed");

  const std::string token = EncodeSyncToken("1234:1240:1235,1237");
  EXPECT_TRUE(token.starts_with("s1."));
  EXPECT_EQ(*DecodeSyncToken(token), "1234:1240:1235,1237");
  EXPECT_FALSE(DecodeSyncToken("").ok());
  EXPECT_FALSE(DecodeSyncToken("garbage").ok());
  EXPECT_FALSE(DecodeSyncToken("s1.!!!").ok());
  EXPECT_FALSE(DecodeSyncToken(EncodeSyncToken("1'; DROP TABLE x")).ok());
}

TEST(ModelJson, MessageAndEvents) {
  Message m;
  m.id = "m1";
  m.conversation_id = "c1";
  m.seq = 3;
  m.sender_id = "u1";
  m.type = "text";
  m.body = "hello";
  m.client_msg_id = "k";
  m.created_ms = 1714564800123;
  m.reactions = json::object{{"👍", json::array{"u2"}}};
  const json::object o = MessageJson(m);
  for (const char* key :
       {"id", "conversation_id", "seq", "sender_id", "type", "body", "client_msg_id",
        "reply_to_seq", "created_at", "edited_at", "deleted", "reactions"}) {
    EXPECT_TRUE(o.contains(key)) << key;
  }
  EXPECT_TRUE(o.at("reply_to_seq").is_null());
  EXPECT_TRUE(o.at("edited_at").is_null());
  EXPECT_EQ(o.at("created_at").as_string(), "2024-05-01T12:00:00.123Z");
  EXPECT_FALSE(o.contains("payment"));
  auto ev = json::parse(MessageEvent("message.new", m)).as_object();
  EXPECT_EQ(ev.at("type").as_string(), "message.new");
  EXPECT_EQ(ev.at("conversation_id").as_string(), "c1");
  EXPECT_EQ(ev.at("message").at("seq").as_int64(), 3);
  auto ack = json::parse(AckEvent(m)).as_object();
  EXPECT_EQ(ack.at("type").as_string(), "ack");
  EXPECT_EQ(ack.at("client_msg_id").as_string(), "k");
  auto err = json::parse(ErrorEvent("k", "invalid_argument", "bad")).as_object();
  EXPECT_EQ(err.at("error").at("code").as_string(), "invalid_argument");
  auto err2 = json::parse(ErrorEvent("", "x", "y")).as_object();
  EXPECT_FALSE(err2.contains("client_msg_id"));
  auto typing = json::parse(TypingEvent("c1", "u9")).as_object();
  EXPECT_EQ(typing.at("typing").at("user_id").as_string(), "u9");
  auto presence = json::parse(PresenceEvent("u9", false, 0)).as_object();
  EXPECT_TRUE(presence.at("presence").at("last_seen_at").is_null());
}

TEST(ModelJson, DirectWritersMatchTheDom) {
  Message plain;
  plain.id = "m1";
  plain.conversation_id = "c1";
  plain.seq = 1;
  plain.sender_id = "u1";
  plain.type = "text";
  plain.body = "hi";
  plain.created_ms = 1714564800123;
  Message full = plain;
  full.seq = 9007199254740993;
  // Ends in a NUL byte: every control character needs an escape.
  full.body = std::string("tab\there \"quoted\" back\\slash \x01\x1f\b\f\r\n ก 👍", 45);
  full.client_msg_id = "k-1";
  full.reply_to_seq = 7;
  full.edited_ms = 1714564801002;
  full.deleted = true;
  full.reactions = json::object{{"👍", json::array{"u2", "u3"}}};
  full.attachment = json::object{{"url", "https://x.test/a.png"}, {"size", 12}};
  full.payment = json::object{{"amount", "10.00"}};
  full.system = json::object{{"action", "title_changed"}};
  for (const Message* m : {&plain, &full}) {
    std::string direct;
    AppendMessageJson(direct, *m);
    EXPECT_EQ(direct, ToJson(MessageJson(*m)));
    EXPECT_EQ(MessageEvent("message.new", *m),
              ToJson(json::object{{"type", "message.new"},
                                  {"conversation_id", m->conversation_id},
                                  {"message", MessageJson(*m)}}));
    EXPECT_EQ(
        AckEvent(*m),
        ToJson(json::object{{"type", "ack"},
                            {"client_msg_id", m->client_msg_id ? *m->client_msg_id : std::string()},
                            {"conversation_id", m->conversation_id},
                            {"message", MessageJson(*m)}}));
  }
}

TEST(Service, OutcomesMapToSpecErrors) {
  auto with = [](AppendStatus s) {
    AppendOutcome o;
    o.status = s;
    o.message.seq = 5;
    return OutcomeToResult(Result<AppendOutcome>(o));
  };
  EXPECT_FALSE(with(AppendStatus::kOk)->duplicate);
  EXPECT_TRUE(with(AppendStatus::kDuplicate)->duplicate);
  EXPECT_EQ(with(AppendStatus::kNotFound).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(with(AppendStatus::kNotMember).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(with(AppendStatus::kBlocked).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(with(AppendStatus::kBadReply).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OutcomeToResult(Error::Unavailable("db")).error().code, ErrorCode::kUnavailable);
  // The attachment trigger's refusals (migration 000011) are the send's 404.
  for (const char* state : {"42501", "23503"}) {
    Error e{ErrorCode::kInternal, "ERROR:  media 0190 is not visible to the sender"};
    e.sqlstate = state;
    EXPECT_EQ(OutcomeToResult(e).error().code, ErrorCode::kNotFound) << state;
  }
  Error other{ErrorCode::kInvalidArgument, "insert or update violates foreign key constraint"};
  other.sqlstate = "23503";
  EXPECT_EQ(OutcomeToResult(other).error().code, ErrorCode::kInvalidArgument);
}

// ---- payment events ----

json::object Transfer() {
  return json::object{{"id", "7f0c7c1e-0000-4000-8000-000000000001"},
                      {"kind", "transfer"},
                      {"from_user_id", "0190b4c2-7a1e-7c3d-9f0a-00000000000a"},
                      {"to_user_id", "0190b4c2-7a1e-7c3d-9f0a-00000000000b"},
                      {"amount", 5000},
                      {"currency", "SGD"},
                      {"note", "lunch"},
                      {"conversation_id", "0190b4c2-7a1e-7c3d-9f0a-0000000000cc"},
                      {"status", "completed"},
                      {"payment_request_id", nullptr}};
}

// ---- configuration ----

ConfigReader ConfigFrom(std::map<std::string, std::string> m) {
  return ConfigReader([m = std::move(m)](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(std::string(k));
    if (it == m.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Config, SendLingerDefaultsAndLimits) {
  auto c = LoadConfig(ConfigFrom({}), CommonConfig{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->send_linger, std::chrono::milliseconds(5));
  EXPECT_EQ(c->send_linger_from, 16u);
  auto off =
      LoadConfig(ConfigFrom({{"messaging_send_linger", "0"}, {"messaging_send_linger_from", "1"}}),
                 CommonConfig{});
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->send_linger, std::chrono::milliseconds(0));
  EXPECT_EQ(off->send_linger_from, 1u);
  for (auto bad :
       std::vector<std::map<std::string, std::string>>{{{"messaging_send_linger", "2s"}},
                                                       {{"messaging_send_linger", "soon"}},
                                                       {{"messaging_send_linger_from", "0"}}}) {
    auto r = LoadConfig(ConfigFrom(bad), CommonConfig{});
    ASSERT_FALSE(r) << bad.begin()->first;
    EXPECT_NE(r.error().message.find(bad.begin()->first), std::string::npos) << r.error().message;
  }
}

TEST(Config, RateLimitsDefaultForPeopleAndZeroTurnsThemOff) {
  auto c = LoadConfig(ConfigFrom({}), CommonConfig{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->limits.messages.count, 300);
  EXPECT_EQ(c->limits.messages.window, std::chrono::minutes(1));
  EXPECT_EQ(c->limits.groups.window, std::chrono::hours(1));
  EXPECT_EQ(c->limits.searches.count, 60);
  EXPECT_EQ(c->limits.searches.window, std::chrono::minutes(1));
  auto off = LoadConfig(ConfigFrom({{"messaging_rate_messages_per_minute", "0"},
                                    {"messaging_rate_ws_connects_per_minute", "7"}}),
                        CommonConfig{});
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->limits.messages.count, 0);
  EXPECT_EQ(off->limits.connections.count, 7);
  auto bad = LoadConfig(ConfigFrom({{"messaging_rate_typing_per_minute", "-1"}}), CommonConfig{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("messaging_rate_typing_per_minute"), std::string::npos);
}

// ---- credentials ----

TEST(Revocation, AuthEventsNameASessionOrAllButOne) {
  auto one = ParseRevocation(
      R"({"type":"auth.session.revoked","data":{"session_id":"0190B1A5-0000-7000-8000-000000000001",)"
      R"("user_id":"0190b1a5-0000-7000-8000-000000000002","reason":"logout"}})");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->session_id, "0190b1a5-0000-7000-8000-000000000001");
  EXPECT_EQ(one->user_id, "0190b1a5-0000-7000-8000-000000000002");
  EXPECT_EQ(one->reason, "logout");
  auto all = ParseRevocation(
      R"({"type":"auth.sessions.revoked","data":{"user_id":"0190b1a5-0000-7000-8000-000000000002",)"
      R"("except_session_id":"0190b1a5-0000-7000-8000-000000000003"}})");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->session_id.empty());
  EXPECT_EQ(all->except_session_id, "0190b1a5-0000-7000-8000-000000000003");
  EXPECT_TRUE(all->session_ids.empty());
  // A password change lists the sessions it ended; entries that are not ids are skipped.
  auto listed = ParseRevocation(
      R"({"type":"auth.sessions.revoked","data":{"user_id":"0190b1a5-0000-7000-8000-000000000002",)"
      R"("except_session_id":"","session_ids":["0190B1A5-0000-7000-8000-000000000004",7,"x",)"
      R"("0190b1a5-0000-7000-8000-000000000005"]}})");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->session_ids,
            (std::vector<std::string>{"0190b1a5-0000-7000-8000-000000000004",
                                      "0190b1a5-0000-7000-8000-000000000005"}));
  EXPECT_FALSE(ParseRevocation(R"({"type":"auth.otp.requested","data":{"phone":"+66"}})"));
  EXPECT_FALSE(ParseRevocation(R"({"type":"auth.session.revoked","data":{"session_id":"x"}})"));
  EXPECT_FALSE(ParseRevocation(R"({"type":"auth.sessions.revoked","data":{}})"));
  EXPECT_FALSE(ParseRevocation("not json"));
}

// A password change's revocation names the sessions it ended: their tokens are
// refused from then on (and forgotten once they can no longer be valid).
TEST(Revocation, AUserWideRevocationRemembersTheSessionsItNames) {
  boost::asio::io_context io{1};
  redis::RedisOptions ro;
  ro.url = "redis://127.0.0.1:1/0";  // never used: nothing is published
  redis::RedisClient redis(io.get_executor(), ro);
  Hub hub(io.get_executor(), redis, ro, Hub::Options{});
  SessionGuard guard(hub, std::chrono::seconds(60));
  const std::string kept = "0190b1a5-0000-7000-8000-000000000003";
  const std::string ended = "0190b1a5-0000-7000-8000-000000000004";
  Revocation r;
  r.user_id = "0190b1a5-0000-7000-8000-000000000002";
  r.except_session_id = kept;
  const auto now = std::chrono::system_clock::now();
  guard.Apply(r, now);
  EXPECT_FALSE(guard.IsRevoked(ended)) << "not named: nothing to remember";
  r.session_ids = {ended};
  guard.Apply(r, now);
  EXPECT_TRUE(guard.IsRevoked(ended));
  EXPECT_FALSE(guard.IsRevoked(kept));
  guard.CloseExpired(now + std::chrono::minutes(2));  // past `remember`: forgotten
  EXPECT_FALSE(guard.IsRevoked(ended));
}

TEST(ModelJson, RateLimitedErrorsCarryRetryAfter) {
  auto e = json::parse(ErrorEvent("k", "rate_limited", "slow down", 12)).as_object();
  EXPECT_EQ(e.at("retry_after").as_int64(), 12);
  auto plain = json::parse(ErrorEvent("k", "invalid_argument", "bad")).as_object();
  EXPECT_FALSE(plain.contains("retry_after"));
}

// ---- send batcher ----

// A store whose every append takes `commit_time` and answers "not found" (so
// that nothing is published); it records when each batch started and its size.
class TimedStore final : public MessageStore {
 public:
  TimedStore(boost::asio::any_io_executor ex, std::chrono::milliseconds commit_time)
      : ex_(std::move(ex)), commit_time_(commit_time) {}
  struct Call {
    std::chrono::steady_clock::time_point start;
    std::size_t size;
  };
  std::vector<Call> calls;

  Task<Result<std::vector<AppendOutcome>>> Append(std::vector<AppendRequest> batch) override {
    calls.push_back({std::chrono::steady_clock::now(), batch.size()});
    boost::asio::steady_timer t(ex_, commit_time_);
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return std::vector<AppendOutcome>(batch.size());
  }
  Task<Result<HistoryPage>> History(std::string_view, HistoryQuery) override {
    co_return Error::Internal("unused");
  }
  Task<Result<MessageChange>> Edit(std::string_view, std::int64_t, std::string_view,
                                   std::string_view, std::string_view) override {
    co_return Error::Internal("unused");
  }
  Task<Result<MessageChange>> Delete(std::string_view, std::int64_t, std::string_view, bool,
                                     std::string_view) override {
    co_return Error::Internal("unused");
  }
  Task<Result<MessageChange>> React(std::string_view, std::int64_t, std::string_view,
                                    std::string_view, bool) override {
    co_return Error::Internal("unused");
  }
  Task<Result<SyncResult>> Sync(std::string_view, std::string_view, int) override {
    co_return Error::Internal("unused");
  }

 private:
  boost::asio::any_io_executor ex_;
  std::chrono::milliseconds commit_time_;
};

// A batcher on its own loop over a TimedStore of 5 ms commits.
struct BatcherRig {
  explicit BatcherRig(SendBatcher::Options opts)
      : store(io.get_executor(), std::chrono::milliseconds(5)),
        redis(io.get_executor(), Unused()),
        hub(io.get_executor(), redis, Unused(), Hub::Options{}),
        batcher(io.get_executor(), store, hub, nullptr, opts) {}
  static redis::RedisOptions Unused() {
    redis::RedisOptions ro;
    ro.url = "redis://127.0.0.1:1/0";  // never used: nothing is published
    return ro;
  }
  static AppendRequest Request(int i) {
    AppendRequest r;
    r.conversation_id = "c";
    r.client_msg_id = "m" + std::to_string(i);
    return r;
  }
  boost::asio::io_context io{1};
  TimedStore store;
  redis::RedisClient redis;
  Hub hub;
  SendBatcher batcher;
};

TEST(SendBatcher, LingersBetweenCommitsOnlyUnderLoad) {
  using namespace std::chrono_literals;
  SendBatcher::Options opts;
  opts.linger = 300ms;
  opts.linger_from = 4;
  BatcherRig rig(opts);
  auto& store = rig.store;
  int answered = 0;
  bool done = false;
  boost::asio::co_spawn(
      rig.io,
      [&]() -> Task<void> {
        // Light load: a commit of one, then the next message right after its answer.
        (void)co_await rig.batcher.Send(BatcherRig::Request(1), "");
        (void)co_await rig.batcher.Send(BatcherRig::Request(2), "");
        // Load: the first of six sent at once is committed alone at once (the lane
        // was idle), the other five together; the one after them waits for the linger.
        for (int i = 3; i <= 7; ++i) {
          rig.batcher.Submit(BatcherRig::Request(i), "",
                             [&](Result<AppendOutcome>) { ++answered; });
        }
        (void)co_await rig.batcher.Send(BatcherRig::Request(8), "");
        (void)co_await rig.batcher.Send(BatcherRig::Request(9), "");
        done = true;
      },
      boost::asio::detached);
  rig.io.run_for(5s);
  ASSERT_TRUE(done);
  EXPECT_EQ(answered, 5);
  ASSERT_EQ(store.calls.size(), 5u);
  EXPECT_EQ(store.calls[0].size, 1u);
  EXPECT_EQ(store.calls[1].size, 1u);
  EXPECT_EQ(store.calls[2].size, 1u);
  EXPECT_EQ(store.calls[3].size, 5u);
  EXPECT_EQ(store.calls[4].size, 1u);
  // A commit of one is no load: the next starts as soon as the first is done.
  EXPECT_LT(store.calls[1].start - store.calls[0].start, 200ms);
  EXPECT_LT(store.calls[3].start - store.calls[2].start, 200ms);
  // After a commit of five (>= linger_from), the next starts a linger after it.
  EXPECT_GE(store.calls[4].start - store.calls[3].start, 300ms);
}

TEST(SendBatcher, AFullBatchWaitingIsCommittedWithoutLingering) {
  using namespace std::chrono_literals;
  SendBatcher::Options opts;
  opts.max_batch = 4;
  opts.linger = 300ms;
  opts.linger_from = 2;
  BatcherRig rig(opts);
  int answered = 0;
  // The first goes alone (the worker was idle); the other eight queue behind it.
  boost::asio::post(rig.io, [&] {
    for (int i = 1; i <= 9; ++i) {
      rig.batcher.Submit(BatcherRig::Request(i), "", [&](Result<AppendOutcome>) { ++answered; });
    }
  });
  rig.io.run_for(2s);
  EXPECT_EQ(answered, 9);
  // Then two full batches: the second, full already when the first is done, does
  // not wait for the linger.
  ASSERT_EQ(rig.store.calls.size(), 3u);
  EXPECT_EQ(rig.store.calls[0].size, 1u);
  EXPECT_EQ(rig.store.calls[1].size, 4u);
  EXPECT_EQ(rig.store.calls[2].size, 4u);
  EXPECT_LT(rig.store.calls[2].start - rig.store.calls[1].start, 200ms);
}

TEST(PaymentConsumer, TransferBecomesAPaymentMessageFromTheSender) {
  auto r = PaymentConsumer::MessageFor("payment.transfer.completed", Transfer());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, "payment");
  EXPECT_EQ(r->sender_id, "0190b4c2-7a1e-7c3d-9f0a-00000000000a");
  EXPECT_EQ(r->conversation_id, "0190b4c2-7a1e-7c3d-9f0a-0000000000cc");
  EXPECT_EQ(*r->client_msg_id, "payment:transfer:7f0c7c1e-0000-4000-8000-000000000001");
  EXPECT_EQ(r->body, "lunch");
  EXPECT_FALSE(r->server_posted);  // the sender must be a member
  EXPECT_EQ(r->payment->at("amount").as_int64(), 5000);
  EXPECT_EQ(r->payment->at("kind").as_string(), "transfer");
  // The same event again gives the same client_msg_id: posted once.
  auto again = PaymentConsumer::MessageFor("payment.transfer.completed", Transfer());
  EXPECT_EQ(*again->client_msg_id, *r->client_msg_id);
  EXPECT_NE(again->id, r->id);

  auto no_conv = Transfer();
  no_conv["conversation_id"] = nullptr;
  EXPECT_FALSE(PaymentConsumer::MessageFor("payment.transfer.completed", no_conv));
  auto pays_request = Transfer();
  pays_request["payment_request_id"] = "7f0c7c1e-0000-4000-8000-000000000002";
  EXPECT_FALSE(PaymentConsumer::MessageFor("payment.transfer.completed", pays_request));
  EXPECT_FALSE(PaymentConsumer::MessageFor("payment.topup.succeeded", Transfer()));
}

TEST(PaymentConsumer, RequestStatesComeFromTheRightSide) {
  json::object req{{"id", "7f0c7c1e-0000-4000-8000-000000000003"},
                   {"from_user_id", "0190b4c2-7a1e-7c3d-9f0a-00000000000a"},  // asked to pay
                   {"to_user_id", "0190b4c2-7a1e-7c3d-9f0a-00000000000b"},    // asked for it
                   {"amount", 100},
                   {"currency", "THB"},
                   {"note", nullptr},
                   {"conversation_id", "0190b4c2-7a1e-7c3d-9f0a-0000000000cc"},
                   {"status", "pending"}};
  auto created = PaymentConsumer::MessageFor("payment.request.created", req);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->sender_id, "0190b4c2-7a1e-7c3d-9f0a-00000000000b");
  EXPECT_EQ(created->payment->at("status").as_string(), "pending");
  auto paid = PaymentConsumer::MessageFor("payment.request.paid", req);
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->sender_id, "0190b4c2-7a1e-7c3d-9f0a-00000000000a");
  EXPECT_NE(*paid->client_msg_id, *created->client_msg_id);
  auto declined = PaymentConsumer::MessageFor("payment.request.declined", req);
  EXPECT_EQ(declined->sender_id, "0190b4c2-7a1e-7c3d-9f0a-00000000000a");
  auto cancelled = PaymentConsumer::MessageFor("payment.request.cancelled", req);
  EXPECT_EQ(cancelled->sender_id, "0190b4c2-7a1e-7c3d-9f0a-00000000000b");
  EXPECT_FALSE(PaymentConsumer::MessageFor("payment.request.exploded", req));
  req["from_user_id"] = "not-a-user";
  EXPECT_FALSE(PaymentConsumer::MessageFor("payment.request.paid", req));
}

}  // namespace
}  // namespace tchat::messaging
