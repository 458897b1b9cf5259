#include <algorithm>

#include <boost/json/parse.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/core/httpclient/exchange_recorder.hpp>
#include <tchat/core/httpclient/http_client.hpp>

namespace tchat::client {

namespace {

// body["error"][field] of an error body, or "".
std::string ErrorField(const json::value& body, std::string_view field) {
  if (!body.is_object()) return {};
  const json::value* e = body.get_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return {};
  const json::value* f = e->get_object().if_contains(field);
  return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
}

}  // namespace

std::string ApiResponse::error_code() const {
  return ErrorField(body, "code");
}

std::string ApiResponse::error_message() const {
  return ErrorField(body, "message");
}

std::string ApiResponse::header(std::string_view name) const {
  return std::string(headers.Get(name).value_or(""));
}

const json::object& ApiResponse::object() const {
  static const json::object kEmpty;
  return body.is_object() ? body.get_object() : kEmpty;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

ApiClient::ApiClient(boost::asio::any_io_executor executor, std::string base_url,
                     std::string access_token, std::size_t max_conns)
    : base_(std::move(base_url)), token_(std::move(access_token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  httpclient::HttpClientOptions o;
  o.max_conns_per_host = max_conns;
  o.max_idle_conns = std::max(max_conns, o.max_idle_conns);
  o.timeout = std::chrono::seconds(30);
  http_ = std::make_unique<httpclient::HttpClient>(std::move(executor), o);
}

ApiClient::~ApiClient() = default;

Task<Result<ApiResponse>> ApiClient::Send(ApiRequest request) {
  httpclient::HttpRequest req(request.method, base_ + request.path, std::move(request.body));
  if (!req.body.empty()) req.headers.Set("Content-Type", std::move(request.content_type));
  const std::string& bearer = request.bearer ? *request.bearer : token_;
  if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
  for (auto& [name, value] : request.headers) req.headers.Add(std::move(name), std::move(value));
  req.timeout = request.timeout;
  auto r = co_await http_->Send(std::move(req));
  if (!r) co_return std::move(r).error();
  if (auto* recorder = httpclient::ExchangeRecorder::Get()) {
    recorder->Http(request.method, request.path, r->status,
                   r->headers.Get("Content-Type").value_or(""), r->body);
  }
  ApiResponse out;
  out.status = r->status;
  out.raw = std::move(r->body);
  out.headers = std::move(r->headers);
  if (!out.raw.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(out.raw, ec);
    if (!ec) out.body = std::move(v);
  }
  co_return out;
}

Task<Result<ApiResponse>> ApiClient::CallRaw(std::string_view method, std::string_view path,
                                             std::string body, std::string content_type) {
  ApiRequest request(std::string(method), std::string(path), std::move(body));
  request.content_type = std::move(content_type);
  co_return co_await Send(std::move(request));
}

Task<Result<ApiResponse>> ApiClient::Call(std::string_view method, std::string_view path,
                                          std::optional<json::value> body) {
  std::string text = body ? ToJson(*body) : std::string();
  co_return co_await CallRaw(method, path, std::move(text), "application/json");
}

Task<Result<ApiResponse>> ApiClient::RequestOtp(std::string phone) {
  json::object body = json::object{{"phone", phone}};
  co_return co_await Call("POST", "/v1/auth/otp/request", std::move(body));
}

Task<Result<ApiResponse>> ApiClient::VerifyOtp(std::string phone, std::string code) {
  json::object body = json::object{{"phone", phone}, {"code", code}, {"device_name", "cli"}};
  auto r = co_await Call("POST", "/v1/auth/otp/verify", std::move(body));
  if (r && r->ok()) {
    if (const json::value* t = r->object().if_contains("access_token"); t && t->is_string()) {
      token_ = std::string(t->get_string());
    }
  }
  co_return r;
}

Task<Result<ApiResponse>> ApiClient::Login(std::string phone, std::string password) {
  json::object body = json::object{{"phone", phone}, {"password", password}};
  auto r = co_await Call("POST", "/v1/auth/login", std::move(body));
  if (r && r->ok()) {
    if (const json::value* t = r->object().if_contains("access_token"); t && t->is_string()) {
      token_ = std::string(t->get_string());
    }
  }
  co_return r;
}

Task<Result<ApiResponse>> ApiClient::CreateDirect(std::string peer_id) {
  json::object body =
      json::object{{"type", "direct"}, {"member_ids", json::array{json::value(peer_id)}}};
  co_return co_await Call("POST", "/v1/conversations", std::move(body));
}

Task<Result<ApiResponse>> ApiClient::CreateGroup(std::string title,
                                                 std::vector<std::string> member_ids) {
  json::array ids;
  for (auto& m : member_ids) ids.emplace_back(m);
  json::object body =
      json::object{{"type", "group"}, {"title", title}, {"member_ids", std::move(ids)}};
  co_return co_await Call("POST", "/v1/conversations", std::move(body));
}

Task<Result<ApiResponse>> ApiClient::ListConversations(int limit, std::string cursor) {
  std::string path = "/v1/conversations?limit=" + std::to_string(limit);
  if (!cursor.empty()) path += "&cursor=" + UrlEncode(cursor);
  co_return co_await Call("GET", std::move(path));
}

Task<Result<ApiResponse>> ApiClient::GetConversation(std::string id) {
  co_return co_await Call("GET", "/v1/conversations/" + UrlEncode(id));
}

Task<Result<ApiResponse>> ApiClient::UpdateTitle(std::string id, std::string title) {
  json::object body = json::object{{"title", title}};
  co_return co_await Call("PATCH", "/v1/conversations/" + UrlEncode(id), std::move(body));
}

Task<Result<ApiResponse>> ApiClient::AddMembers(std::string id, std::vector<std::string> user_ids) {
  json::array ids;
  for (auto& m : user_ids) ids.emplace_back(m);
  json::object body = json::object{{"user_ids", std::move(ids)}};
  co_return co_await Call("POST", "/v1/conversations/" + UrlEncode(id) + "/members",
                          std::move(body));
}

Task<Result<ApiResponse>> ApiClient::RemoveMember(std::string id, std::string user_id) {
  co_return co_await Call("DELETE",
                          "/v1/conversations/" + UrlEncode(id) + "/members/" + UrlEncode(user_id));
}

Task<Result<ApiResponse>> ApiClient::SendText(std::string conversation_id,
                                              std::string client_msg_id, std::string body,
                                              std::optional<std::int64_t> reply_to_seq) {
  json::object m{{"client_msg_id", client_msg_id}, {"type", "text"}, {"body", body}};
  if (reply_to_seq) m["reply_to_seq"] = *reply_to_seq;
  co_return co_await SendMessage(std::move(conversation_id), std::move(m));
}

Task<Result<ApiResponse>> ApiClient::SendMessage(std::string conversation_id,
                                                 json::object message) {
  co_return co_await Call("POST", "/v1/conversations/" + UrlEncode(conversation_id) + "/messages",
                          std::move(message));
}

Task<Result<ApiResponse>> ApiClient::UploadMedia(std::string bytes, std::string filename,
                                                 bool voice) {
  std::string path = "/v1/media";
  char sep = '?';
  if (!filename.empty()) {
    path += sep + std::string("filename=") + UrlEncode(filename);
    sep = '&';
  }
  if (voice) path += sep + std::string("kind=voice");
  ApiRequest r("POST", std::move(path), std::move(bytes));
  r.content_type = "application/octet-stream";
  r.timeout = std::chrono::minutes(10);  // up to 100 MiB
  co_return co_await Send(std::move(r));
}

Task<Result<ApiResponse>> ApiClient::SendAttachment(std::string conversation_id,
                                                    std::string client_msg_id, std::string type,
                                                    std::string attachment_id,
                                                    std::string caption) {
  json::object m{
      {"client_msg_id", client_msg_id}, {"type", type}, {"attachment_id", attachment_id}};
  if (!caption.empty()) m["body"] = caption;
  co_return co_await SendMessage(std::move(conversation_id), std::move(m));
}

Task<Result<ApiResponse>> ApiClient::History(std::string conversation_id,
                                             std::optional<std::int64_t> before_seq,
                                             std::optional<std::int64_t> after_seq, int limit) {
  std::string path = "/v1/conversations/" + UrlEncode(conversation_id) +
                     "/messages?limit=" + std::to_string(limit);
  if (before_seq) path += "&before_seq=" + std::to_string(*before_seq);
  if (after_seq) path += "&after_seq=" + std::to_string(*after_seq);
  co_return co_await Call("GET", std::move(path));
}

Task<Result<ApiResponse>> ApiClient::EditMessage(std::string conversation_id, std::int64_t seq,
                                                 std::string text) {
  json::object body = json::object{{"body", text}};
  co_return co_await Call(
      "PATCH",
      "/v1/conversations/" + UrlEncode(conversation_id) + "/messages/" + std::to_string(seq),
      std::move(body));
}

Task<Result<ApiResponse>> ApiClient::DeleteMessage(std::string conversation_id, std::int64_t seq) {
  co_return co_await Call("DELETE", "/v1/conversations/" + UrlEncode(conversation_id) +
                                        "/messages/" + std::to_string(seq));
}

Task<Result<ApiResponse>> ApiClient::React(std::string conversation_id, std::int64_t seq,
                                           std::string emoji, bool add) {
  co_return co_await Call(add ? "PUT" : "DELETE",
                          "/v1/conversations/" + UrlEncode(conversation_id) + "/messages/" +
                              std::to_string(seq) + "/reactions/" + UrlEncode(emoji));
}

Task<Result<ApiResponse>> ApiClient::MarkRead(std::string conversation_id, std::int64_t seq) {
  json::object body = json::object{{"seq", seq}};
  co_return co_await Call("POST", "/v1/conversations/" + UrlEncode(conversation_id) + "/read",
                          std::move(body));
}

Task<Result<ApiResponse>> ApiClient::Typing(std::string conversation_id) {
  co_return co_await Call("POST", "/v1/conversations/" + UrlEncode(conversation_id) + "/typing");
}

Task<Result<ApiResponse>> ApiClient::Sync(std::string since) {
  std::string path = "/v1/sync";
  if (!since.empty()) path += "?since=" + UrlEncode(since);
  co_return co_await Call("GET", std::move(path));
}

Task<Result<ApiResponse>> ApiClient::Presence(std::vector<std::string> user_ids) {
  std::string list;
  for (const auto& u : user_ids) {
    if (!list.empty()) list += ',';
    list += u;
  }
  co_return co_await Call("GET", "/v1/presence?user_ids=" + UrlEncode(list));
}

Task<Result<ApiResponse>> ApiClient::Block(std::string user_id) {
  json::object body = json::object{{"user_id", user_id}};
  co_return co_await Call("POST", "/v1/blocks", std::move(body));
}

Task<Result<ApiResponse>> ApiClient::Unblock(std::string user_id) {
  co_return co_await Call("DELETE", "/v1/blocks/" + UrlEncode(user_id));
}

}  // namespace tchat::client
