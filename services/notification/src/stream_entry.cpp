#include "stream_entry.hpp"

#include <algorithm>

#include "localization.hpp"

namespace tchat::notification {

namespace {

// Decodes the data of an event of a type this service acts on into p.decoded.
Status Decode(ParsedEntry& p, const Envelope& env) {
  switch (p.kind) {
    case EventKind::kOtpRequested: {
      auto d = DecodeOtpRequested(env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kPasswordChanged: {
      auto d = DecodePasswordChanged(env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kSessionRevoked: {
      auto d = DecodeSessionRevoked(env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kUserDeleted: {
      auto d = DecodeUserDeleted(env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kMessageCreated: {
      auto d = DecodeMessageCreated(env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kPayment: {
      auto d = DecodePaymentEvent(env.type, env.data);
      if (!d) return std::move(d).error();
      p.decoded = std::move(*d);
      return Ok();
    }
    case EventKind::kIgnored:
      return Ok();
    case EventKind::kUnknown:
      break;
  }
  return Error::InvalidArgument("unknown event type");
}

}  // namespace

std::string SafeText(std::string_view s) {
  std::string out = TruncateUtf8(s.substr(0, 4096), 4096);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

std::string_view TypeLabel(const ParsedEntry& p) {
  switch (p.kind) {
    case EventKind::kOtpRequested:
    case EventKind::kPasswordChanged:
    case EventKind::kSessionRevoked:
    case EventKind::kUserDeleted:
    case EventKind::kMessageCreated:
      return p.env.type;
    case EventKind::kPayment:
      return p.env.type.size() <= 64 ? std::string_view(p.env.type) : "payment";
    default:
      return "other";
  }
}

std::optional<ParsedEntry> ParseEntry(const redis::StreamEntry& entry, PoisonEntry& poison) {
  poison.entry_id = entry.id;
  const std::string* raw = entry.Field(kEventField);
  if (raw == nullptr) {
    poison.reason = "no \"event\" field";
    std::string all;
    for (const auto& [k, v] : entry.fields) all += k + "=" + v + " ";
    poison.raw = SafeText(all);
    return std::nullopt;
  }
  poison.raw = SafeText(*raw);
  if (raw->find("\\u0000") != std::string::npos) {
    poison.reason = "contains a NUL character";
    return std::nullopt;
  }
  auto env = ParseEnvelope(*raw);
  if (!env) {
    poison.reason = SafeText(env.error().message);
    return std::nullopt;
  }
  poison.event_id = SafeText(env->id);
  poison.type = SafeText(env->type);
  ParsedEntry p;
  p.entry_id = entry.id;
  p.kind = ClassifyEventType(env->type);
  if (Status st = Decode(p, *env); !st) {
    poison.reason = SafeText(st.error().message);
    return std::nullopt;
  }
  p.env = std::move(*env);
  return p;
}

}  // namespace tchat::notification
