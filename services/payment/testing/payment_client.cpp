#include "payment_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tchat/core/uuid.hpp>

#include <tchat/core/httpclient/exchange_recorder.hpp>

namespace tchat::payment::testing {
namespace {

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

}  // namespace

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string NewKey() {
  return "key-" + NewUuidV7();
}

Result<TokenMinter> TokenMinter::FromKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("cannot read key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = ParseJsonObject(ss.str());
  if (!doc) return std::move(doc).error();
  const json::value* keys = doc->if_contains("keys");
  if (keys == nullptr || !keys->is_array() || keys->as_array().empty() ||
      !keys->as_array()[0].is_object()) {
    return Error::InvalidArgument("key file has no keys");
  }
  const json::object& k = keys->as_array()[0].as_object();
  auto kid = RequireString(k, "kid");
  auto seed = RequireString(k, "seed");
  if (!kid || !seed) return Error::InvalidArgument("key file entry lacks kid or seed");
  auto pair = jwt::Ed25519KeyPair::FromSeed(*kid, *seed);
  if (!pair) return std::move(pair).error();
  return TokenMinter(jwt::JwtSigner(std::move(*pair)));
}

std::string TokenMinter::Mint(const std::string& user_id, std::chrono::seconds ttl) const {
  const auto now = std::chrono::system_clock::now();
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.subject = user_id;
  c.session_id = NewUuidV7();
  c.issued_at = now;
  c.expires_at = now + ttl;
  return signer_.Sign(c);
}

std::string TokenMinter::Jwks() const {
  return jwt::BuildJwks({signer_.Public()});
}

std::string SignWebhook(const std::string& secret, std::int64_t unix_seconds,
                        const std::string& body) {
  const std::string payload = std::to_string(unix_seconds) + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return "t=" + std::to_string(unix_seconds) + ",v1=" + Hex(mac, len);
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ApiResponse::ErrorCode() const {
  if (!json.is_object()) return {};
  const json::value* e = json.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return {};
  const json::value* c = e->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : std::string();
}

PaymentApi::PaymentApi(boost::asio::any_io_executor ex, std::string base_url, std::size_t max_conns)
    : client_(std::move(ex),
              [max_conns] {
                httpclient::HttpClientOptions o;
                o.max_conns_per_host = max_conns;
                o.max_idle_conns = max_conns;
                return o;
              }()),
      base_url_(std::move(base_url)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Task<Result<ApiResponse>> PaymentApi::Call(std::string method, std::string path, std::string token,
                                           std::string body,
                                           std::vector<std::pair<std::string, std::string>> headers,
                                           std::chrono::milliseconds timeout) {
  auto* recorder = httpclient::ExchangeRecorder::Get();
  std::string recorded_method = recorder != nullptr ? method : std::string();
  httpclient::HttpRequest req(std::move(method), base_url_ + path, std::move(body));
  if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
  if (!req.body.empty()) req.headers.Set("Content-Type", "application/json");
  for (auto& [k, v] : headers) req.headers.Add(k, v);
  req.timeout = timeout;
  auto r = co_await client_.Send(std::move(req));
  if (!r) co_return std::move(r).error();
  if (recorder != nullptr) {
    recorder->Http(recorded_method, path, r->status, r->headers.Get("Content-Type").value_or(""),
                   r->body);
  }
  ApiResponse out;
  out.status = r->status;
  out.body = std::move(r->body);
  out.headers = std::move(r->headers);
  boost::system::error_code ec;
  out.json = json::parse(out.body, ec);
  if (ec) out.json = nullptr;
  co_return out;
}

SqlProbe::SqlProbe(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) last_error_ = PQerrorMessage(conn_);
}

SqlProbe::~SqlProbe() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool SqlProbe::ok() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}
std::string SqlProbe::error() const {
  return last_error_;
}

std::vector<std::vector<std::optional<std::string>>> SqlProbe::Query(const std::string& sql) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  PGresult* r = PQexec(conn_, sql.c_str());
  const auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    last_error_ = PQresultErrorMessage(r);
    PQclear(r);
    return rows;
  }
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::optional<std::string>> row;
    for (int j = 0; j < PQnfields(r); ++j) {
      if (PQgetisnull(r, i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(r, i, j), static_cast<std::size_t>(PQgetlength(r, i, j))));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

std::string SqlProbe::Scalar(const std::string& sql) {
  auto rows = Query(sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return {};
  return *rows[0][0];
}

}  // namespace tchat::payment::testing
