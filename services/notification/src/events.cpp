#include "events.hpp"

#include <algorithm>

#include <tchat/core/uuid.hpp>

namespace tchat::notification {

namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

Status CheckUuid(std::string_view field, const std::string& v) {
  if (!IsUuid(v)) return Error::InvalidArgument(std::string(field) + " must be a UUID");
  return Ok();
}

// Accepts integers, and integral doubles from producers that write 1.0.
std::optional<std::int64_t> IntField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX) {
    return static_cast<std::int64_t>(it->value().as_uint64());
  }
  return std::nullopt;
}

}  // namespace

Result<Envelope> ParseEnvelope(std::string_view json_text) {
  auto obj = ParseJsonObject(json_text);
  if (!obj) return Error::InvalidArgument("envelope: " + obj.error().message);
  Envelope e;
  auto id = RequireString(*obj, "id");
  if (!id) return Error::InvalidArgument("envelope: " + id.error().message);
  if (id->empty() || id->size() > 128) return Error::InvalidArgument("envelope: bad id");
  e.id = std::move(*id);
  auto type = RequireString(*obj, "type");
  if (!type) return Error::InvalidArgument("envelope: " + type.error().message);
  if (type->empty() || type->size() > 128) return Error::InvalidArgument("envelope: bad type");
  e.type = std::move(*type);
  auto at = OptionalString(*obj, "occurred_at");
  if (!at) return Error::InvalidArgument("envelope: " + at.error().message);
  if (*at) {
    auto t = ParseRfc3339(**at);
    if (!t) return Error::InvalidArgument("envelope: occurred_at is not RFC 3339");
    e.occurred_at = *t;
  } else {
    e.occurred_at = std::chrono::system_clock::now();
  }
  auto it = obj->find("data");
  if (it == obj->end() || !it->value().is_object()) {
    return Error::InvalidArgument("envelope: data must be an object");
  }
  e.data = std::move(it->value().as_object());
  return e;
}

Result<OtpRequested> DecodeOtpRequested(const json::object& data) {
  OtpRequested o;
  auto phone = RequireString(data, "phone");
  if (!phone) return std::move(phone).error();
  // E.164: '+' and 8..15 digits.
  const std::string& p = *phone;
  if (p.size() < 9 || p.size() > 16 || p[0] != '+' ||
      !std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::InvalidArgument("phone must be E.164");
  }
  o.phone = p;
  // The code travels sealed to this service's key (never in plaintext at rest:
  // in the stream, the queue or a dead letter); the SMS sender opens it.
  auto sealed = RequireString(data, "sealed_code");
  if (!sealed) return std::move(sealed).error();
  if (sealed->empty() || sealed->size() > 256) {
    return Error::InvalidArgument("sealed_code must be 1-256 characters");
  }
  o.sealed_code = std::move(*sealed);
  auto locale = StringOrEmpty(data, "locale");
  if (!locale) return std::move(locale).error();
  o.locale = std::move(*locale);
  if (auto ttl = IntField(data, "expires_in")) {
    if (*ttl <= 0 || *ttl > 86400) return Error::InvalidArgument("expires_in out of range");
    o.expires_in = *ttl;
  }
  auto at = StringOrEmpty(data, "expires_at");
  if (!at) return std::move(at).error();
  if (!at->empty()) {
    o.expires_at = ParseRfc3339(*at);
    if (!o.expires_at) return Error::InvalidArgument("expires_at is not RFC 3339");
  }
  auto user = StringOrEmpty(data, "user_id");
  if (!user) return std::move(user).error();
  if (!user->empty() && IsUuid(*user)) o.user_id = std::move(*user);
  auto purpose = StringOrEmpty(data, "purpose");
  if (!purpose) return std::move(purpose).error();
  o.for_password = *purpose == "password";
  return o;
}

Result<PasswordChanged> DecodePasswordChanged(const json::object& data) {
  PasswordChanged o;
  auto user = RequireString(data, "user_id");
  if (!user) return std::move(user).error();
  if (!IsUuid(*user)) return Error::InvalidArgument("user_id must be a UUID");
  o.user_id = std::move(*user);
  auto change = StringOrEmpty(data, "change");
  if (!change) return std::move(change).error();
  o.change = *change == "reset" ? "reset" : "changed";
  return o;
}

Result<UserDeleted> DecodeUserDeleted(const json::object& data) {
  auto user = RequireString(data, "user_id");
  if (!user) return std::move(user).error();
  if (!IsUuid(*user)) return Error::InvalidArgument("user_id must be a UUID");
  return UserDeleted{std::move(*user)};
}

Result<SessionRevoked> DecodeSessionRevoked(const json::object& data) {
  SessionRevoked o;
  auto user = RequireString(data, "user_id");
  if (!user) return std::move(user).error();
  auto session = RequireString(data, "session_id");
  if (!session) return std::move(session).error();
  if (!IsUuid(*user) || !IsUuid(*session)) {
    return Error::InvalidArgument("user_id and session_id must be UUIDs");
  }
  o.user_id = std::move(*user);
  o.session_id = std::move(*session);
  return o;
}

Result<MessageCreated> DecodeMessageCreated(const json::object& data) {
  MessageCreated m;
  auto conv = RequireString(data, "conversation_id");
  if (!conv) return std::move(conv).error();
  if (conv->empty() || conv->size() > 64) return Error::InvalidArgument("bad conversation_id");
  m.conversation_id = std::move(*conv);
  auto msg = StringOrEmpty(data, "message_id");
  if (!msg) return std::move(msg).error();
  m.message_id = std::move(*msg);
  m.seq = IntField(data, "seq").value_or(0);
  auto sender = RequireString(data, "sender_id");
  if (!sender) return std::move(sender).error();
  if (auto st = CheckUuid("sender_id", *sender); !st) return std::move(st).error();
  m.sender_id = std::move(*sender);
  auto name = StringOrEmpty(data, "sender_name");
  if (!name) return std::move(name).error();
  m.sender_name = std::move(*name);
  auto title = StringOrEmpty(data, "conversation_title");
  if (!title) return std::move(title).error();
  m.conversation_title = std::move(*title);
  auto preview = StringOrEmpty(data, "preview");
  if (!preview) return std::move(preview).error();
  m.preview = std::move(*preview);
  // Messaging writes "message_type"; "type" is accepted too.
  for (std::string_view field : {"message_type", "type"}) {
    auto type = StringOrEmpty(data, field);
    if (!type) return std::move(type).error();
    if (!type->empty()) {
      m.message_type = std::move(*type);
      break;
    }
  }
  auto it = data.find("recipients");
  if (it == data.end() || !it->value().is_array()) {
    return Error::InvalidArgument("recipients must be an array");
  }
  const auto& arr = it->value().as_array();
  if (arr.size() > 100000) return Error::InvalidArgument("too many recipients");
  m.recipients.reserve(arr.size());
  for (const auto& v : arr) {
    // Producers may send ids or {"user_id": ...} objects.
    const json::string* s = v.if_string();
    if (s == nullptr && v.is_object()) {
      auto f = v.as_object().find("user_id");
      if (f != v.as_object().end()) s = f->value().if_string();
    }
    if (s == nullptr || !IsUuid(*s)) return Error::InvalidArgument("recipients must be user ids");
    m.recipients.emplace_back(s->data(), s->size());
  }
  std::sort(m.recipients.begin(), m.recipients.end());
  m.recipients.erase(std::unique(m.recipients.begin(), m.recipients.end()), m.recipients.end());
  return m;
}

Result<PaymentEvent> DecodePaymentEvent(std::string_view type, const json::object& data) {
  PaymentEvent p;
  p.type = std::string(type);
  // The object: data.transfer / data.request / ... or the data itself.
  const json::object* obj = &data;
  for (std::string_view name : {"transfer", "request", "payment_request", "topup", "withdrawal"}) {
    auto it = data.find(name);
    if (it != data.end() && it->value().is_object()) {
      obj = &it->value().as_object();
      p.object = name == "payment_request" ? "request" : std::string(name);
      break;
    }
  }
  if (p.object.empty()) {
    const std::string_view rest = type.substr(std::string_view("payment.").size());
    p.object = std::string(rest.substr(0, rest.find('.')));
  }
  auto id = StringOrEmpty(*obj, "id");
  if (!id) return std::move(id).error();
  p.object_id = std::move(*id);
  auto amount = IntField(*obj, "amount");
  p.amount = amount.value_or(0);
  auto currency = StringOrEmpty(*obj, "currency");
  if (!currency) return std::move(currency).error();
  if (currency->size() > 3) return Error::InvalidArgument("bad currency");
  p.currency = std::move(*currency);
  auto note = StringOrEmpty(*obj, "note");
  if (!note) return std::move(note).error();
  p.note = std::move(*note);
  auto conv = StringOrEmpty(*obj, "conversation_id");
  if (!conv) return std::move(conv).error();
  if (conv->size() > 64) return Error::InvalidArgument("bad conversation_id");
  p.conversation_id = std::move(*conv);
  for (std::string_view k : {"from_name", "sender_name", "requester_name"}) {
    auto n = StringOrEmpty(*obj, k);
    if (n && !n->empty()) {
      p.counterpart_name = std::move(*n);
      break;
    }
  }

  auto add = [&](std::string_view field, PartyRole role) -> Status {
    auto v = StringOrEmpty(*obj, field);
    if (!v) return std::move(v).error();
    if (v->empty()) return Ok();
    if (auto st = CheckUuid(field, *v); !st) return st;
    for (const auto& party : p.parties) {
      if (party.user_id == *v) return Ok();
    }
    p.parties.push_back({std::move(*v), role});
    return Ok();
  };
  Status st = Ok();
  if (p.object == "transfer") {
    if (st) st = add("to_user_id", PartyRole::kReceiver);
    if (st) st = add("from_user_id", PartyRole::kSender);
  } else if (p.object == "request") {
    // The payer is asked for money (docs/api/openapi.yaml, payment: POST /v1/payment-requests
    // {"from_user_id"}).
    if (st) st = add("from_user_id", PartyRole::kPayer);
    if (st) st = add("payer_id", PartyRole::kPayer);
    for (std::string_view f : {"requester_id", "to_user_id", "requester_user_id", "created_by"}) {
      if (st) st = add(f, PartyRole::kRequester);
    }
  } else {
    if (st) st = add("user_id", PartyRole::kOwner);
  }
  if (st) st = add("user_id", PartyRole::kOther);
  if (!st) return std::move(st).error();
  if (p.parties.empty()) return Error::InvalidArgument("payment event names no user");
  return p;
}

EventKind ClassifyEventType(std::string_view type) {
  if (type == "auth.otp.requested") return EventKind::kOtpRequested;
  if (type == "auth.password.changed") return EventKind::kPasswordChanged;
  if (type == "auth.session.revoked") return EventKind::kSessionRevoked;
  if (type == "auth.user.deleted") return EventKind::kUserDeleted;
  if (type == "message.created") return EventKind::kMessageCreated;
  if (StartsWith(type, "payment.") && type.size() > 8) return EventKind::kPayment;
  for (std::string_view family : {"auth.", "user.", "session.", "message.", "conversation.",
                                  "reaction.", "receipt.", "member.", "presence."}) {
    if (StartsWith(type, family) && type.size() > family.size()) return EventKind::kIgnored;
  }
  return EventKind::kUnknown;
}

}  // namespace tchat::notification
