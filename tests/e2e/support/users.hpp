#pragma once

// Users of the end-to-end tests: made-up users with access tokens minted from the
// test signing key (TCHAT_TEST_JWT_KEY_FILE), and real sign-ins through the auth
// service's dev OTP (TCHAT_DEV_OTP=1 returns the code as dev_code).

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include <tchat/client/blocking.hpp>
#include <tchat/client/token_minter.hpp>
#include <tchat/core/json.hpp>

namespace tchat::e2e {

// The process's minter of TCHAT_TEST_JWT_KEY_FILE, loaded on first use; throws
// MissingEnv (or std::runtime_error for an unreadable file) so that the test fails.
const client::TokenMinter& Minter();
// An access token for `user_id` (issuer tchat-auth, audience tchat, fresh session).
std::string MintToken(const std::string& user_id,
                      std::chrono::seconds ttl = std::chrono::minutes(15));
// A new random user id (UUID version 7).
std::string NewUserId();

// A made-up user: a new id, a token minted for it and, when made by a ServiceTest, a
// client of the service under test that sends the token.
struct User {
  std::string id;
  std::string token;
  std::shared_ptr<client::BlockingApi> api;
};
User MintUser();

// A client address of its own for X-Real-IP (10.x.y.z, different on every call):
// services trust it from loopback, so one test's rate limits never touch another's.
std::string FreshIp();

// A user signed in through the auth service.
struct Session {
  std::string access;
  std::string refresh;
  std::string user_id;
  std::string phone;
  json::value reply;  // the whole verify answer
};

// POST /v1/auth/otp/request on `auth` (`purpose` sign_in when empty, or password);
// returns the dev_code. Expects 202 and a six-digit code (gtest EXPECTs: the test
// fails without them).
std::string RequestDevCode(client::BlockingApi& auth, const std::string& phone,
                           const std::string& country = {}, const std::string& purpose = {});
// Requests a code and verifies it (device `device`, platform web); expects 200.
Session SignIn(client::BlockingApi& auth, const std::string& phone,
               const std::string& device = "e2e");

// A random Thai mobile number (+668 or +669 and eight digits: 2e8 of them), so a
// new user at auth.
std::string NewPhone();
// A new user signed up through the auth service (TCHAT_TEST_AUTH_URL, dev OTP), from
// a client address of its own (FreshIp): a real id, a real session and its access
// token, for services that ask auth about users (payment checks the other user of
// a transfer). `api` stays null. Failures are test failures (EXPECTs).
User SignUpUser(boost::asio::io_context& io);

}  // namespace tchat::e2e
