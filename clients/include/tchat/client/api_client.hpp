#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/httpclient/message.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::httpclient {
class HttpClient;
}

namespace tchat::client {

// One HTTP answer of the Tchat API: the status and the parsed JSON body (null when
// the body is empty or not JSON). Any status is an ApiResponse; only transport
// failures are errors.
struct ApiResponse {
  int status = 0;
  json::value body;
  std::string raw;
  httpclient::HttpHeaders headers;

  bool ok() const { return status >= 200 && status < 300; }
  // body["error"]["code"] / body["error"]["message"], or "".
  std::string error_code() const;
  std::string error_message() const;
  const json::object& object() const;  // the body as an object (empty when it is not)
  // The first header field of this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request exactly as sent: any body (malformed JSON included), extra header fields and
// a credential of its own. Not an aggregate, for the reason given at httpclient::HttpRequest.
struct ApiRequest {
  ApiRequest(std::string method_in, std::string path_in, std::string body_in = {},
             HeaderList headers_in = {})
      : method(std::move(method_in)),
        path(std::move(path_in)),
        body(std::move(body_in)),
        headers(std::move(headers_in)) {}

  std::string method;
  std::string path;  // with the query string
  std::string body;  // sent as is, with `content_type`, when not empty
  HeaderList headers;
  // The bearer credential of this request: nullopt sends the client's token, "" none.
  std::optional<std::string> bearer;
  std::optional<std::chrono::milliseconds> timeout;  // nullopt: 30 s
  std::string content_type = "application/json";
};

// An asynchronous client of the Tchat HTTP API (docs/api/openapi.yaml: auth and messaging) over
// keep-alive connections. Bound to one executor; not thread-safe: call it from coroutines on that
// executor. The access token, when set, is sent as a bearer credential.
class ApiClient {
 public:
  // `base_url`: "http://127.0.0.1:8082" (a service) or the gateway. At most
  // `max_conns` connections are open at once (further requests queue).
  ApiClient(boost::asio::any_io_executor executor, std::string base_url,
            std::string access_token = {}, std::size_t max_conns = 64);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  void set_access_token(std::string token) { token_ = std::move(token); }
  const std::string& access_token() const { return token_; }
  const std::string& base_url() const { return base_; }

  // Every exchange goes through Send, which also appends it to the contract record
  // (httpclient::ExchangeRecorder, TCHAT_CONTRACT_RECORD) when that is enabled.
  Task<Result<ApiResponse>> Send(ApiRequest request);
  // Any request: `path` includes the query string; `body` is sent as JSON.
  // `method` and `path` are copied before the first suspension.
  Task<Result<ApiResponse>> Call(std::string_view method, std::string_view path,
                                 std::optional<json::value> body = std::nullopt);
  // A raw body (tests of malformed input).
  Task<Result<ApiResponse>> CallRaw(std::string_view method, std::string_view path,
                                    std::string body, std::string content_type);

  // Sign-in (auth service): OTP request/verify and password login. A successful
  // verify/login stores the access token in this client.
  Task<Result<ApiResponse>> RequestOtp(std::string phone);
  Task<Result<ApiResponse>> VerifyOtp(std::string phone, std::string code);
  Task<Result<ApiResponse>> Login(std::string phone, std::string password);

  // Messaging (docs/api/openapi.yaml, messaging).
  Task<Result<ApiResponse>> CreateDirect(std::string peer_id);
  Task<Result<ApiResponse>> CreateGroup(std::string title, std::vector<std::string> member_ids);
  Task<Result<ApiResponse>> ListConversations(int limit = 50, std::string cursor = {});
  Task<Result<ApiResponse>> GetConversation(std::string id);
  Task<Result<ApiResponse>> UpdateTitle(std::string id, std::string title);
  Task<Result<ApiResponse>> AddMembers(std::string id, std::vector<std::string> user_ids);
  Task<Result<ApiResponse>> RemoveMember(std::string id, std::string user_id);
  Task<Result<ApiResponse>> SendText(std::string conversation_id, std::string client_msg_id,
                                     std::string body,
                                     std::optional<std::int64_t> reply_to_seq = std::nullopt);
  Task<Result<ApiResponse>> SendMessage(std::string conversation_id, json::object message);
  // Attachments: POST /v1/media with `bytes` as the raw body (`filename` is the
  // name shown for a file; `voice` asks for a voice note), then a message of
  // `type` (image, voice, video or file) carrying the upload's id.
  Task<Result<ApiResponse>> UploadMedia(std::string bytes, std::string filename = {},
                                        bool voice = false);
  Task<Result<ApiResponse>> SendAttachment(std::string conversation_id, std::string client_msg_id,
                                           std::string type, std::string attachment_id,
                                           std::string caption = {});
  Task<Result<ApiResponse>> History(std::string conversation_id,
                                    std::optional<std::int64_t> before_seq,
                                    std::optional<std::int64_t> after_seq, int limit = 50);
  Task<Result<ApiResponse>> EditMessage(std::string conversation_id, std::int64_t seq,
                                        std::string body);
  Task<Result<ApiResponse>> DeleteMessage(std::string conversation_id, std::int64_t seq);
  Task<Result<ApiResponse>> React(std::string conversation_id, std::int64_t seq, std::string emoji,
                                  bool add = true);
  Task<Result<ApiResponse>> MarkRead(std::string conversation_id, std::int64_t seq);
  Task<Result<ApiResponse>> Typing(std::string conversation_id);
  Task<Result<ApiResponse>> Sync(std::string since = {});
  Task<Result<ApiResponse>> Presence(std::vector<std::string> user_ids);
  Task<Result<ApiResponse>> Block(std::string user_id);
  Task<Result<ApiResponse>> Unblock(std::string user_id);

 private:
  std::string base_;
  std::string token_;
  std::unique_ptr<httpclient::HttpClient> http_;
};

// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view s);

}  // namespace tchat::client
