// End-to-end tests of attachments (docs/api/openapi.yaml, /v1/media) against the
// running stack: uploads through the gateway (TCHAT_TEST_GATEWAY_URL), files
// served by the gateway from the media store for a signed URL, and messages that
// carry uploads (TCHAT_TEST_MESSAGING_URL for the WebSocket). The stack runs with
// scripts/test.sh's media settings: messaging_media_quota_bytes = 24 MiB and
// messaging_rate_uploads_per_minute = 60. Fixtures are made here.
#include <tchat/core/uuid.hpp>

#include "support/env.hpp"
#include "support/fixture.hpp"
#include "support/json_fields.hpp"

namespace tchat::e2e {
namespace {

using namespace std::chrono_literals;

// A PNG's signature and header chunk (1x1): what the type is sniffed from.
std::string Png(std::size_t pad = 0) {
  std::string p(
      "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
      "\x00\x00\x00\x90\x77\x53\xde",
      33);
  p += std::string(pad, '\0');
  return p + NewUuidV7();  // unique bytes: no two tests share a file
}

class MediaTest : public ServiceTest {
 protected:
  MediaTest() : ServiceTest("TCHAT_TEST_MESSAGING_URL") {}
  void SetUp() override {
    ServiceTest::SetUp();
    gateway_ = RequireEnv("TCHAT_TEST_GATEWAY_URL");
  }

  // A user whose client talks to the gateway.
  User GatewayUser() { return NewUser(gateway_); }

  ApiResponse Upload(User& u, const std::string& bytes, const std::string& query = "",
                     const std::string& content_type = "application/octet-stream") {
    return u.api->Raw("POST", "/v1/media" + query, bytes, content_type);
  }

  // A GET of a path through the gateway without credentials.
  ApiResponse Fetch(User& u, const std::string& path, client::HeaderList headers = {}) {
    ApiRequest r("GET", path, "", std::move(headers));
    r.bearer = "";
    return u.api->Run(u.api->async().Send(std::move(r)));
  }

  std::string Direct(User& a, const User& b) {
    auto r = a.api->Run(a.api->async().CreateDirect(b.id));
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    return Str(r.object(), "id");
  }

  ApiResponse SendMedia(User& u, const std::string& conv, const std::string& type,
                        const std::string& media_id) {
    return u.api->Run(u.api->async().SendMessage(conv, json::object{{"client_msg_id", NewUuidV7()},
                                                                    {"type", type},
                                                                    {"attachment_id", media_id},
                                                                    {"body", "look"}}));
  }

  std::string gateway_;
};

TEST_F(MediaTest, PhotoIsServedByTheGatewayFromASignedUrl) {
  User a = GatewayUser();
  const std::string png = Png(100);
  // The header says JPEG; the bytes are a PNG: the bytes win.
  auto up = Upload(a, png, "", "image/jpeg");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "image");
  EXPECT_EQ(Str(up.object(), "content_type"), "image/png");
  EXPECT_EQ(Int(up.object(), "size"), static_cast<std::int64_t>(png.size()));
  const std::string url = Str(up.object(), "url");
  ASSERT_TRUE(url.starts_with("/media/")) << url;

  auto got = Fetch(a, url);
  ASSERT_EQ(got.status, 200) << got.raw.substr(0, 200);
  EXPECT_EQ(got.raw, png);
  EXPECT_EQ(got.header("content-type"), "image/png");
  EXPECT_EQ(got.header("x-content-type-options"), "nosniff");
  EXPECT_FALSE(got.header("etag").empty());
  auto part = Fetch(a, url, {{"Range", "bytes=1-3"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.raw, "PNG");

  // A forged signature or a changed expiry is refused.
  std::string forged = url;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Fetch(a, forged).status, 403);
  const auto exp = url.find("exp=");
  std::string later = url;
  later[exp + 4] = later[exp + 4] == '9' ? '8' : static_cast<char>(later[exp + 4] + 1);
  EXPECT_EQ(Fetch(a, later).status, 403);
}

TEST_F(MediaTest, HtmlDisguisedAsAPhotoIsOnlyADownload) {
  User a = GatewayUser();
  const std::string html =
      "<!DOCTYPE html><html><body><script>alert(1)</script>" + NewUuidV7() + "</body></html>\n";
  auto up = Upload(a, html, "?filename=photo.jpg", "image/jpeg");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "file");
  EXPECT_EQ(Str(up.object(), "content_type"), "application/octet-stream");
  auto got = Fetch(a, Str(up.object(), "url"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.raw, html);
  EXPECT_EQ(got.header("content-type"), "application/octet-stream");
  EXPECT_TRUE(got.header("content-disposition").starts_with("attachment")) << got.raw;
  // An image message cannot carry it.
  User b = NewUser();
  User a_direct = UserWithToken(a.id, a.token);
  const std::string conv = Direct(a_direct, b);
  auto sent = SendMedia(a_direct, conv, "image", Str(up.object(), "id"));
  EXPECT_EQ(sent.status, 400) << sent.raw;
}

TEST_F(MediaTest, OversizedPhotoIs413AndOverQuotaIs422) {
  User a = GatewayUser();
  // A PNG of 17 MiB: over the 16 MiB of images, refused while it streams.
  auto big = Upload(a, Png(17u << 20));
  EXPECT_EQ(big.status, 413) << big.raw.substr(0, 200);
  EXPECT_EQ(big.error_code(), "payload_too_large");
  // Files may be larger: 12 MiB fit in the 24 MiB quota, 13 more do not.
  auto first = Upload(a, std::string(12u << 20, 'a') + NewUuidV7());
  ASSERT_EQ(first.status, 201) << first.raw.substr(0, 200);
  EXPECT_EQ(Str(first.object(), "kind"), "file");
  auto over = Upload(a, std::string(13u << 20, 'b'));
  EXPECT_EQ(over.status, 422) << over.raw.substr(0, 200);
  EXPECT_EQ(over.error_code(), "quota_exceeded");
}

TEST_F(MediaTest, UploadsAreRateLimited) {
  User a = NewUser();
  int limited = 0;
  for (int i = 0; i < 61 && limited == 0; ++i) {
    auto r = Upload(a, "hello " + NewUuidV7());
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.error_code(), "rate_limited");
      EXPECT_FALSE(r.header("retry-after").empty());
    } else {
      ASSERT_EQ(r.status, 201) << r.raw;
    }
  }
  EXPECT_EQ(limited, 1);
}

TEST_F(MediaTest, OnlyTheUploaderAttachesAndOnlyMembersSeeIt) {
  User a = NewUser(), b = NewUser(), c = NewUser();
  const std::string conv = Direct(a, b);
  auto wb = Connect(b);
  auto up = Upload(a, Png(10));
  ASSERT_EQ(up.status, 201) << up.raw;
  const std::string id = Str(up.object(), "id");
  // Before it is posted only its owner sees it.
  EXPECT_EQ(b.api->Get("/v1/media/" + id).status, 404);
  // b cannot post a's upload; nothing is sent.
  auto stolen = SendMedia(b, conv, "image", id);
  EXPECT_EQ(stolen.status, 404) << stolen.raw;
  EXPECT_EQ(SendMedia(a, conv, "image", NewUuidV7()).status, 404);

  auto sent = SendMedia(a, conv, "image", id);
  ASSERT_EQ(sent.status, 201) << sent.raw;
  EXPECT_EQ(Str(sent.object(), "type"), "image");
  const json::object& att = Obj(sent.object(), "attachment");
  EXPECT_EQ(Str(att, "id"), id);
  EXPECT_EQ(Str(att, "kind"), "image");
  EXPECT_EQ(Str(att, "url"), "/v1/media/" + id);
  // Delivered over the WebSocket with its metadata.
  auto ev = wb->NextOfType("message.new", 5s);
  ASSERT_TRUE(ev);
  const json::object& m = Obj(*ev, "message");
  EXPECT_EQ(Str(m, "type"), "image");
  EXPECT_EQ(Str(Obj(m, "attachment"), "id"), id);
  EXPECT_EQ(Str(Obj(m, "attachment"), "content_type"), "image/png");
  EXPECT_EQ(Int(Obj(m, "attachment"), "size"), Int(up.object(), "size"));
  // Now the other member gets it with signed URLs; an outsider does not.
  auto seen = b.api->Get("/v1/media/" + id);
  ASSERT_EQ(seen.status, 200) << seen.raw;
  EXPECT_TRUE(Str(seen.object(), "url").starts_with("/media/" + id + "/original?exp="));
  EXPECT_EQ(c.api->Get("/v1/media/" + id).status, 404);
  // A message that is deleted no longer lets the other member see it.
  auto del = a.api->Delete("/v1/conversations/" + conv + "/messages/" +
                           std::to_string(Int(sent.object(), "seq")));
  ASSERT_TRUE(del.ok()) << del.raw;
  EXPECT_EQ(b.api->Get("/v1/media/" + id).status, 404);
  EXPECT_EQ(a.api->Get("/v1/media/" + id).status, 200);
}

TEST_F(MediaTest, VoiceNoteNeedsAPlausibleDuration) {
  User a = NewUser();
  // An Ogg page header: sniffed as audio/ogg.
  std::string ogg("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", 14);
  ogg += std::string(4000, '\x01') + NewUuidV7();
  EXPECT_EQ(Upload(a, ogg, "?kind=voice").status, 400);
  auto up = Upload(a, ogg, "?kind=voice&duration_ms=2500");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "voice");
  EXPECT_EQ(Int(up.object(), "duration_ms"), 2500);
  User b = NewUser();
  const std::string conv = Direct(a, b);
  auto sent = SendMedia(a, conv, "voice", Str(up.object(), "id"));
  ASSERT_EQ(sent.status, 201) << sent.raw;
  EXPECT_EQ(Int(Obj(sent.object(), "attachment"), "duration_ms"), 2500);
}

}  // namespace
}  // namespace tchat::e2e
