// End-to-end tests of attachments (docs/api/openapi.yaml, /v1/media) against the
// running stack: uploads through the gateway (TCHAT_TEST_GATEWAY_URL), files
// served by the gateway from the media store for a signed URL, and messages that
// carry uploads (TCHAT_TEST_MESSAGING_URL for the WebSocket). The stack runs with
// scripts/test.sh's media settings: messaging_media_quota_bytes = 24 MiB and
// messaging_rate_uploads_per_minute = 60. Fixtures are made here.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// The output of an ffmpeg command (fixtures are made, never downloaded); "" when
// it failed.
std::string Ffmpeg(const std::string& args, const std::string& ext) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tchat-media-" + NewUuidV7() + ext)).string();
  const std::string cmd = "ffmpeg -loglevel error -y " + args + " " + path;
  if (std::system(cmd.c_str()) != 0) return {};
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(path);
  return ss.str();
}

// A 800x600 HEIC made by libvips' command (heifsave, libheif); "" when it failed.
std::string Heic() {
  const auto base = std::filesystem::temp_directory_path() / ("tchat-heic-" + NewUuidV7());
  const std::string jpg = base.string() + ".jpg", heic = base.string() + ".heic";
  const std::string cmd = "ffmpeg -loglevel error -y -f lavfi -i testsrc2=s=800x600 -frames:v 1 " +
                          jpg + " && vips copy " + jpg + " " + heic;
  std::string out;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream in(heic, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
  }
  std::filesystem::remove(jpg);
  std::filesystem::remove(heic);
  return out;
}

// A 640x480 JPEG carrying an EXIF APP1 segment with a GPS IFD and `marker`.
std::string JpegWithGps(const std::string& marker) {
  std::string jpeg = Ffmpeg("-f lavfi -i color=c=red:s=640x480 -frames:v 1", ".jpg");
  if (jpeg.size() < 4) return {};
  // TIFF (big endian): IFD0 with one entry, GPSInfo (0x8825) -> the GPS IFD at 26,
  // which holds GPSLatitudeRef "N"; then the marker.
  std::string tiff(
      "MM\x00\x2a\x00\x00\x00\x08"
      "\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x1a"
      "\x00\x00\x00\x00"
      "\x00\x01\x00\x01\x00\x02\x00\x00\x00\x02N\x00\x00\x00"
      "\x00\x00\x00\x00",
      44);
  std::string app1 = std::string("Exif\x00\x00", 6) + tiff + marker;
  const std::size_t len = app1.size() + 2;
  std::string seg = "\xff\xe1";
  seg += static_cast<char>(len >> 8);
  seg += static_cast<char>(len & 0xff);
  return jpeg.substr(0, 2) + seg + app1 + jpeg.substr(2);
}

// A JPEG's width and height from its SOF segment ({0, 0} when none).
std::pair<int, int> JpegSize(const std::string& j) {
  for (std::size_t i = 2; i + 9 < j.size();) {
    if (static_cast<unsigned char>(j[i]) != 0xff) return {0, 0};
    const auto marker = static_cast<unsigned char>(j[i + 1]);
    const std::size_t len =
        (static_cast<unsigned char>(j[i + 2]) << 8) | static_cast<unsigned char>(j[i + 3]);
    if (marker >= 0xc0 && marker <= 0xc3) {
      const int h =
          (static_cast<unsigned char>(j[i + 5]) << 8) | static_cast<unsigned char>(j[i + 6]);
      const int w =
          (static_cast<unsigned char>(j[i + 7]) << 8) | static_cast<unsigned char>(j[i + 8]);
      return {w, h};
    }
    i += 2 + len;
  }
  return {0, 0};
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

  std::string Group(User& owner, const std::vector<const User*>& members) {
    std::vector<std::string> ids;
    for (const User* m : members) ids.push_back(m->id);
    auto r = owner.api->Run(owner.api->async().CreateGroup("media", ids));
    EXPECT_EQ(r.status, 201) << r.raw;
    return Str(r.object(), "id");
  }

  std::size_t MessageCount(User& u, const std::string& conv) {
    auto r = u.api->Run(u.api->async().History(conv, std::nullopt, std::nullopt, 50));
    EXPECT_EQ(r.status, 200) << r.raw;
    return Arr(r.object(), "messages").size();
  }

  std::string gateway_;
};

TEST_F(MediaTest, PhotoIsReEncodedWithoutExifAndServedFromASignedUrl) {
  User a = GatewayUser();
  const std::string marker = "TCHAT-GPS-" + NewUuidV7();
  const std::string photo = JpegWithGps(marker);
  ASSERT_FALSE(photo.empty()) << "ffmpeg could not make the fixture";
  ASSERT_NE(photo.find(marker), std::string::npos);
  // The header says PNG; the bytes are a JPEG: the bytes win.
  auto up = Upload(a, photo, "", "image/png");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "image");
  EXPECT_EQ(Str(up.object(), "content_type"), "image/jpeg");
  EXPECT_EQ(Int(up.object(), "width"), 640);
  EXPECT_EQ(Int(up.object(), "height"), 480);
  EXPECT_TRUE(Str(up.object(), "placeholder").starts_with("data:image/")) << up.raw;
  const std::string url = Str(up.object(), "url");
  ASSERT_TRUE(url.starts_with("/media/")) << url;

  auto got = Fetch(a, url);
  ASSERT_EQ(got.status, 200) << got.raw.substr(0, 200);
  EXPECT_NE(got.raw, photo);
  EXPECT_EQ(got.raw.find(marker), std::string::npos) << "the EXIF segment was served";
  EXPECT_EQ(got.raw.find("Exif"), std::string::npos);
  EXPECT_TRUE(got.header("content-type").starts_with("image/")) << got.header("content-type");
  EXPECT_EQ(got.header("x-content-type-options"), "nosniff");
  EXPECT_FALSE(got.header("etag").empty());
  auto thumb = Fetch(a, Str(up.object(), "thumbnail_url"));
  ASSERT_EQ(thumb.status, 200);
  EXPECT_EQ(thumb.raw.find(marker), std::string::npos);
  if (thumb.header("content-type") == "image/jpeg") {
    EXPECT_EQ(JpegSize(thumb.raw), std::make_pair(320, 240));
  }

  // A forged signature or a changed expiry is refused.
  std::string forged = url;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Fetch(a, forged).status, 403);
  const auto exp = url.find("exp=");
  std::string later = url;
  later[exp + 4] = later[exp + 4] == '9' ? '8' : static_cast<char>(later[exp + 4] + 1);
  EXPECT_EQ(Fetch(a, later).status, 403);
}

TEST_F(MediaTest, HeicPhotoIsAnImageServedAsJpeg) {
  User a = GatewayUser();
  const std::string heic = Heic();
  ASSERT_FALSE(heic.empty()) << "ffmpeg and vips could not make the fixture";
  auto up = Upload(a, heic, "", "application/octet-stream");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "image");
  EXPECT_EQ(Str(up.object(), "content_type"), "image/heic");
  EXPECT_EQ(Int(up.object(), "width"), 800);
  EXPECT_EQ(Int(up.object(), "height"), 600);
  auto got = Fetch(a, Str(up.object(), "url"));
  ASSERT_EQ(got.status, 200) << got.raw.substr(0, 200);
  EXPECT_EQ(got.header("content-type"), "image/jpeg");
  EXPECT_EQ(JpegSize(got.raw), std::make_pair(800, 600));
  auto thumb = Fetch(a, Str(up.object(), "thumbnail_url"));
  ASSERT_EQ(thumb.status, 200);
  EXPECT_EQ(JpegSize(thumb.raw), std::make_pair(320, 240));
}

TEST_F(MediaTest, FileIsServedByteForByteWithRange) {
  User a = GatewayUser();
  const std::string text = "0123456789 plain text " + NewUuidV7() + "\n";
  auto up = Upload(a, text, "?filename=notes.txt");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "file");
  EXPECT_EQ(Str(up.object(), "filename"), "notes.txt");
  auto got = Fetch(a, Str(up.object(), "url"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.raw, text);
  EXPECT_EQ(got.header("content-disposition"), "attachment; filename*=UTF-8''notes.txt");
  auto part = Fetch(a, Str(up.object(), "url"), {{"Range", "bytes=2-5"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.raw, "2345");
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
  auto up = Upload(a, JpegWithGps(NewUuidV7()));
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
  EXPECT_EQ(Str(Obj(m, "attachment"), "content_type"), "image/jpeg");
  EXPECT_EQ(Int(Obj(m, "attachment"), "width"), 640);
  EXPECT_FALSE(Str(Obj(m, "attachment"), "placeholder").empty());
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

// Avatars (PUT/DELETE /v1/media/avatars/me, GET /v1/media/avatars): the owner's
// photo only; any signed-in user reads it (a signed 320 px thumbnail the gateway
// serves); removing it empties the list.
TEST_F(MediaTest, AvatarIsTheOwnersPhotoAndAnyoneSeesItUntilRemoved) {
  User a = GatewayUser(), b = GatewayUser();
  auto photo = Upload(a, JpegWithGps(NewUuidV7()));
  ASSERT_EQ(photo.status, 201) << photo.raw;
  const std::string id = Str(photo.object(), "id");
  auto file = Upload(a, "plain text, not a picture " + NewUuidV7());
  ASSERT_EQ(file.status, 201) << file.raw;
  EXPECT_EQ(Str(file.object(), "kind"), "file");

  // Not a photo: 422; someone else's upload or none: 404; a bad body: 400.
  auto not_image =
      a.api->Put("/v1/media/avatars/me", json::object{{"media_id", Str(file.object(), "id")}});
  EXPECT_EQ(not_image.status, 422) << not_image.raw;
  EXPECT_NE(not_image.raw.find("not_an_image"), std::string::npos) << not_image.raw;
  auto stolen = b.api->Put("/v1/media/avatars/me", json::object{{"media_id", id}});
  EXPECT_EQ(stolen.status, 404) << stolen.raw;
  EXPECT_EQ(b.api->Put("/v1/media/avatars/me", json::object{{"media_id", "x"}}).status, 400);
  auto none = b.api->Get("/v1/media/avatars?user_ids=" + b.id);
  ASSERT_EQ(none.status, 200) << none.raw;
  EXPECT_TRUE(Arr(none.object(), "avatars").empty());

  auto set = a.api->Put("/v1/media/avatars/me", json::object{{"media_id", id}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(Str(set.object(), "media_id"), id);
  // b, who shares no conversation with a, reads it and fetches the thumbnail.
  auto seen = b.api->Get("/v1/media/avatars?user_ids=" + a.id + "," + b.id);
  ASSERT_EQ(seen.status, 200) << seen.raw;
  const json::array& list = Arr(seen.object(), "avatars");
  ASSERT_EQ(list.size(), 1u) << seen.raw;
  EXPECT_EQ(Str(list[0].get_object(), "user_id"), a.id);
  const std::string url = Str(list[0].get_object(), "url");
  EXPECT_TRUE(url.starts_with("/media/" + id + "/thumb?exp=")) << url;
  auto bytes = Fetch(b, url);
  ASSERT_EQ(bytes.status, 200);
  EXPECT_TRUE(bytes.header("content-type").starts_with("image/")) << bytes.header("content-type");
  if (bytes.header("content-type") == "image/jpeg") {
    EXPECT_EQ(JpegSize(bytes.raw), std::make_pair(320, 240));
  }
  EXPECT_EQ(b.api->Get("/v1/media/avatars").status, 400);

  // Removed (twice: idempotent): nobody sees it any more.
  EXPECT_EQ(a.api->Delete("/v1/media/avatars/me").status, 204);
  EXPECT_EQ(a.api->Delete("/v1/media/avatars/me").status, 204);
  auto gone = b.api->Get("/v1/media/avatars?user_ids=" + a.id);
  ASSERT_EQ(gone.status, 200) << gone.raw;
  EXPECT_TRUE(Arr(gone.object(), "avatars").empty());
}

TEST_F(MediaTest, AMemberForwardsAPostedPhotoWithoutUploadingIt) {
  User a = GatewayUser(), b = GatewayUser(), c = GatewayUser(), d = GatewayUser(),
       e = GatewayUser();
  const std::string group = Group(a, {&b, &c});
  const std::string b_d = Direct(b, d), c_d = Direct(c, d), e_d = Direct(e, d);
  auto up = Upload(a, JpegWithGps(NewUuidV7()));
  ASSERT_EQ(up.status, 201) << up.raw;
  const std::string id = Str(up.object(), "id");
  // Not posted yet: nobody but the uploader can send it, even a co-member.
  EXPECT_EQ(SendMedia(b, b_d, "image", id).status, 404);
  auto posted = SendMedia(a, group, "image", id);
  ASSERT_EQ(posted.status, 201) << posted.raw;

  // b, a member of the group, forwards it to d: the same media, no upload.
  auto wd = Connect(d);
  auto fwd = SendMedia(b, b_d, "image", id);
  ASSERT_EQ(fwd.status, 201) << fwd.raw;
  EXPECT_EQ(Str(Obj(fwd.object(), "attachment"), "id"), id);
  EXPECT_EQ(Int(Obj(fwd.object(), "attachment"), "size"), Int(up.object(), "size"));
  auto ev = wd->NextOfType("message.new", 5s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(Str(Obj(Obj(*ev, "message"), "attachment"), "id"), id);
  // d (in no conversation with a) now gets the signed URLs and the bytes.
  auto seen = d.api->Get("/v1/media/" + id);
  ASSERT_EQ(seen.status, 200) << seen.raw;
  auto bytes = Fetch(d, Str(seen.object(), "thumbnail_url"));
  EXPECT_EQ(bytes.status, 200);
  EXPECT_TRUE(bytes.header("content-type").starts_with("image/")) << bytes.header("content-type");

  // e is in no conversation that carries it: 404, nothing sent.
  auto stranger = SendMedia(e, e_d, "image", id);
  EXPECT_EQ(stranger.status, 404) << stranger.raw;
  EXPECT_EQ(MessageCount(e, e_d), 0u);
  // c, removed from the group, can no longer forward it.
  auto removed = a.api->Delete("/v1/conversations/" + group + "/members/" + c.id);
  ASSERT_TRUE(removed.ok()) << removed.raw;
  auto late = SendMedia(c, c_d, "image", id);
  EXPECT_EQ(late.status, 404) << late.raw;
  EXPECT_EQ(MessageCount(c, c_d), 0u);

  // Deleting the original does not break the forward.
  auto del = a.api->Delete("/v1/conversations/" + group + "/messages/" +
                           std::to_string(Int(posted.object(), "seq")));
  ASSERT_TRUE(del.ok()) << del.raw;
  auto still = d.api->Get("/v1/media/" + id);
  ASSERT_EQ(still.status, 200) << still.raw;
  EXPECT_EQ(Fetch(d, Str(still.object(), "url")).status, 200);
}

TEST_F(MediaTest, VoiceNoteGetsItsDurationAndWaveform) {
  User a = NewUser();
  const std::string ogg =
      Ffmpeg("-f lavfi -i sine=frequency=440:duration=2 -c:a libopus -f ogg", ".ogg");
  ASSERT_FALSE(ogg.empty()) << "ffmpeg could not make the fixture";
  auto up = Upload(a, ogg, "?kind=voice&duration_ms=9000");
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(Str(up.object(), "kind"), "voice");
  // The duration read from the audio wins over the client's.
  EXPECT_NEAR(static_cast<double>(Int(up.object(), "duration_ms")), 2000.0, 100.0);
  EXPECT_FALSE(Arr(up.object(), "waveform").empty());
  EXPECT_LE(Arr(up.object(), "waveform").size(), 64u);
  std::string bad("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", 14);
  bad += std::string(4000, '\x01');
  // Garbage that claims to be a voice note is never one: refused (422) when it
  // sniffs as audio, else stored as a plain file.
  auto garbage = Upload(a, bad, "?kind=voice");
  EXPECT_TRUE(garbage.status == 422 ||
              (garbage.status == 201 && Str(garbage.object(), "kind") == "file"))
      << garbage.raw;
  User b = NewUser();
  const std::string conv = Direct(a, b);
  auto sent = SendMedia(a, conv, "voice", Str(up.object(), "id"));
  ASSERT_EQ(sent.status, 201) << sent.raw;
  EXPECT_EQ(Int(Obj(sent.object(), "attachment"), "duration_ms"), Int(up.object(), "duration_ms"));
}

}  // namespace
}  // namespace tchat::e2e
