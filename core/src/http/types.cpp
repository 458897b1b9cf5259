#include <string>

#include <strings.h>

#include <tchat/core/hashing.hpp>
#include <tchat/core/http/types.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::http {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

std::string_view Request::path() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query_string() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

std::string_view Request::PathParam(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::Query(std::string_view key) const {
  std::string_view q = query_string();
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    auto decoded_key = PercentDecode(k);
    if (!decoded_key || *decoded_key != key) continue;
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

const std::string& Request::user_id() const {
  static const std::string kEmpty;
  return auth ? auth->user_id : kEmpty;
}

Result<std::string> CallerId(const Request& req) {
  auto id = CanonicalUuid(req.user_id());
  if (!id) return Error::Unauthenticated("the token's subject is not a user id");
  return std::move(*id);
}

bool BearerMatches(const Request& req, std::string_view secret) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view h = req.Header("authorization");
  return !secret.empty() && h.size() > kBearer.size() && h.starts_with(kBearer) &&
         ConstantTimeEquals(h.substr(kBearer.size()), secret);
}

Response Response::Json(int status, const json::value& v) {
  Response r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

Response Response::Text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type.assign(content_type);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

namespace {

// The message a client may see for `e` with `status`, or nullopt for its own.
std::optional<std::string_view> GenericMessage(const Error& e, int status) {
  if (status == 503) return "the service is temporarily unavailable; try again shortly";
  if (status >= 500) return "internal error";
  if (!e.sqlstate.empty()) return "the request could not be processed";
  return std::nullopt;
}

}  // namespace

Response Response::FromError(const Error& e) {
  const int status = ErrorCodeHttpStatus(e.code);
  const auto generic = GenericMessage(e, status);
  json::object err;
  err["code"] = e.WireCode();
  err["message"] = generic ? *generic : std::string_view(e.message);
  Response r = Json(status, json::object{{"error", std::move(err)}});
  if (generic) {
    r.error_detail = e.sqlstate.empty() ? e.message : "SQLSTATE " + e.sqlstate + ": " + e.message;
  }
  if (e.retry_after) {
    r.headers.emplace_back("Retry-After",
                           std::to_string(std::max<long long>(1, e.retry_after->count())));
  }
  if (e.code == ErrorCode::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace tchat::http
