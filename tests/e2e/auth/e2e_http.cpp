#include "e2e_http.hpp"

#include <atomic>
#include <cstdlib>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <tchat/core/httpclient/exchange_recorder.hpp>
#include <tchat/core/httpclient/http_client.hpp>

namespace tchat::e2e {

namespace asio = boost::asio;

json::value Reply::Json() const {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string Reply::ErrorCode() const {
  json::value v = Json();
  if (!v.is_object()) return "";
  const auto* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

std::string Reply::ErrorMessage() const {
  json::value v = Json();
  if (!v.is_object()) return "";
  const auto* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const auto* m = e->as_object().if_contains("message");
  return m && m->is_string() ? std::string(m->as_string()) : "";
}

struct Api::Impl {
  asio::io_context io{1};
  httpclient::HttpClient client{
      io.get_executor(),
      httpclient::HttpClientOptions{.timeout = std::chrono::seconds(30), .max_conns_per_host = 32}};
};

Api::Api(std::string base_url, std::string client_ip)
    : impl_(std::make_unique<Impl>()), base_(std::move(base_url)), ip_(std::move(client_ip)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Api::~Api() = default;

std::vector<Reply> Api::Concurrently(const std::vector<Call>& calls) {
  std::vector<Reply> replies(calls.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    httpclient::HttpRequest req(calls[i].method, base_ + calls[i].path, calls[i].body);
    req.headers.Set("X-Real-IP", ip_);
    if (!calls[i].body.empty()) req.headers.Set("Content-Type", "application/json");
    for (const auto& [k, v] : calls[i].headers) req.headers.Set(k, v);
    asio::co_spawn(
        impl_->io,
        [this, req = std::move(req), &replies, &done, i, &calls]() mutable -> Task<void> {
          auto r = co_await impl_->client.Send(std::move(req));
          if (r) {
            if (auto* rec = httpclient::ExchangeRecorder::Get()) {
              rec->Http(calls[i].method, calls[i].path, r->status,
                        r->headers.Get("Content-Type").value_or(""), r->body);
            }
            replies[i].status = r->status;
            replies[i].body = std::move(r->body);
            replies[i].headers = std::move(r->headers);
          } else {
            replies[i].transport_error = r.error().message;
          }
          ++done;
        },
        asio::detached);
  }
  // run_one, not run: idle keep-alive connections keep the context busy.
  impl_->io.restart();
  while (done < calls.size()) impl_->io.run_one();
  return replies;
}

Reply Api::Send(const Call& call) {
  return std::move(Concurrently({call}).front());
}

namespace {
std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
  if (token.empty()) return {};
  return {{"Authorization", "Bearer " + token}};
}
}  // namespace

Reply Api::Get(const std::string& path, const std::string& bearer) {
  return Send(Call{"GET", path, "", Bearer(bearer)});
}
Reply Api::Post(const std::string& path, const json::value& body, const std::string& bearer) {
  return Send(Call{"POST", path, json::serialize(body), Bearer(bearer)});
}
Reply Api::Put(const std::string& path, const json::value& body, const std::string& bearer) {
  return Send(Call{"PUT", path, json::serialize(body), Bearer(bearer)});
}
Reply Api::Patch(const std::string& path, const json::value& body, const std::string& bearer) {
  return Send(Call{"PATCH", path, json::serialize(body), Bearer(bearer)});
}
Reply Api::Delete(const std::string& path, const std::string& bearer) {
  return Send(Call{"DELETE", path, "", Bearer(bearer)});
}

std::string AuthUrl() {
  const char* v = std::getenv("TCHAT_TEST_AUTH_URL");
  return v ? v : "";
}

std::string FreshIp() {
  static std::mt19937 rng(std::random_device{}());
  static std::atomic<int> n{0};
  const int k = n++;
  return "10." + std::to_string(rng() % 250 + 1) + "." + std::to_string(rng() % 250) + "." +
         std::to_string(k % 250 + 1);
}

}  // namespace tchat::e2e
