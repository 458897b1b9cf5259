#include "validation.hpp"

#include <algorithm>
#include <charconv>

#include <tchat/core/utf8.hpp>
#include <tchat/core/uuid.hpp>

#include "text.hpp"

namespace tchat::messaging {

namespace {

Error Invalid(std::string_view field, std::string_view why) {
  return Error::InvalidArgument(std::string(field) + " " + std::string(why));
}

bool HasControl(std::string_view s, bool allow_newlines) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0 || c == 0x7F) return true;
    if (c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) return true;
  }
  return false;
}

Result<std::string> TextField(const json::value& v, std::string_view field, std::size_t min_cp,
                              std::size_t max_cp, bool allow_newlines) {
  if (!v.is_string()) return Invalid(field, "must be a string");
  std::string_view s = v.get_string();
  if (!ValidUtf8(s)) return Invalid(field, "is not valid UTF-8");
  if (HasControl(s, allow_newlines)) return Invalid(field, "contains control characters");
  const std::size_t n = CodePoints(s);
  if (n < min_cp) {
    return Invalid(field, min_cp == 1
                              ? "must not be empty"
                              : "must have at least " + std::to_string(min_cp) + " characters");
  }
  if (n > max_cp)
    return Invalid(field, "must have at most " + std::to_string(max_cp) + " characters");
  return std::string(s);
}

Result<std::optional<std::int64_t>> OptionalInteger(const json::object& o, std::string_view key,
                                                    std::int64_t min, std::int64_t max,
                                                    std::string_view field) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else {
    return Invalid(field, "must be an integer");
  }
  if (n < min || n > max) {
    return Invalid(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>(n);
}

bool ValidMimeType(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  const auto slash = s.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == s.size()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '.' || c == '+' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return s.find('/', slash + 1) == std::string_view::npos;
}

Result<json::object> ParseAttachment(const json::value* v, bool is_file) {
  if (v == nullptr || v->is_null()) return Invalid("attachment", "is required for this type");
  if (!v->is_object()) return Invalid("attachment", "must be an object");
  const json::object& a = v->get_object();
  json::object out;
  const json::value* url = a.if_contains("url");
  if (url == nullptr || !url->is_string() || !IsHttpUrl(url->get_string())) {
    return Invalid("attachment.url", "must be an absolute http(s) URL of at most 2048 bytes");
  }
  out["url"] = url->get_string();
  if (const json::value* mt = a.if_contains("mime_type"); mt != nullptr && !mt->is_null()) {
    if (!mt->is_string() || !ValidMimeType(mt->get_string())) {
      return Invalid("attachment.mime_type", "must be a media type such as image/png");
    }
    out["mime_type"] = mt->get_string();
  }
  if (const json::value* name = a.if_contains("name"); name != nullptr && !name->is_null()) {
    auto n = TextField(*name, "attachment.name", 1, 255, false);
    if (!n) return std::move(n).error();
    out["name"] = *n;
  } else if (is_file) {
    return Invalid("attachment.name", "is required for files");
  }
  auto size = OptionalInteger(a, "size", 0, std::int64_t{1} << 40, "attachment.size");
  if (!size) return std::move(size).error();
  if (*size) out["size"] = **size;
  if (!is_file) {
    for (std::string_view dim : {"width", "height"}) {
      const std::string field = "attachment." + std::string(dim);
      auto d = OptionalInteger(a, dim, 1, 100000, field);
      if (!d) return std::move(d).error();
      if (*d) out[dim] = **d;
    }
  }
  return out;
}

}  // namespace

Result<std::string> ValidateTextBody(const json::value* v, bool allow_empty) {
  if (v == nullptr || v->is_null()) {
    if (allow_empty) return std::string();
    return Invalid("body", "is required");
  }
  return TextField(*v, "body", allow_empty ? 0 : 1, kMaxBodyCodePoints, true);
}

Result<MessageInput> ParseMessageInput(const json::object& o) {
  MessageInput in;
  const json::value* cmid = o.if_contains("client_msg_id");
  if (cmid == nullptr || cmid->is_null()) return Invalid("client_msg_id", "is required");
  if (!cmid->is_string() || !IsValidClientToken(cmid->get_string())) {
    return Invalid("client_msg_id", "must be 1 to 128 printable ASCII characters");
  }
  in.client_msg_id = std::string(cmid->get_string());
  if (const json::value* t = o.if_contains("type"); t != nullptr && !t->is_null()) {
    if (!t->is_string()) return Invalid("type", "must be a string");
    in.type = std::string(t->get_string());
  }
  if (in.type == "payment" || in.type == "system") {
    return Invalid("type", "'" + in.type + "' messages are posted by the server only");
  }
  if (in.type != "text" && in.type != "image" && in.type != "voice" && in.type != "video" &&
      in.type != "file") {
    return Invalid("type", "must be one of text, image, voice, video, file");
  }
  auto body = ValidateTextBody(o.if_contains("body"), in.type != "text");
  if (!body) return std::move(body).error();
  in.body = std::move(*body);
  auto reply = OptionalInteger(o, "reply_to_seq", 1, INT64_MAX, "reply_to_seq");
  if (!reply) return std::move(reply).error();
  in.reply_to_seq = *reply;
  if (const json::value* aid = o.if_contains("attachment_id"); aid != nullptr && !aid->is_null()) {
    if (in.type == "text") return Invalid("attachment_id", "is not allowed on text messages");
    std::optional<std::string> id;
    if (aid->is_string()) id = CanonicalUuid(aid->get_string());
    if (!id) return Invalid("attachment_id", "must be the id of an upload");
    if (o.contains("attachment")) {
      return Invalid("attachment", "must be absent when attachment_id is given");
    }
    in.attachment_id = std::move(*id);
  } else if (in.type == "voice" || in.type == "video") {
    return Invalid("attachment_id", "is required for this type");
  } else if (in.type != "text") {
    auto a = ParseAttachment(o.if_contains("attachment"), in.type == "file");
    if (!a) return std::move(a).error();
    in.attachment = std::move(*a);
  }
  return in;
}

Result<std::string> ValidateTitle(const json::value* v) {
  if (v == nullptr || v->is_null()) return Invalid("title", "is required");
  return TextField(*v, "title", 1, kMaxTitleCodePoints, false);
}

Result<std::vector<std::string>> ParseUserIds(const json::object& o, std::string_view field,
                                              std::size_t max) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return Invalid(field, "is required");
  if (!v->is_array()) return Invalid(field, "must be an array of user ids");
  const json::array& a = v->get_array();
  if (a.size() > max) return Invalid(field, "has more than " + std::to_string(max) + " entries");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const json::value& e : a) {
    if (!e.is_string()) return Invalid(field, "must contain strings");
    auto id = CanonicalUuid(e.get_string());
    if (!id) return Invalid(field, "must contain user ids (UUIDs)");
    if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(std::move(*id));
  }
  return out;
}

Result<int> ParseLimit(const std::optional<std::string>& text, int fallback, int max) {
  if (!text || text->empty()) return fallback;
  int v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < 1 || v > max) {
    return Error::InvalidArgument("limit must be an integer between 1 and " + std::to_string(max));
  }
  return v;
}

Result<std::optional<std::int64_t>> ParseSeqParam(const std::optional<std::string>& text,
                                                  std::string_view name) {
  if (!text || text->empty()) return std::optional<std::int64_t>();
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < 0) {
    return Error::InvalidArgument(std::string(name) + " must be a non-negative integer");
  }
  return std::optional<std::int64_t>(v);
}

}  // namespace tchat::messaging
