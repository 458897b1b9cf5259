// Account deletion end to end (DELETE /v1/users/me; docs/operations/account-deletion.md),
// against the whole running stack: auth (TCHAT_TEST_AUTH_URL, dev OTP), the gateway
// (TCHAT_TEST_GATEWAY_URL: messages, uploads, served media, devices), payment
// (the fixture's service, its webhook and ledger checks) and messaging's WebSocket
// (TCHAT_TEST_MESSAGING_URL). A user with messages, a photo, a wallet and a device
// deletes the account; every service must then have honoured it.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <tchat/core/uuid.hpp>

#include "payment_fixture.hpp"
#include "support/env.hpp"
#include "support/json_fields.hpp"
#include "support/users.hpp"

namespace tchat::payment::e2e {
namespace {

using namespace std::chrono_literals;
using client::BlockingApi;
using tchat::e2e::Int;
using tchat::e2e::Obj;
using tchat::e2e::Session;
using tchat::e2e::Str;

// A small JPEG photo made by ffmpeg (fixtures are made, never downloaded); "" when
// ffmpeg failed.
std::string Photo() {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tchat-deletion-" + NewUuidV7() + ".jpg"))
          .string();
  const std::string cmd =
      "ffmpeg -loglevel error -y -f lavfi -i color=c=blue:s=64x48 -frames:v 1 " + path;
  if (std::system(cmd.c_str()) != 0) return {};
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(path);
  return ss.str();
}

class AccountDeletionE2E : public PaymentE2ETest {
 protected:
  void SetUp() override {
    PaymentE2ETest::SetUp();
    auth_ = std::make_unique<BlockingApi>(io_, tchat::e2e::RequireEnv("TCHAT_TEST_AUTH_URL"));
    auth_->set_header("X-Real-IP", tchat::e2e::FreshIp());
    gateway_url_ = tchat::e2e::RequireEnv("TCHAT_TEST_GATEWAY_URL");
    messaging_url_ = tchat::e2e::RequireEnv("TCHAT_TEST_MESSAGING_URL");
  }

  // DELETE /v1/users/me with `body` as given (empty: no body) and `token`.
  ApiResponse DeleteMe(const std::string& body, const std::string& token) {
    ApiRequest req("DELETE", "/v1/users/me", body);
    req.bearer = token;
    return auth_->Send(std::move(req));
  }
  std::string PasswordCode(const std::string& phone) {
    return tchat::e2e::RequestDevCode(*auth_, phone, "", "password");
  }
  std::unique_ptr<BlockingApi> Gateway(const std::string& token) {
    return std::make_unique<BlockingApi>(io_, gateway_url_, token);
  }
  // Polls `check` for up to 20 s (events travel through the outbox and the stream).
  static bool Eventually(const std::function<bool()>& check) {
    for (int i = 0; i < 100; ++i) {
      if (check()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  std::unique_ptr<BlockingApi> auth_;
  std::string gateway_url_;
  std::string messaging_url_;
};

TEST_F(AccountDeletionE2E, BadInputAndMissingProofAreRefused) {
  Session a = tchat::e2e::SignIn(*auth_, tchat::e2e::NewPhone());
  EXPECT_EQ(DeleteMe("", a.access).status, 400) << "a session alone is no proof";
  EXPECT_EQ(DeleteMe("{}", a.access).status, 400);
  EXPECT_EQ(DeleteMe("{not json", a.access).status, 400);
  EXPECT_EQ(DeleteMe(R"({"otp_code":12})", a.access).status, 400);
  ApiResponse wrong = DeleteMe(R"({"otp_code":"000000"})", a.access);
  EXPECT_EQ(wrong.status, 403) << wrong.raw;
  EXPECT_EQ(DeleteMe(R"({"current_password":"no password is set"})", a.access).status, 400);
  EXPECT_EQ(DeleteMe(R"({"otp_code":"123456"})", "").status, 401);
  EXPECT_EQ(DeleteMe(R"({"otp_code":"123456"})", "not.a.token").status, 401);
  ApiResponse me = auth_->Get("/v1/users/me", a.access);
  EXPECT_EQ(me.status, 200) << "nothing was deleted: " << me.raw;
}

TEST_F(AccountDeletionE2E, EveryServiceHonoursTheDeletion) {
  Session a = tchat::e2e::SignIn(*auth_, tchat::e2e::NewPhone());
  Session b = tchat::e2e::SignIn(*auth_, tchat::e2e::NewPhone());
  const User ua{a.user_id, a.access, nullptr};
  const User ub{b.user_id, b.access, nullptr};
  auto ga = Gateway(a.access);
  auto gb = Gateway(b.access);

  // A chat with text both ways, a reaction of A's, a photo of A's.
  ApiResponse conv = ga->Run(ga->async().CreateDirect(b.user_id));
  ASSERT_TRUE(conv.status == 200 || conv.status == 201) << conv.raw;
  const std::string cid = Str(conv.object(), "id");
  const std::string secret = "secret-" + NewUuidV7();
  ApiResponse text = ga->Run(ga->async().SendText(cid, NewUuidV7(), "my words " + secret));
  ASSERT_EQ(text.status, 201) << text.raw;
  ApiResponse reply = gb->Run(gb->async().SendText(cid, NewUuidV7(), "the reply of b"));
  ASSERT_EQ(reply.status, 201) << reply.raw;
  const std::int64_t reply_seq = Int(reply.object(), "seq");
  ASSERT_EQ(ga->Run(ga->async().React(cid, reply_seq, "👍")).status / 100, 2);
  const std::string jpeg = Photo();
  ASSERT_FALSE(jpeg.empty()) << "ffmpeg could not make the photo";
  ApiResponse up = ga->Raw("POST", "/v1/media", jpeg, "application/octet-stream");
  ASSERT_EQ(up.status, 201) << up.raw;
  const std::string photo_url = Str(up.object(), "url");
  ApiResponse photo =
      ga->Run(ga->async().SendMessage(cid, json::object{{"client_msg_id", NewUuidV7()},
                                                        {"type", "image"},
                                                        {"attachment_id", Str(up.object(), "id")},
                                                        {"body", "a caption " + secret}}));
  ASSERT_EQ(photo.status, 201) << photo.raw;
  ApiRequest fetch("GET", photo_url, "");
  fetch.bearer = "";
  ASSERT_EQ(gb->Send(fetch).status, 200);

  // A push device and a wallet with money.
  ApiResponse device = ga->Post(
      "/v1/devices", json::object{{"platform", "android"}, {"token", "tok-" + NewUuidV7()}});
  ASSERT_EQ(device.status, 201) << device.raw;
  Fund(ua, 5'000);
  client::BlockingWs ws(io_);
  ASSERT_TRUE(ws.Connect(messaging_url_, a.access).ok());

  // Money first: refused while the wallet holds money; nothing is deleted.
  ApiResponse full =
      DeleteMe(json::serialize(json::object{{"otp_code", PasswordCode(a.phone)}}), a.access);
  ASSERT_EQ(full.status, 409) << full.raw;
  EXPECT_EQ(Str(Obj(full.object(), "error"), "code"), "wallet_not_empty");
  ASSERT_EQ(auth_->Get("/v1/users/me", a.access).status, 200);
  ASSERT_EQ(Transfer(ua, b.user_id, 5'000).status, 201);  // A empties the wallet
  EXPECT_EQ(Balance(ua), 0);

  ApiResponse done =
      DeleteMe(json::serialize(json::object{{"otp_code", PasswordCode(a.phone)}}), a.access);
  ASSERT_EQ(done.status, 204) << done.raw;

  // Auth: the tokens are dead, the socket is closed, the profile is gone.
  EXPECT_EQ(auth_->Get("/v1/users/me", a.access).status, 401);
  EXPECT_EQ(auth_->Post("/v1/auth/refresh", json::object{{"refresh_token", a.refresh}}).status,
            401);
  EXPECT_EQ(auth_->Get("/v1/users/" + a.user_id, b.access).status, 404);
  EXPECT_TRUE(ws.WaitClosed(20s)) << "the deleted user's socket stayed open";
  EXPECT_EQ(DeleteMe(R"({"otp_code":"123456"})", a.access).status, 401);

  // Payment: the ledger still balances; nobody can pay the closed wallet.
  ApiResponse verify = Verify();
  EXPECT_EQ(verify.status, 200) << verify.raw;
  EXPECT_TRUE(IndependentLedgerCheck(env_.database_url).empty());
  const std::int64_t b_before = Balance(ub);
  const int to_deleted = Transfer(ub, a.user_id, 100).status;
  EXPECT_TRUE(to_deleted == 404 || to_deleted == 409) << to_deleted;
  EXPECT_EQ(Balance(ub), b_before);

  // Messaging: B sees tombstones from a deleted sender, A is no longer a member.
  const bool anonymised = Eventually([&] {
    ApiResponse h = gb->Run(gb->async().History(cid, std::nullopt, std::nullopt, 50));
    if (h.status != 200) return false;
    int tombstones = 0;
    for (const auto& m : h.object().at("messages").as_array()) {
      const auto& o = m.as_object();
      if (Str(o, "sender_id") != a.user_id) continue;
      if (!o.at("deleted").as_bool() || !Str(o, "body").empty()) return false;
      ++tombstones;
    }
    return tombstones == 2;
  });
  EXPECT_TRUE(anonymised) << "A's messages were not anonymised";
  ApiResponse h = gb->Run(gb->async().History(cid, std::nullopt, std::nullopt, 50));
  EXPECT_EQ(h.raw.find(secret), std::string::npos) << "A's words are still readable";
  EXPECT_EQ(h.raw.find("👍"), std::string::npos) << "A's reaction stayed";
  EXPECT_NE(h.raw.find("the reply of b"), std::string::npos) << "B's own message went";
  ApiResponse c = gb->Run(gb->async().GetConversation(cid));
  ASSERT_EQ(c.status, 200) << c.raw;
  for (const auto& m : tchat::e2e::Arr(c.object(), "members")) {
    EXPECT_NE(Str(m.as_object(), "user_id"), a.user_id) << "A is still a member: " << c.raw;
  }
  EXPECT_EQ(tchat::e2e::Arr(c.object(), "members").size(), 1u) << c.raw;
  EXPECT_EQ(gb->Send(fetch).status, 404) << "the photo is still served";
  ApiResponse found = gb->Get("/v1/search/messages?q=" + client::UrlEncode(secret));
  EXPECT_EQ(found.raw.find(secret), std::string::npos) << found.raw;

  // Notification: A's devices are gone (read with a token minted for A's old id).
  auto old = Gateway(tchat::e2e::MintToken(a.user_id));
  EXPECT_TRUE(Eventually([&] {
    ApiResponse list = old->Get("/v1/devices");
    return list.status == 200 && list.object().at("devices").as_array().empty();
  })) << "A's push device stayed";

  // The number is free: signing in again makes a new user.
  Session again = tchat::e2e::SignIn(*auth_, a.phone);
  EXPECT_FALSE(again.user_id.empty());
  EXPECT_NE(again.user_id, a.user_id);
  EXPECT_TRUE(again.reply.at("new_user").as_bool()) << again.reply;
}

}  // namespace
}  // namespace tchat::payment::e2e
