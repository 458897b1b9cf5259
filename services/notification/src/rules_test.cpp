#include "rules.hpp"

#include <map>

#include <gtest/gtest.h>

namespace tchat::notification {
namespace {

SysTime At(const char* s) {
  return *ParseRfc3339(s);
}

const std::string kSender = "0190f8a0-0000-7000-8000-00000000000a";
const std::string kA = "0190f8a0-0000-7000-8000-000000000001";
const std::string kB = "0190f8a0-0000-7000-8000-000000000002";

class Views {
 public:
  RecipientView& operator[](const std::string& u) {
    auto& v = views_[u];
    return v;
  }
  RecipientLookup Lookup() {
    return [this](const std::string& u) -> const RecipientView& { return views_[u]; };
  }

 private:
  std::map<std::string, RecipientView> views_;
};

Envelope Env(const char* at) {
  Envelope e;
  e.id = "evt";
  e.type = "message.created";
  e.occurred_at = At(at);
  return e;
}

MessageCreated Msg(std::vector<std::string> recipients) {
  MessageCreated m;
  m.conversation_id = "conv-1";
  m.message_id = "m1";
  m.seq = 3;
  m.sender_id = kSender;
  m.sender_name = "Somchai";
  m.recipients = std::move(recipients);
  m.preview = "hello";
  return m;
}

TEST(Rules, MessagePushesOnlyEligibleRecipients) {
  Views v;
  for (auto* u : {&kSender, &kA, &kB}) v[*u].has_devices = true;
  const auto now = At("2026-01-15T05:00:00Z");
  auto plan = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kSender, kA, kB}), v.Lookup(), now, {});
  ASSERT_EQ(plan.pushes.size(), 2u) << "the sender is never notified";
  EXPECT_EQ(plan.pushes[0].collapse_key, "conv-1");
  EXPECT_TRUE(plan.pushes[0].collapsible);

  struct Case {
    const char* reason;
    std::function<void(RecipientView&)> set;
  };
  const std::vector<Case> cases = {
      {"online", [](RecipientView& r) { r.online = true; }},
      {"push_disabled", [](RecipientView& r) { r.settings.push_enabled = false; }},
      {"muted", [](RecipientView& r) { r.muted = true; }},
      {"no_device", [](RecipientView& r) { r.has_devices = false; }},
      // 12:00 in Bangkok is inside 11:00-13:00.
      {"quiet_hours",
       [](RecipientView& r) {
         r.settings.quiet = QuietHours{660, 780, "Asia/Bangkok"};
       }},
  };
  for (const auto& c : cases) {
    Views w;
    w[kA].has_devices = true;
    c.set(w[kA]);
    auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kA}), w.Lookup(), now, {});
    EXPECT_TRUE(p.pushes.empty()) << c.reason;
    ASSERT_EQ(p.suppressed.size(), 1u) << c.reason;
    EXPECT_EQ(p.suppressed[0].reason, c.reason);
  }
  // Stale events (a backlog) are not pushed.
  auto stale = PlanMessage(Env("2026-01-13T05:00:00Z"), Msg({kA}), v.Lookup(), now, {});
  EXPECT_TRUE(stale.pushes.empty());
  EXPECT_EQ(stale.suppressed.at(0).reason, "stale");
}

TEST(Rules, MessageInboxEntryForOfflineUnmutedRecipientsWhateverThePushSettings) {
  const auto now = At("2026-01-15T05:00:00Z");
  // No inbox entry: the sender, an online recipient, a muted conversation.
  {
    Views v;
    v[kA].online = true;
    v[kB].muted = true;
    auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kSender, kA, kB}), v.Lookup(), now, {});
    EXPECT_TRUE(p.inbox.empty());
    EXPECT_TRUE(p.pushes.empty());
  }
  // An entry even when the push is held back.
  const std::vector<std::pair<const char*, std::function<void(RecipientView&)>>> held = {
      {"push_disabled", [](RecipientView& r) { r.settings.push_enabled = false; }},
      {"no_device", [](RecipientView& r) { r.has_devices = false; }},
      {"quiet_hours",
       [](RecipientView& r) {
         r.settings.quiet = QuietHours{660, 780, "Asia/Bangkok"};
       }},
  };
  for (const auto& [reason, set] : held) {
    Views w;
    w[kA].has_devices = true;
    set(w[kA]);
    auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kA}), w.Lookup(), now, {});
    EXPECT_TRUE(p.pushes.empty()) << reason;
    ASSERT_EQ(p.inbox.size(), 1u) << reason;
    EXPECT_EQ(p.suppressed.at(0).reason, reason);
  }
  Views v;
  v[kA].has_devices = true;
  auto stale = PlanMessage(Env("2026-01-13T05:00:00Z"), Msg({kA}), v.Lookup(), now, {});
  EXPECT_TRUE(stale.pushes.empty());
  EXPECT_EQ(stale.inbox.size(), 1u) << "an old event still reaches the inbox";

  auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kSender, kA}), v.Lookup(), now, {});
  ASSERT_EQ(p.inbox.size(), 1u);
  ASSERT_EQ(p.pushes.size(), 1u);
  const InboxItem& e = p.inbox[0];
  EXPECT_EQ(e.user_id, kA);
  EXPECT_EQ(e.kind, "message");
  EXPECT_EQ(e.collapse_key, "conv-1");
  // Title and body as the push's.
  const auto push = RenderPush(p.pushes[0].payload, 1);
  EXPECT_EQ(e.title, push.title);
  EXPECT_EQ(e.body, push.body);
  EXPECT_EQ(e.title, "Somchai");
  EXPECT_EQ(e.body, "hello");
  EXPECT_EQ(ToJson(e.data), ToJson(json::object{{"conversation_id", "conv-1"},
                                                {"message_id", "m1"},
                                                {"sender_id", kSender},
                                                {"seq", 3},
                                                {"count", 1}}));
  EXPECT_EQ(ToJson(e.render), ToJson(p.pushes[0].payload));
}

TEST(Rules, MessageInboxCollapsedAndHiddenTexts) {
  Views v;
  v[kA].settings.show_previews = false;
  v[kA].settings.locale = Locale::kTh;
  auto m = Msg({kA, kB});
  m.conversation_title = "Lunch club";
  auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), m, v.Lookup(), At("2026-01-15T05:00:00Z"), {});
  ASSERT_EQ(p.inbox.size(), 2u);
  // Hidden previews: nothing of the message, in the inbox either.
  EXPECT_EQ(p.inbox[0].title, "ข้อความใหม่");
  EXPECT_EQ(p.inbox[0].body, "เปิด Tchat เพื่ออ่าน");
  EXPECT_EQ(ToJson(p.inbox[0].render).find("hello"), std::string::npos);
  EXPECT_EQ(ToJson(p.inbox[0].render).find("Lunch"), std::string::npos);
  // A group: the conversation's title, the sender's name before the preview.
  EXPECT_EQ(p.inbox[1].title, "Lunch club");
  EXPECT_EQ(p.inbox[1].body, "Somchai: hello");
  auto many = RenderMessageInbox(p.inbox[1].render, 4);
  EXPECT_EQ(many.title, "Lunch club · 4 new messages");
  EXPECT_EQ(many.body, "Somchai: hello");
  EXPECT_EQ(many.data.at("count"), 4);
  EXPECT_EQ(many.data.at("seq"), 3);
  EXPECT_EQ(RenderMessageInbox(p.inbox[0].render, 2).title, "ข้อความใหม่ 2 ข้อความ");
  // The later message by seq, then by time.
  json::object later = p.inbox[1].render;
  later["seq"] = 4;
  EXPECT_LT(MessageOrder(p.inbox[1].render), MessageOrder(later));
}

TEST(Rules, QuietHoursAcrossMidnightPerRecipientZone) {
  Views v;
  v[kA].has_devices = true;
  v[kA].settings.quiet = QuietHours{22 * 60, 7 * 60, "Asia/Bangkok"};
  v[kB].has_devices = true;
  v[kB].settings.quiet = QuietHours{22 * 60, 7 * 60, "Asia/Manila"};
  // 22:30 in Manila, 21:30 in Bangkok: only B is in quiet hours.
  auto p = PlanMessage(Env("2026-01-15T14:30:00Z"), Msg({kA, kB}), v.Lookup(),
                       At("2026-01-15T14:30:00Z"), {});
  ASSERT_EQ(p.pushes.size(), 1u);
  EXPECT_EQ(p.pushes[0].user_id, kA);
  // 03:00 / 04:00 local: both asleep.
  auto night = PlanMessage(Env("2026-01-15T20:00:00Z"), Msg({kA, kB}), v.Lookup(),
                           At("2026-01-15T20:00:00Z"), {});
  EXPECT_TRUE(night.pushes.empty());
  // 06:30 Bangkok is quiet, 07:30 Manila is not.
  auto morning = PlanMessage(Env("2026-01-15T23:30:00Z"), Msg({kA, kB}), v.Lookup(),
                             At("2026-01-15T23:30:00Z"), {});
  ASSERT_EQ(morning.pushes.size(), 1u);
  EXPECT_EQ(morning.pushes[0].user_id, kB);
}

TEST(Rules, RenderMessageWithPreviewsCollapsedAndHidden) {
  Views v;
  v[kA].has_devices = true;
  v[kB].has_devices = true;
  v[kB].settings.show_previews = false;
  v[kB].settings.locale = Locale::kVi;
  const auto now = At("2026-01-15T05:00:00Z");
  auto p = PlanMessage(Env("2026-01-15T05:00:00Z"), Msg({kA, kB}), v.Lookup(), now, {});
  ASSERT_EQ(p.pushes.size(), 2u);
  auto one = RenderPush(p.pushes[0].payload, 1);
  EXPECT_EQ(one.title, "Somchai");
  EXPECT_EQ(one.body, "hello");
  EXPECT_EQ(one.collapse_key, "conv-1");
  EXPECT_EQ(one.data.at("seq"), "3");
  auto many = RenderPush(p.pushes[0].payload, 4);
  EXPECT_EQ(many.title, "Somchai · 4 new messages");
  EXPECT_EQ(many.data.at("count"), "4");
  auto hidden = RenderPush(p.pushes[1].payload, 1);
  EXPECT_EQ(hidden.title, "Tin nhắn mới");
  EXPECT_EQ(hidden.body, "Mở Tchat để đọc");
  EXPECT_EQ(ToJson(p.pushes[1].payload).find("hello"), std::string::npos)
      << "hidden previews are not even stored";
  EXPECT_EQ(RenderPush(p.pushes[1].payload, 3).title, "3 tin nhắn mới");
}

TEST(Rules, PaymentTransferNotifiesBothPartiesInboxEvenWithoutPush) {
  Views v;
  v[kA].has_devices = true;
  v[kA].settings.locale = Locale::kTh;
  v[kB].settings.push_enabled = false;
  PaymentEvent pe;
  pe.type = "payment.transfer.completed";
  pe.object = "transfer";
  pe.object_id = "t1";
  pe.amount = 150000;
  pe.currency = "THB";
  pe.parties = {{kA, PartyRole::kReceiver}, {kB, PartyRole::kSender}};
  Envelope e = Env("2026-01-15T05:00:00Z");
  e.type = pe.type;
  auto p = PlanPayment(e, pe, v.Lookup(), At("2026-01-15T05:00:00Z"), {});
  ASSERT_EQ(p.inbox.size(), 2u);
  EXPECT_EQ(p.inbox[0].kind, "payment.received");
  EXPECT_EQ(p.inbox[0].title, "ได้รับเงินแล้ว");
  EXPECT_EQ(p.inbox[0].body, "คุณได้รับเงิน 1,500.00 THB");
  EXPECT_EQ(p.inbox[1].kind, "payment.sent");
  ASSERT_EQ(p.pushes.size(), 1u);
  EXPECT_EQ(p.pushes[0].user_id, kA);
  EXPECT_FALSE(p.pushes[0].collapsible);
  EXPECT_EQ(RenderPush(p.pushes[0].payload, 1).title, "ได้รับเงินแล้ว");
  EXPECT_EQ(p.suppressed.at(0).reason, "push_disabled");
}

TEST(Rules, PasswordChangeIsToldEvenInQuietHours) {
  Views v;
  v[kA].has_devices = true;
  v[kA].settings.locale = Locale::kTh;
  v[kA].settings.quiet = QuietHours{660, 780, "Asia/Bangkok"};  // 11:00-13:00 there
  Envelope e = Env("2026-01-15T05:00:00Z");                     // 12:00 in Bangkok
  e.type = "auth.password.changed";
  PasswordChanged pc{kA, "changed"};
  auto p = PlanPasswordChanged(e, pc, v.Lookup(), At("2026-01-15T05:00:01Z"), {});
  ASSERT_EQ(p.inbox.size(), 1u);
  EXPECT_EQ(p.inbox[0].kind, "security");
  ASSERT_EQ(p.pushes.size(), 1u) << "quiet hours do not hold a security notice back";
  EXPECT_EQ(RenderPush(p.pushes[0].payload, 1).title, "รหัสผ่าน Tchat ของคุณถูกเปลี่ยน");
  pc.change = "reset";
  v[kA].settings.push_enabled = false;
  auto off = PlanPasswordChanged(e, pc, v.Lookup(), At("2026-01-15T05:00:01Z"), {});
  EXPECT_TRUE(off.pushes.empty());
  ASSERT_EQ(off.inbox.size(), 1u);
  EXPECT_NE(off.inbox[0].body, p.inbox[0].body) << "a reset is worded as one";
}

TEST(Rules, OtpAlwaysSentUnlessExpiredInTheRightLanguage) {
  OtpRequested otp;
  otp.phone = "+66812345678";
  // RFC 7748 §6.1's Alice: the SMS sender's key.
  auto opener = SealedBoxOpener::FromSecretKeyHex(
      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  ASSERT_TRUE(opener);
  otp.sealed_code = SealedBoxSender::FromPublicKeyHex(opener->PublicKeyHex())->Seal("654321");
  otp.expires_in = 300;
  Envelope e = Env("2026-01-15T05:00:00Z");
  auto p = PlanOtp(e, otp, std::nullopt, At("2026-01-15T05:00:01Z"));
  ASSERT_EQ(p.sms.size(), 1u);
  EXPECT_EQ(ToJson(p.sms[0].payload).find("654321"), std::string::npos)
      << "the queued payload keeps the code sealed";
  auto sms = RenderSms(p.sms[0].payload, *opener);
  ASSERT_TRUE(sms);
  EXPECT_EQ(sms->to, "+66812345678");
  EXPECT_EQ(sms->locale, "th") << "the country's language when nothing else is known";
  EXPECT_NE(sms->text.find("654321"), std::string::npos);
  otp.locale = "id";
  EXPECT_EQ(
      RenderSms(PlanOtp(e, otp, Locale::kVi, At("2026-01-15T05:00:01Z")).sms[0].payload, *opener)
          ->locale,
      "id");
  otp.locale.clear();
  EXPECT_EQ(
      RenderSms(PlanOtp(e, otp, Locale::kVi, At("2026-01-15T05:00:01Z")).sms[0].payload, *opener)
          ->locale,
      "vi");
  otp.expires_at = At("2026-01-15T05:10:00Z");
  otp.locale = "en";
  auto ten = PlanOtp(e, otp, std::nullopt, At("2026-01-15T05:06:00Z"));
  ASSERT_EQ(ten.sms.size(), 1u) << "expires_at wins over expires_in";
  EXPECT_NE(RenderSms(ten.sms[0].payload, *opener)->text.find("10 minutes"), std::string::npos);
  auto other = SealedBoxOpener::FromSecretKeyHex(std::string(64, '1'));
  EXPECT_FALSE(RenderSms(ten.sms[0].payload, *other)) << "another key cannot open it";
  otp.expires_at.reset();
  otp.locale.clear();
  auto late = PlanOtp(e, otp, std::nullopt, At("2026-01-15T05:05:00Z"));
  EXPECT_TRUE(late.sms.empty());
  EXPECT_EQ(late.suppressed.at(0).reason, "expired");
}

}  // namespace
}  // namespace tchat::notification
