#include <string>

#include <tchat/core/json.hpp>

namespace tchat {

Result<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Error::InvalidArgument("request body must be a JSON object");
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) return Error::InvalidArgument("malformed JSON: " + ec.message());
  if (!v.is_object()) return Error::InvalidArgument("request body must be a JSON object");
  return std::move(v.as_object());
}

namespace {

Error WrongType(std::string_view field, std::string_view want) {
  return Error::InvalidArgument(std::string(field) + " must be " + std::string(want));
}

}  // namespace

Result<std::string> RequireString(const json::object& o, std::string_view field) {
  auto r = OptionalString(o, field);
  if (!r) return std::move(r).error();
  if (!r.value()) return Error::InvalidArgument(std::string(field) + " is required");
  return std::move(*r.value());
}

Result<std::optional<std::string>> OptionalString(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(field, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::string> StringOrEmpty(const json::object& o, std::string_view field) {
  auto r = OptionalString(o, field);
  if (!r) return std::move(r).error();
  return std::move(r.value()).value_or(std::string());
}

std::string_view StringValue(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

Result<std::int64_t> RequireInt(const json::object& o, std::string_view field) {
  auto r = OptionalInt(o, field);
  if (!r) return std::move(r).error();
  if (!r.value()) return Error::InvalidArgument(std::string(field) + " is required");
  return *r.value();
}

Result<std::optional<std::int64_t>> OptionalInt(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(INT64_MAX))
      return WrongType(field, "a 64-bit integer");
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  }
  return WrongType(field, "an integer");
}

Result<std::optional<bool>> OptionalBool(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(field, "a boolean");
  return std::optional<bool>(v->get_bool());
}

std::string ToJson(const json::value& v) {
  return json::serialize(v);
}

// Runs of characters that need no escape are copied at once.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace tchat
