#include "events.hpp"

#include <gtest/gtest.h>

#include "outcome_writer.hpp"

namespace tchat::notification {
namespace {

constexpr const char* kU1 = "0190f8a0-0000-7000-8000-000000000001";
constexpr const char* kU2 = "0190f8a0-0000-7000-8000-000000000002";

TEST(Events, ParsesTheEnvelope) {
  auto e = ParseEnvelope(
      R"({"id":"e1","type":"message.created","occurred_at":"2026-01-01T00:00:00.000Z","data":{"a":1}})");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->id, "e1");
  EXPECT_EQ(e->type, "message.created");
  EXPECT_EQ(FormatRfc3339Ms(e->occurred_at), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(e->data.at("a"), 1);
  for (const char* bad : {"", "{", "[]", R"({"type":"x","data":{}})", R"({"id":"e","data":{}})",
                          R"({"id":"e","type":"x"})", R"({"id":"e","type":"x","data":[]})",
                          R"({"id":"e","type":"x","data":{},"occurred_at":"never"})",
                          R"({"id":7,"type":"x","data":{}})"}) {
    EXPECT_FALSE(ParseEnvelope(bad)) << bad;
  }
}

TEST(Events, ClassifiesTypes) {
  EXPECT_EQ(ClassifyEventType("auth.otp.requested"), EventKind::kOtpRequested);
  EXPECT_EQ(ClassifyEventType("message.created"), EventKind::kMessageCreated);
  EXPECT_EQ(ClassifyEventType("payment.transfer.completed"), EventKind::kPayment);
  EXPECT_EQ(ClassifyEventType("payment.topup.failed"), EventKind::kPayment);
  EXPECT_EQ(ClassifyEventType("message.deleted"), EventKind::kIgnored);
  EXPECT_EQ(ClassifyEventType("auth.user.created"), EventKind::kIgnored);
  EXPECT_EQ(ClassifyEventType("weird.thing"), EventKind::kUnknown);
  EXPECT_EQ(ClassifyEventType("payment."), EventKind::kUnknown);
  EXPECT_EQ(ClassifyEventType(""), EventKind::kUnknown);
}

TEST(Events, DecodesMessageCreated) {
  auto data = ParseJsonObject(
      std::string(R"({"conversation_id":"c1","message_id":"m1","seq":4,"sender_id":")") + kU1 +
      R"(","recipients":[")" + kU1 + R"(",")" + kU2 + R"(",")" + kU2 +
      R"("],"preview":"hi","type":"text","sender_name":"Ann"})");
  ASSERT_TRUE(data);
  auto m = DecodeMessageCreated(*data);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->seq, 4);
  EXPECT_EQ(m->recipients.size(), 2u) << "duplicates removed";
  EXPECT_EQ(m->sender_name, "Ann");
  // Messaging's shape: message_type, a null title, the sender left out.
  auto mine = ParseJsonObject(
      std::string(
          R"({"conversation_id":"c1","conversation_type":"direct","conversation_title":null,"message_id":"m","seq":9,"sender_id":")") +
      kU1 + R"(","message_type":"image","preview":"","recipients":[")" + kU2 + R"("]})");
  auto mm = DecodeMessageCreated(*mine);
  ASSERT_TRUE(mm) << mm.error().message;
  EXPECT_EQ(mm->message_type, "image");
  EXPECT_EQ(mm->conversation_title, "");
  // Recipients as objects are accepted too.
  auto objs = ParseJsonObject(std::string(R"({"conversation_id":"c","sender_id":")") + kU1 +
                              R"(","recipients":[{"user_id":")" + kU2 + R"("}]})");
  ASSERT_TRUE(DecodeMessageCreated(*objs));
  for (std::string bad :
       {std::string(R"({"sender_id":")") + kU1 + R"(","recipients":[]})",
        std::string(R"({"conversation_id":"c","sender_id":"x","recipients":[]})"),
        std::string(R"({"conversation_id":"c","sender_id":")") + kU1 + R"(","recipients":5})",
        std::string(R"({"conversation_id":"c","sender_id":")") + kU1 +
            R"(","recipients":["nope"]})"}) {
    auto o = ParseJsonObject(bad);
    ASSERT_TRUE(o);
    EXPECT_FALSE(DecodeMessageCreated(*o)) << bad;
  }
}

TEST(Events, DecodesPaymentParties) {
  auto t = ParseJsonObject(std::string(R"({"transfer":{"id":"t1","from_user_id":")") + kU1 +
                           R"(","to_user_id":")" + kU2 + R"(","amount":500,"currency":"THB"}})");
  auto p = DecodePaymentEvent("payment.transfer.completed", *t);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->object, "transfer");
  ASSERT_EQ(p->parties.size(), 2u);
  EXPECT_EQ(p->parties[0].user_id, kU2);
  EXPECT_EQ(p->parties[0].role, PartyRole::kReceiver);
  EXPECT_EQ(p->parties[1].role, PartyRole::kSender);
  auto r = ParseJsonObject(std::string(R"({"request":{"id":"r","from_user_id":")") + kU1 +
                           R"(","requester_id":")" + kU2 + R"(","amount":1,"currency":"PHP"}})");
  auto q = DecodePaymentEvent("payment.request.created", *r);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->parties[0].role, PartyRole::kPayer);
  EXPECT_EQ(q->parties[1].role, PartyRole::kRequester);
  auto none = ParseJsonObject(R"({"transfer":{"id":"t"}})");
  EXPECT_FALSE(DecodePaymentEvent("payment.transfer.completed", *none));
  auto bad = ParseJsonObject(R"({"topup":{"user_id":"not-a-uuid"}})");
  EXPECT_FALSE(DecodePaymentEvent("payment.topup.succeeded", *bad));
}

TEST(Events, DecodesOtp) {
  auto ok = ParseJsonObject(
      R"({"phone":"+66812345678","sealed_code":"c2VhbGVk","locale":"th","expires_in":300})");
  auto o = DecodeOtpRequested(*ok);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->expires_in, 300);
  EXPECT_FALSE(o->expires_at);
  // auth's shape: expires_at, plus fields this service does not read.
  auto a = DecodeOtpRequested(*ParseJsonObject(
      R"({"phone":"+66812345678","country":"TH","locale":"th","sealed_code":"c2VhbGVk","purpose":"sign_in","expires_at":"2026-01-01T00:05:00.000Z"})"));
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(a->expires_at);
  EXPECT_EQ(FormatRfc3339Ms(*a->expires_at), "2026-01-01T00:05:00.000Z");
  // A plaintext code is refused: only a sealed one may travel.
  for (const char* bad :
       {R"({"phone":"0812345678","sealed_code":"c2VhbGVk"})", R"({"phone":"+66812345678"})",
        R"({"phone":"+66812345678","code":"1234"})", R"({"phone":"+66812345678","sealed_code":""})",
        R"({"phone":"+66812345678","sealed_code":"c2Vh","expires_in":-1})"}) {
    EXPECT_FALSE(DecodeOtpRequested(*ParseJsonObject(bad))) << bad;
  }
}

TEST(Events, DecodesAuthUserDeleted) {
  EXPECT_EQ(ClassifyEventType("auth.user.deleted"), EventKind::kUserDeleted);
  const std::string u = "0190f8a0-0000-7000-8000-000000000001";
  auto d = DecodeUserDeleted(json::object{{"user_id", u}, {"deleted_at", "2026-12-07T00:00:00Z"}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->user_id, u);
  EXPECT_FALSE(DecodeUserDeleted(json::object{{"user_id", "someone"}}));
  EXPECT_FALSE(DecodeUserDeleted(json::object{}));
}

TEST(Events, DecodesAuthSessionAndPasswordEvents) {
  EXPECT_EQ(ClassifyEventType("auth.password.changed"), EventKind::kPasswordChanged);
  EXPECT_EQ(ClassifyEventType("auth.session.revoked"), EventKind::kSessionRevoked);
  const std::string u = "0190f8a0-0000-7000-8000-000000000001";
  const std::string s = "0190f8a0-0000-7000-8000-000000000002";
  auto pc = DecodePasswordChanged(json::object{{"user_id", u}, {"change", "reset"}});
  ASSERT_TRUE(pc);
  EXPECT_EQ(pc->change, "reset");
  EXPECT_FALSE(DecodePasswordChanged(json::object{{"user_id", "me"}}));
  auto sr = DecodeSessionRevoked(json::object{{"user_id", u}, {"session_id", s}});
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->session_id, s);
  EXPECT_FALSE(DecodeSessionRevoked(json::object{{"user_id", u}}));
  EXPECT_FALSE(DecodeSessionRevoked(json::object{{"user_id", u}, {"session_id", "x"}}));
}

TEST(DeliveryOutcomes, MergedBatchesAreOneStatementPerKind) {
  DeliveryOutcomes a, b;
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.Statements().empty());
  a.done.Add("d1");
  b.done.Add("d2");
  b.unregistered.Add("dev1");
  a.Append(b);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a.done.str(), R"({"d1","d2"})");
  auto st = a.Statements();
  ASSERT_EQ(st.size(), 2u);  // delete done, delete unregistered devices
  EXPECT_NE(st[0].sql.find("DELETE FROM delivery_queue"), std::string_view::npos);
  EXPECT_NE(st[1].sql.find("DELETE FROM devices"), std::string_view::npos);
}

}  // namespace
}  // namespace tchat::notification
