#include "support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <hiredis/hiredis.h>

#include <tchat/core/httpclient/exchange_recorder.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set (run through the project's test script)");
  }
  return v;
}

Api::Api(std::string base_url) {
  const std::string prefix = "http://";
  if (base_url.rfind(prefix, 0) != 0) throw std::runtime_error("base URL must be http://");
  std::string hp = base_url.substr(prefix.size());
  if (auto slash = hp.find('/'); slash != std::string::npos) hp.resize(slash);
  const auto colon = hp.rfind(':');
  host_ = hp.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : hp.substr(colon + 1);
}

ApiResponse Api::Call(const std::string& method, const std::string& target,
                      const std::string& bearer, const std::string& body) const {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(resolver.resolve(host_, port_));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host_);
  if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buf, res);
  ApiResponse out;
  out.status = static_cast<int>(res.result_int());
  out.raw = res.body();
  out.retry_after = std::string(res[bhttp::field::retry_after]);
  if (auto* rec = httpclient::ExchangeRecorder::Get()) {
    rec->Http(method, target, out.status, res[bhttp::field::content_type], out.raw);
  }
  boost::system::error_code ec;
  out.body = json::parse(out.raw, ec);
  if (ec) out.body = nullptr;
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return out;
}

std::string MintToken(const std::string& user_id) {
  static const jwt::JwtSigner signer = [] {
    std::ifstream in(RequireEnv("TCHAT_TEST_JWT_KEY_FILE"));
    std::stringstream ss;
    ss << in.rdbuf();
    auto o = ParseJsonObject(ss.str());
    if (!o) throw std::runtime_error("bad key file");
    const auto& k = o->at("keys").as_array().at(0).as_object();
    auto pair = jwt::Ed25519KeyPair::FromSeed(std::string(k.at("kid").as_string()),
                                              std::string(k.at("seed").as_string()));
    if (!pair) throw std::runtime_error("bad key seed");
    return jwt::JwtSigner(*pair);
  }();
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.subject = user_id;
  c.session_id = NewUserId();
  c.issued_at = std::chrono::system_clock::now();
  c.expires_at = c.issued_at + std::chrono::minutes(15);
  return signer.Sign(c);
}

std::string NewUserId() {
  return NewUuidV7();
}

Redis::Redis(const std::string& url) {
  std::string rest = url.substr(std::string("redis://").size());
  int db = 0;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size()) db = std::stoi(rest.substr(slash + 1));
    rest.resize(slash);
  }
  const auto colon = rest.rfind(':');
  const std::string host = rest.substr(0, colon);
  const int port = colon == std::string::npos ? 6379 : std::stoi(rest.substr(colon + 1));
  ctx_ = redisConnect(host.c_str(), port);
  if (ctx_ == nullptr || ctx_->err) throw std::runtime_error("cannot connect to redis " + url);
  if (db != 0) Command({"SELECT", std::to_string(db)});
}

Redis::~Redis() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string Redis::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) throw std::runtime_error("redis connection error");
  std::string out;
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
    out.assign(reply->str, reply->len);
  } else if (reply->type == REDIS_REPLY_INTEGER) {
    out = std::to_string(reply->integer);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    std::string err(reply->str, reply->len);
    freeReplyObject(reply);
    throw std::runtime_error("redis: " + err);
  }
  freeReplyObject(reply);
  return out;
}

std::string Redis::Publish(std::string_view stream, const json::object& envelope) {
  return Command({"XADD", std::string(stream), "*", "event", ToJson(envelope)});
}

std::string Redis::PublishRaw(std::string_view stream, const std::vector<std::string>& fields) {
  std::vector<std::string> args{"XADD", std::string(stream), "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  return Command(args);
}

json::object Envelope(const std::string& type, json::object data, std::optional<std::string> id) {
  return json::object{{"id", id.value_or(NewUserId())},
                      {"type", type},
                      {"occurred_at", FormatRfc3339Ms(std::chrono::system_clock::now())},
                      {"data", std::move(data)}};
}

const json::object& Obj(const ApiResponse& r) {
  static const json::object kEmpty;
  return r.body.is_object() ? r.body.as_object() : kEmpty;
}

}  // namespace tchat::e2e
