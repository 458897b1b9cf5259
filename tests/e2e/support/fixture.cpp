#include "support/fixture.hpp"

#include "support/env.hpp"

namespace tchat::e2e {

void ServiceTest::SetUp() {
  if (url_variable_ != nullptr) url_ = RequireEnv(url_variable_);
}

User ServiceTest::NewUser(const std::string& url) {
  std::string id = NewUserId();
  std::string token = MintToken(id);
  return UserWithToken(std::move(id), std::move(token), url);
}

User ServiceTest::UserWithToken(std::string id, std::string token, const std::string& url) {
  User u{std::move(id), std::move(token), nullptr};
  u.api = std::make_shared<BlockingApi>(io_, url.empty() ? url_ : url, u.token);
  return u;
}

std::unique_ptr<BlockingWs> ServiceTest::Connect(const User& u, const std::string& url) {
  auto ws = std::make_unique<BlockingWs>(io_);
  auto st = ws->Connect(url.empty() ? url_ : url, u.token);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return ws;
}

}  // namespace tchat::e2e
