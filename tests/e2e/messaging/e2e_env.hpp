#pragma once

// Shared helpers of the messaging end-to-end tests: configuration from the
// environment (missing variables fail the test), made-up users with tokens minted
// from the test signing key, and small assertions on events.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/client/blocking.hpp>
#include <tchat/client/token_minter.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::e2e {

using namespace std::chrono_literals;
using client::ApiResponse;
using client::BlockingApi;
using client::BlockingWs;

inline std::string EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// One made-up user: an id and an HTTP client with its token.
struct User {
  std::string id;
  std::string token;
  std::unique_ptr<BlockingApi> api;
};

inline std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline std::int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return -1;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return -1;
}

inline const json::object& Obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

inline const json::array& Arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

// A fixture with one io_context shared by every client of the test.
class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = EnvOr("TCHAT_TEST_MESSAGING_URL");
    const std::string key_file = EnvOr("TCHAT_TEST_JWT_KEY_FILE");
    if (url_.empty()) GTEST_FAIL() << "TCHAT_TEST_MESSAGING_URL is not set";
    if (key_file.empty()) GTEST_FAIL() << "TCHAT_TEST_JWT_KEY_FILE is not set";
    auto m = client::TokenMinter::FromKeyFile(key_file);
    if (!m) GTEST_FAIL() << m.error().message;
    minter_.emplace(std::move(*m));
  }

  User NewUser(const std::string& url = {}) {
    User u;
    u.id = NewUuidV7();
    u.token = minter_->Mint(u.id);
    u.api = std::make_unique<BlockingApi>(io_, url.empty() ? url_ : url, u.token);
    return u;
  }

  std::unique_ptr<BlockingWs> Connect(const User& u, const std::string& url = {}) {
    auto ws = std::make_unique<BlockingWs>(io_);
    auto st = ws->Connect(url.empty() ? url_ : url, u.token);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    return ws;
  }

  // Creates (or finds) the direct conversation of a and b; returns its id.
  std::string Direct(User& a, const User& b) {
    auto r = a.api->Run(a.api->async().CreateDirect(b.id));
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    return Str(r.object(), "id");
  }

  std::string Group(User& owner, const std::vector<const User*>& members,
                    std::string title = "group") {
    std::vector<std::string> ids;
    for (const User* m : members) ids.push_back(m->id);
    auto r = owner.api->Run(owner.api->async().CreateGroup(title, ids));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Str(r.object(), "id");
  }

  ApiResponse SendText(User& u, const std::string& conv, const std::string& body,
                       std::string cmid = {}) {
    if (cmid.empty()) cmid = NewUuidV7();
    return u.api->Run(u.api->async().SendText(conv, cmid, body));
  }

  std::vector<json::object> History(User& u, const std::string& conv, int limit = 200) {
    auto r = u.api->Run(u.api->async().History(conv, std::nullopt, std::nullopt, limit));
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<json::object> out;
    for (const auto& m : Arr(r.object(), "messages")) out.push_back(m.get_object());
    return out;
  }

  boost::asio::io_context io_;
  std::string url_;
  std::optional<client::TokenMinter> minter_;
};

}  // namespace tchat::e2e
