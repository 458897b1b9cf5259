#include "support/users.hpp"

#include <atomic>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/json_fields.hpp"

namespace tchat::e2e {

const client::TokenMinter& Minter() {
  static const client::TokenMinter minter = [] {
    auto m = client::TokenMinter::FromKeyFile(RequireEnv("TCHAT_TEST_JWT_KEY_FILE"));
    if (!m) throw std::runtime_error("TCHAT_TEST_JWT_KEY_FILE: " + m.error().message);
    return std::move(*m);
  }();
  return minter;
}

std::string MintToken(const std::string& user_id, std::chrono::seconds ttl) {
  return Minter().Mint(user_id, ttl);
}

std::string NewUserId() {
  return NewUuidV7();
}

User MintUser() {
  User u{NewUserId(), {}, nullptr};
  u.token = MintToken(u.id);
  return u;
}

std::string FreshIp() {
  static std::mt19937 rng(std::random_device{}());
  static std::atomic<int> n{0};
  const int k = n++;
  return "10." + std::to_string(rng() % 250 + 1) + "." + std::to_string(rng() % 250) + "." +
         std::to_string(k % 250 + 1);
}

std::string RequestDevCode(client::BlockingApi& auth, const std::string& phone,
                           const std::string& country, const std::string& purpose) {
  json::object body{{"phone", phone}};
  if (!country.empty()) body["country"] = country;
  if (!purpose.empty()) body["purpose"] = purpose;
  client::ApiResponse r = auth.Post("/v1/auth/otp/request", body);
  EXPECT_EQ(r.status, 202) << r.raw;
  const std::string code = Str(r.object(), "dev_code");
  EXPECT_EQ(code.size(), 6u) << "the service must run with TCHAT_DEV_OTP=1: " << r.raw;
  return code;
}

Session SignIn(client::BlockingApi& auth, const std::string& phone, const std::string& device) {
  const std::string code = RequestDevCode(auth, phone);
  client::ApiResponse r = auth.Post(
      "/v1/auth/otp/verify",
      json::object{{"phone", phone}, {"code", code}, {"device_name", device}, {"platform", "web"}});
  EXPECT_EQ(r.status, 200) << r.raw;
  Session s;
  s.reply = r.body;
  s.access = Str(r.object(), "access_token");
  s.refresh = Str(r.object(), "refresh_token");
  s.user_id = Str(Obj(r.object(), "user"), "id");
  s.phone = phone;
  return s;
}

std::string NewPhone() {
  static std::mt19937_64 rng(std::random_device{}());
  std::string phone = (rng() % 2 == 0) ? "+668" : "+669";
  for (int i = 0; i < 8; ++i) phone += static_cast<char>('0' + rng() % 10);
  return phone;
}

User SignUpUser(boost::asio::io_context& io) {
  client::BlockingApi auth(io, RequireEnv("TCHAT_TEST_AUTH_URL"));
  auth.set_header("X-Real-IP", FreshIp());  // sign-in limits of its own
  Session s = SignIn(auth, NewPhone());
  EXPECT_FALSE(s.user_id.empty() || s.access.empty()) << "sign-up failed: " << s.reply;
  return User{s.user_id, s.access, nullptr};
}

}  // namespace tchat::e2e
