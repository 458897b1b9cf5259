#include "rules.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include <sodium.h>

namespace tchat::notification {

namespace {

std::int64_t Int(const json::object& o, std::string_view key, std::int64_t fallback = 0) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_int64()) return fallback;
  return it->value().as_int64();
}
bool Bool(const json::object& o, std::string_view key, bool fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_bool()) return fallback;
  return it->value().as_bool();
}
Locale LocaleOf(const json::object& o) {
  return ParseLocale(StringValue(o, "locale")).value_or(Locale::kEn);
}

// Reasons a push is held back, in the order they are checked.
std::optional<std::string> PushBlocked(const RecipientView& v, SysTime now, bool stale) {
  if (!v.settings.push_enabled) return "push_disabled";
  if (v.settings.quiet && InQuietHours(*v.settings.quiet, now)) return "quiet_hours";
  if (stale) return "stale";
  if (!v.has_devices) return "no_device";
  return std::nullopt;
}

// The texts of one party's payment notification, in its language.
struct PaymentText {
  std::string kind;
  std::string title;
  std::string body;
};
std::optional<PaymentText> PaymentTexts(const PaymentEvent& p, PartyRole role, Locale loc) {
  const std::string amount = FormatAmount(p.amount, p.currency.empty() ? "THB" : p.currency);
  const std::string_view type = p.type;
  auto text = [&](std::string kind, Text title, Text body) {
    return PaymentText{std::move(kind), Localize(loc, title),
                       Localize(loc, body, {{"amount", amount}})};
  };
  if (p.object == "transfer" && (type.ends_with(".completed") || type.ends_with(".succeeded"))) {
    if (role == PartyRole::kReceiver) {
      if (!p.counterpart_name.empty()) {
        return PaymentText{"payment.received", Localize(loc, Text::kPaymentReceivedTitle),
                           Localize(loc, Text::kPaymentReceivedBodyNamed,
                                    {{"name", p.counterpart_name}, {"amount", amount}})};
      }
      return text("payment.received", Text::kPaymentReceivedTitle, Text::kPaymentReceivedBody);
    }
    if (role == PartyRole::kSender) {
      return text("payment.sent", Text::kPaymentSentTitle, Text::kPaymentSentBody);
    }
  }
  if (p.object == "request") {
    if (type.ends_with(".created") && role == PartyRole::kPayer) {
      return text("payment.request", Text::kRequestCreatedTitle, Text::kRequestCreatedBody);
    }
    if (type.ends_with(".created")) return std::nullopt;  // the requester made it
    if (type.ends_with(".paid") && role == PartyRole::kRequester) {
      return text("payment.request.paid", Text::kRequestPaidTitle, Text::kRequestPaidBody);
    }
    if (type.ends_with(".paid")) return std::nullopt;
    if (type.ends_with(".declined") && role == PartyRole::kRequester) {
      return text("payment.request.declined", Text::kRequestDeclinedTitle,
                  Text::kRequestDeclinedBody);
    }
    if (type.ends_with(".declined")) return std::nullopt;
    if ((type.ends_with(".cancelled") || type.ends_with(".canceled")) &&
        role == PartyRole::kPayer) {
      return text("payment.request.cancelled", Text::kRequestCancelledTitle,
                  Text::kRequestCancelledBody);
    }
    if (type.ends_with(".cancelled") || type.ends_with(".canceled")) return std::nullopt;
  }
  if (p.object == "topup") {
    if (type.ends_with(".succeeded") || type.ends_with(".completed")) {
      return text("payment.topup.succeeded", Text::kTopupSucceededTitle, Text::kTopupSucceededBody);
    }
    if (type.ends_with(".failed")) {
      return text("payment.topup.failed", Text::kTopupFailedTitle, Text::kTopupFailedBody);
    }
    return std::nullopt;  // created / pending: the user is still in the flow
  }
  if (type.ends_with(".created") || type.ends_with(".pending")) return std::nullopt;
  return text("payment.update", Text::kPaymentUpdateTitle, Text::kPaymentUpdateBody);
}

std::string MessagePreview(const json::object& p, Locale loc) {
  const std::string_view type = StringValue(p, "msg_type");
  if (type == "image") return Localize(loc, Text::kPhoto);
  if (type == "file") return Localize(loc, Text::kFile);
  if (type == "payment") return Localize(loc, Text::kPayment);
  std::string preview = TruncateUtf8(StringValue(p, "preview"), 150);
  for (char& c : preview) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (preview.empty()) return Localize(loc, Text::kNewMessageTitle);
  return preview;
}

}  // namespace

Plan PlanMessage(const Envelope& env, const MessageCreated& m, const RecipientLookup& view,
                 SysTime now, const RuleOptions& options) {
  Plan plan;
  const bool stale = now - env.occurred_at > options.max_push_age;
  for (const std::string& uid : m.recipients) {
    if (uid == m.sender_id) continue;
    const RecipientView& v = view(uid);
    // Online: the message is on the screen already. Muted: the user asked not to
    // hear about this conversation. Neither gets a push nor an inbox entry.
    if (v.online || v.muted) {
      plan.suppressed.push_back({uid, v.online ? "online" : "muted"});
      continue;
    }
    json::object payload{
        {"t", "message"},
        {"locale", LocaleCode(v.settings.locale)},
        {"show_previews", v.settings.show_previews},
        {"conversation_id", m.conversation_id},
        {"message_id", m.message_id},
        {"sender_id", m.sender_id},
        {"seq", m.seq},
        {"msg_type", m.message_type},
        {"event_at", UnixMillis(env.occurred_at)},
    };
    if (v.settings.show_previews) {
      // Nothing of the message is stored for users who hide previews.
      payload["sender_name"] = TruncateUtf8(m.sender_name, 64);
      payload["conversation_title"] = TruncateUtf8(m.conversation_title, 64);
      payload["preview"] = TruncateUtf8(m.preview, 200);
    }
    // The inbox keeps what the user missed whatever the push settings: quiet
    // hours, push_enabled=false, no device or an old event hold back the push only.
    MessageInboxText text = RenderMessageInbox(payload, 1);
    plan.inbox.push_back(InboxItem{uid, "message", std::move(text.title), std::move(text.body),
                                   std::move(text.data), m.conversation_id, payload});
    if (auto blocked = PushBlocked(v, now, stale)) {
      plan.suppressed.push_back({uid, *blocked});
      continue;
    }
    plan.pushes.push_back({uid, m.conversation_id, std::move(payload), true});
  }
  return plan;
}

Plan PlanPayment(const Envelope& env, const PaymentEvent& p, const RecipientLookup& view,
                 SysTime now, const RuleOptions& options) {
  Plan plan;
  const bool stale = now - env.occurred_at > options.max_push_age;
  for (const PaymentParty& party : p.parties) {
    const RecipientView& v = view(party.user_id);
    auto texts = PaymentTexts(p, party.role, v.settings.locale);
    if (!texts) continue;
    json::object data{{"type", p.type}, {"amount", p.amount}, {"currency", p.currency}};
    if (!p.object_id.empty()) data[p.object + "_id"] = p.object_id;
    if (!p.conversation_id.empty()) data["conversation_id"] = p.conversation_id;
    if (!p.note.empty()) data["note"] = TruncateUtf8(p.note, 200);
    plan.inbox.push_back({party.user_id, texts->kind, texts->title, texts->body, data, {}, {}});
    if (auto blocked = PushBlocked(v, now, stale)) {
      plan.suppressed.push_back({party.user_id, *blocked});
      continue;
    }
    json::object push_data{{"kind", texts->kind}, {"type", p.type}};
    if (!p.object_id.empty()) push_data[p.object + "_id"] = p.object_id;
    if (!p.conversation_id.empty()) push_data["conversation_id"] = p.conversation_id;
    json::object payload{{"t", "static"},
                         {"kind", texts->kind},
                         {"title", texts->title},
                         {"body", texts->body},
                         {"data", std::move(push_data)},
                         {"event_at", UnixMillis(env.occurred_at)}};
    plan.pushes.push_back({party.user_id, "", std::move(payload), false});
  }
  return plan;
}

Plan PlanPasswordChanged(const Envelope& env, const PasswordChanged& pc,
                         const RecipientLookup& view, SysTime now, const RuleOptions& options) {
  Plan plan;
  const RecipientView& v = view(pc.user_id);
  const Locale loc = v.settings.locale;
  const std::string title = Localize(loc, Text::kPasswordChangedTitle);
  const Text body_text = pc.change == "reset"     ? Text::kPasswordResetBody
                         : pc.change == "removed" ? Text::kPasswordRemovedBody
                                                  : Text::kPasswordChangedBody;
  const std::string body = Localize(loc, body_text);
  json::object data{{"type", env.type}, {"change", pc.change}};
  plan.inbox.push_back({pc.user_id, "security", title, body, data, {}, {}});
  RecipientView urgent = v;
  urgent.settings.quiet.reset();
  if (auto blocked = PushBlocked(urgent, now, now - env.occurred_at > options.max_push_age)) {
    plan.suppressed.push_back({pc.user_id, *blocked});
    return plan;
  }
  json::object payload{{"t", "static"},
                       {"kind", "security"},
                       {"title", title},
                       {"body", body},
                       {"data", json::object{{"kind", "security"}, {"type", env.type}}},
                       {"event_at", UnixMillis(env.occurred_at)}};
  plan.pushes.push_back({pc.user_id, "", std::move(payload), false});
  return plan;
}

Plan PlanOtp(const Envelope& env, const OtpRequested& otp, std::optional<Locale> user_locale,
             SysTime now) {
  Plan plan;
  const SysTime expires_at =
      otp.expires_at.value_or(env.occurred_at + std::chrono::seconds(otp.expires_in));
  const auto life = std::chrono::duration_cast<std::chrono::seconds>(expires_at - env.occurred_at);
  if (now >= expires_at) {
    plan.suppressed.push_back({otp.user_id, "expired"});
    return plan;
  }
  Locale loc = LocaleForPhone(otp.phone);
  if (auto l = ParseLocale(otp.locale)) {
    loc = *l;
  } else if (user_locale) {
    loc = *user_locale;
  }
  json::object payload{{"t", "otp"},
                       {"to", otp.phone},
                       {"sealed_code", otp.sealed_code},
                       {"locale", LocaleCode(loc)},
                       {"minutes", std::max<std::int64_t>(1, (life.count() + 59) / 60)},
                       {"purpose", otp.for_password ? "password" : "sign_in"},
                       {"expires_at", UnixMillis(expires_at)},
                       {"event_at", UnixMillis(env.occurred_at)}};
  plan.sms.push_back({otp.phone, std::move(payload)});
  return plan;
}

RenderedPush RenderPush(const json::object& p, int count) {
  RenderedPush r;
  const Locale loc = LocaleOf(p);
  if (auto at = Int(p, "event_at", -1); at >= 0) r.event_at = FromUnixMillis(at);
  if (StringValue(p, "t") == "message") {
    r.kind = "message";
    r.collapse_key = std::string(StringValue(p, "conversation_id"));
    const std::string n = std::to_string(count);
    const bool previews = Bool(p, "show_previews", true);
    std::string name(StringValue(p, "sender_name"));
    const std::string_view group = StringValue(p, "conversation_title");
    if (!previews) {
      r.title = count > 1 ? Localize(loc, Text::kNewMessagesTitle, {{"n", n}})
                          : Localize(loc, Text::kNewMessageTitle);
      r.body = Localize(loc, Text::kHiddenBody);
    } else {
      std::string heading = !group.empty() ? std::string(group) : name;
      std::string body = MessagePreview(p, loc);
      if (!group.empty() && !name.empty()) body = name + ": " + body;
      if (count > 1) {
        const std::string many = Localize(loc, Text::kNewMessagesTitle, {{"n", n}});
        r.title = heading.empty() ? many : heading + " · " + many;
      } else {
        r.title = heading.empty() ? Localize(loc, Text::kNewMessageTitle) : heading;
      }
      r.body = std::move(body);
    }
    r.data = {{"kind", "message"},
              {"conversation_id", r.collapse_key},
              {"message_id", StringValue(p, "message_id")},
              {"seq", std::to_string(Int(p, "seq"))},
              {"count", n}};
    return r;
  }
  r.kind = std::string(StringValue(p, "kind"));
  r.title = std::string(StringValue(p, "title"));
  r.body = std::string(StringValue(p, "body"));
  if (auto it = p.find("data"); it != p.end() && it->value().is_object()) {
    for (const auto& [k, v] : it->value().as_object()) {
      if (v.is_string()) {
        r.data[k] = v;
      } else {
        r.data[k] = ToJson(v);
      }
    }
  }
  return r;
}

std::pair<std::int64_t, std::int64_t> MessageOrder(const json::object& payload) {
  return {Int(payload, "seq"), Int(payload, "event_at")};
}

MessageInboxText RenderMessageInbox(const json::object& payload, std::int64_t count) {
  count = std::max<std::int64_t>(count, 1);
  RenderedPush push = RenderPush(
      payload, static_cast<int>(std::min<std::int64_t>(count, std::numeric_limits<int>::max())));
  MessageInboxText text;
  text.title = std::move(push.title);
  text.body = std::move(push.body);
  text.data = {{"conversation_id", StringValue(payload, "conversation_id")},
               {"message_id", StringValue(payload, "message_id")},
               {"sender_id", StringValue(payload, "sender_id")},
               {"seq", Int(payload, "seq")},
               {"count", count}};
  return text;
}

Result<RenderedSms> RenderSms(const json::object& p, const SealedBoxOpener& opener) {
  if (StringValue(p, "t") != "otp") return Error::InvalidArgument("unknown sms template");
  auto code = opener.Open(StringValue(p, "sealed_code"));
  if (!code) return Error::InvalidArgument("the sealed code does not open with this key");
  RenderedSms r;
  r.to = std::string(StringValue(p, "to"));
  const Locale loc = LocaleOf(p);
  r.locale = std::string(LocaleCode(loc));
  const std::string minutes = std::to_string(Int(p, "minutes", 5));
  // A code to change or reset the password says so (it is no sign-in code).
  const Text text = StringValue(p, "purpose") == "password" ? Text::kOtpPasswordSms : Text::kOtpSms;
  r.text = Localize(loc, text, {{"code", *code}, {"minutes", minutes}});
  sodium_memzero(code->data(), code->size());
  if (auto at = Int(p, "expires_at", -1); at >= 0) r.expires_at = FromUnixMillis(at);
  if (auto at = Int(p, "event_at", -1); at >= 0) r.event_at = FromUnixMillis(at);
  if (r.to.empty()) return Error::InvalidArgument("sms without a phone number");
  return r;
}

}  // namespace tchat::notification
