#pragma once

// The base fixture of end-to-end tests that talk to one service: one io_context
// shared by every client of the test (whichever call waits runs it, so WebSocket
// readers keep receiving in the background), made-up users with clients of their
// own, and WebSocket connections.

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/client/blocking.hpp>

#include "support/users.hpp"

namespace tchat::e2e {

using client::ApiRequest;
using client::ApiResponse;
using client::BlockingApi;
using client::BlockingWs;

class ServiceTest : public ::testing::Test {
 protected:
  // `url_variable`: the TCHAT_TEST_*_URL of the service (url_), or nullptr for tests
  // that start their own.
  explicit ServiceTest(const char* url_variable = nullptr) : url_variable_(url_variable) {}
  void SetUp() override;

  // A made-up user (Minter()) whose api talks to `url` (default url_).
  User NewUser(const std::string& url = {});
  // A user with the given id and token whose api talks to `url` (default url_).
  User UserWithToken(std::string id, std::string token, const std::string& url = {});
  // A WebSocket of `u` to `url` (default url_), connected and ready; a failure to
  // connect is a test failure.
  std::unique_ptr<BlockingWs> Connect(const User& u, const std::string& url = {});

  boost::asio::io_context io_;
  std::string url_;

 private:
  const char* url_variable_;
};

}  // namespace tchat::e2e
