// media_process: images through libvips, videos and voice notes through libav*.
// Every fixture is made here: images with libvips (the EXIF block with GPS and
// orientation written byte by byte), videos and voice notes with the ffmpeg command
// (Debian package ffmpeg, scripts/install-deps.sh).

#include "media_process.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <vips/vips.h>

#include "media_files.hpp"

// LeakSanitizer (the test command's ASan pass): x265, the HEVC encoder libheif
// uses when HeicIsAllowedAndReEncodedAsJpeg makes its fixture, keeps one
// allocation for the life of the process. Only this test encodes HEIC; the
// service decodes it (libde265), so the suppression stays in this binary.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libx265.so\n";
}

namespace tchat::messaging::media {
namespace {

namespace fs = std::filesystem;

struct Unref {
  void operator()(void* p) const { g_object_unref(p); }
};
using ImagePtr = std::unique_ptr<VipsImage, Unref>;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

class MediaProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitMediaProcessing().ok());
    std::string tmpl = (fs::temp_directory_path() / "media_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    out_ = dir_ / "out";
    fs::create_directory(out_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A w×h sRGB image: the left half red, the right half blue, a vertical gradient in
  // green (so that encoders have something to encode); alpha when asked.
  static ImagePtr TwoColours(int w, int h, bool alpha = false) {
    VipsImage* xyz = nullptr;
    EXPECT_EQ(vips_xyz(&xyz, w, h, nullptr), 0);
    ImagePtr grid(xyz);
    VipsImage *x = nullptr, *y = nullptr, *left = nullptr, *right = nullptr, *green = nullptr;
    vips_extract_band(grid.get(), &x, 0, nullptr);
    vips_extract_band(grid.get(), &y, 1, nullptr);
    ImagePtr xp(x), yp(y);
    vips_relational_const1(xp.get(), &left, VIPS_OPERATION_RELATIONAL_LESS, w / 2.0, nullptr);
    ImagePtr lp(left);
    vips_invert(lp.get(), &right, nullptr);
    ImagePtr rp(right);
    vips_linear1(yp.get(), &green, 100.0 / h, 0, "uchar", TRUE, nullptr);
    ImagePtr gp(green);
    std::vector<VipsImage*> bands = {lp.get(), gp.get(), rp.get()};
    ImagePtr alpha_band;
    if (alpha) {
      VipsImage* a = nullptr;
      vips_linear1(xp.get(), &a, 0.0, 200.0, "uchar", TRUE, nullptr);
      alpha_band.reset(a);
      bands.push_back(a);
    }
    VipsImage* joined = nullptr;
    EXPECT_EQ(vips_bandjoin(bands.data(), &joined, static_cast<int>(bands.size()), nullptr), 0);
    ImagePtr out(joined);
    VipsImage* copy = nullptr;
    vips_copy(out.get(), &copy, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr);
    return ImagePtr(copy);
  }

  fs::path SaveAs(VipsImage* img, const std::string& name) {
    const fs::path path = dir_ / name;
    EXPECT_EQ(vips_image_write_to_file(img, path.c_str(), "strip", TRUE, nullptr), 0)
        << vips_error_buffer();
    return path;
  }

  // A little-endian TIFF/EXIF block: IFD0 with Orientation and a GPS IFD pointer,
  // the GPS IFD with latitude 13°45'N and longitude 100°30'E (Bangkok).
  static std::string ExifBlock(int orientation) {
    std::string t;
    auto u16 = [&](int v) { t.push_back(char(v & 0xff)), t.push_back(char((v >> 8) & 0xff)); };
    auto u32 = [&](std::uint32_t v) {
      for (int i = 0; i < 4; ++i) t.push_back(char((v >> (8 * i)) & 0xff));
    };
    auto entry = [&](int tag, int type, std::uint32_t count, std::uint32_t value) {
      u16(tag), u16(type), u32(count), u32(value);
    };
    t += "II*";
    t.push_back('\0');
    u32(8);
    u16(2);                                           // IFD0 at 8: 2 entries, 30 bytes
    entry(0x0112, 3, 1, std::uint32_t(orientation));  // Orientation, SHORT
    entry(0x8825, 4, 1, 38);                          // GPS IFD pointer
    u32(0);
    u16(4);                    // GPS IFD at 38: 4 entries, 54 bytes
    entry(0x0001, 2, 2, 'N');  // GPSLatitudeRef "N"
    entry(0x0002, 5, 3, 92);   // GPSLatitude, 3 RATIONAL at 92
    entry(0x0003, 2, 2, 'E');  // GPSLongitudeRef "E"
    entry(0x0004, 5, 3, 116);  // GPSLongitude at 116
    u32(0);
    for (std::uint32_t v : {13u, 1u, 45u, 1u, 0u, 1u, 100u, 1u, 30u, 1u, 0u, 1u}) u32(v);
    return t;
  }

  // A JPEG of w×h (as stored) with an EXIF APP1 segment: GPS and the orientation.
  fs::path JpegWithExif(int w, int h, int orientation) {
    ImagePtr img = TwoColours(w, h);
    const fs::path plain = SaveAs(img.get(), "plain.jpg");
    std::string jpeg = ReadFile(plain);
    const std::string exif = std::string("Exif\0\0", 6) + ExifBlock(orientation);
    const std::size_t len = exif.size() + 2;
    std::string app1 = "\xFF\xE1";
    app1.push_back(char(len >> 8)), app1.push_back(char(len & 0xff));
    jpeg.insert(2, app1 + exif);  // right after SOI
    const fs::path path = dir_ / "exif.jpg";
    WriteFile(path, jpeg);
    return path;
  }

  static ImagePtr Load(const std::string& path) {
    ImagePtr img(vips_image_new_from_file(path.c_str(), nullptr));
    EXPECT_TRUE(img) << path << ": " << vips_error_buffer();
    return img;
  }

  // Fails when the saved file carries any metadata block.
  static void ExpectNoMetadata(const std::string& path) {
    ImagePtr img = Load(path);
    ASSERT_TRUE(img);
    gchar** fields = vips_image_get_fields(img.get());
    for (gchar** f = fields; *f != nullptr; ++f) {
      const std::string name = *f;
      EXPECT_NE(name.rfind("exif-", 0), 0u) << path << " has " << name;
      EXPECT_NE(name, "xmp-data") << path;
      EXPECT_NE(name, "iptc-data") << path;
      EXPECT_NE(name, "icc-profile-data") << path;
    }
    g_strfreev(fields);
    const std::string bytes = ReadFile(path);
    EXPECT_EQ(bytes.find(std::string("Exif\0\0", 6)), std::string::npos) << path;
  }

  // Which of red and blue clearly dominates at (x, y): +1 red, -1 blue, 0 neither.
  static int RedOrBlue(VipsImage* img, int x, int y) {
    double* v = nullptr;
    int n = 0;
    EXPECT_EQ(vips_getpoint(img, &v, &n, x, y, nullptr), 0);
    const int dominant = n < 3 ? 0 : v[0] > v[2] + 100 ? 1 : v[2] > v[0] + 100 ? -1 : 0;
    g_free(v);
    return dominant;
  }

  static void ExpectPlaceholder(const ImageInfo& info, const Limits& limits) {
    const std::string prefix = "data:image/webp;base64,";
    ASSERT_EQ(info.placeholder.rfind(prefix, 0), 0u) << info.placeholder;
    EXPECT_LE(info.placeholder.size(), limits.placeholder_max_bytes);
    gsize len = 0;
    guchar* raw = g_base64_decode(info.placeholder.c_str() + prefix.size(), &len);
    ImagePtr tiny(vips_image_new_from_buffer(raw, len, "", nullptr));
    ASSERT_TRUE(tiny) << vips_error_buffer();
    EXPECT_LE(std::max(vips_image_get_width(tiny.get()), vips_image_get_height(tiny.get())),
              limits.placeholder_side);
    g_free(raw);
  }

  // Runs the ffmpeg command with `args`; the fixture is dir_/name.
  fs::path Ffmpeg(const std::string& args, const std::string& name) {
    const fs::path path = dir_ / name;
    const std::string cmd =
        "ffmpeg -hide_banner -loglevel error -nostdin -y " + args + " '" + path.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return path;
  }

  fs::path dir_;
  fs::path out_;
  Limits limits_;
};

TEST_F(MediaProcessTest, JpegLosesGpsAndGetsUpright) {
  // Stored 400×300 landscape, orientation 6: shown rotated 90° clockwise, 300×400.
  const fs::path src = JpegWithExif(400, 300, 6);
  {
    ImagePtr fixture = Load(src);  // the fixture really has GPS and the orientation
    ASSERT_TRUE(fixture);
    EXPECT_NE(vips_image_get_typeof(fixture.get(), "exif-ifd3-GPSLatitude"), 0u);
    EXPECT_EQ(vips_image_get_orientation(fixture.get()), 6);
  }
  auto info = ProcessImage(src, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->source_mime, "image/jpeg");
  EXPECT_EQ(info->width, 300);
  EXPECT_EQ(info->height, 400);
  EXPECT_EQ(info->display.width, 300);  // never enlarged
  EXPECT_EQ(info->display.height, 400);
  EXPECT_EQ(info->thumb.width, 240);
  EXPECT_EQ(info->thumb.height, 320);
  EXPECT_EQ(info->thumb.mime, "image/jpeg");
  EXPECT_EQ(info->thumb.path, (out_ / "thumb.jpg").string());
  EXPECT_EQ(info->display.path, (out_ / "display.jpg").string());
  EXPECT_EQ(info->display.bytes, fs::file_size(info->display.path));
  for (const Variant* v : {&info->thumb, &info->display}) {
    ExpectNoMetadata(v->path);
    ImagePtr img = Load(v->path);
    ASSERT_TRUE(img);
    EXPECT_EQ(vips_image_get_width(img.get()), v->width);
    EXPECT_EQ(vips_image_get_height(img.get()), v->height);
    // The left (red) half of the stored image is the top once turned clockwise.
    EXPECT_EQ(RedOrBlue(img.get(), v->width / 2, v->height / 8), 1) << v->path;
    EXPECT_EQ(RedOrBlue(img.get(), v->width / 2, v->height * 7 / 8), -1) << v->path;
  }
  ExpectPlaceholder(*info, limits_);
  EXPECT_FALSE(fs::exists(out_ / "display.jpg.tmp"));
}

TEST_F(MediaProcessTest, LargePngWithAlphaGetsDisplayAndThumbSizesAsWebp) {
  ImagePtr img = TwoColours(3000, 2000, /*alpha=*/true);
  const fs::path src = SaveAs(img.get(), "big.png");
  auto info = ProcessImage(src, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->source_mime, "image/png");
  EXPECT_EQ(info->width, 3000);
  EXPECT_EQ(info->height, 2000);
  EXPECT_EQ(info->display.width, 1600);
  EXPECT_NEAR(info->display.height, 1067, 1);
  EXPECT_EQ(info->thumb.width, 320);
  EXPECT_NEAR(info->thumb.height, 213, 1);
  EXPECT_EQ(info->display.mime, "image/webp");
  EXPECT_EQ(info->display.path, (out_ / "display.webp").string());
  ImagePtr thumb = Load(info->thumb.path);
  ASSERT_TRUE(thumb);
  EXPECT_TRUE(vips_image_hasalpha(thumb.get()));
  ExpectNoMetadata(info->thumb.path);
  ExpectPlaceholder(*info, limits_);
}

TEST_F(MediaProcessTest, WebpAndGifAreRead) {
  ImagePtr img = TwoColours(640, 480);
  for (const char* name : {"in.webp", "in.gif"}) {
    const fs::path src = SaveAs(img.get(), name);
    auto info = ProcessImage(src, out_, limits_);
    ASSERT_TRUE(info.ok()) << name << ": " << info.error().message;
    EXPECT_EQ(info->source_mime, std::string(name) == "in.webp" ? "image/webp" : "image/gif");
    EXPECT_EQ(info->width, 640);
    EXPECT_EQ(info->height, 480);
    EXPECT_EQ(std::max(info->thumb.width, info->thumb.height), 320);
    ExpectPlaceholder(*info, limits_);
  }
}

TEST_F(MediaProcessTest, HeicIsAllowedAndReEncodedAsJpeg) {
  // Made here with libvips' heifsave (libheif with x265): a phone's photo format.
  ImagePtr img = TwoColours(640, 480);
  const fs::path src = SaveAs(img.get(), "in.heic");
  const std::string bytes = ReadFile(src);
  const SniffedType type = SniffType(std::string_view(bytes).substr(0, 8192), false);
  EXPECT_EQ(type.kind, "image");
  EXPECT_EQ(type.content_type, "image/heic");
  auto info = ProcessImage(src, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->source_mime, "image/heif");
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 480);
  EXPECT_EQ(info->display.mime, "image/jpeg");
  EXPECT_EQ(info->thumb.mime, "image/jpeg");
  EXPECT_EQ(std::max(info->thumb.width, info->thumb.height), 320);
  const std::string display = ReadFile(info->display.path);
  ASSERT_GE(display.size(), 2u);
  EXPECT_EQ(display.substr(0, 2), "\xFF\xD8");  // a JPEG, not the HEIC
  ExpectPlaceholder(*info, limits_);
}

TEST_F(MediaProcessTest, GreyAnd16BitImagesComeOutAs8Bit) {
  ImagePtr img = TwoColours(500, 400);
  VipsImage *grey = nullptr, *wide = nullptr;
  ASSERT_EQ(vips_colourspace(img.get(), &grey, VIPS_INTERPRETATION_B_W, nullptr), 0);
  ImagePtr grey_img(grey);
  ASSERT_EQ(vips_colourspace(img.get(), &wide, VIPS_INTERPRETATION_RGB16, nullptr), 0);
  ImagePtr wide_img(wide);
  const fs::path grey_src = SaveAs(grey_img.get(), "grey.jpg");
  const fs::path wide_src = SaveAs(wide_img.get(), "wide.png");
  ASSERT_EQ(vips_image_get_format(Load(wide_src).get()), VIPS_FORMAT_USHORT);
  for (const fs::path& src : {grey_src, wide_src}) {
    auto info = ProcessImage(src, out_, limits_);
    ASSERT_TRUE(info.ok()) << src << ": " << info.error().message;
    EXPECT_EQ(info->width, 500);
    ImagePtr display = Load(info->display.path);
    ASSERT_TRUE(display);
    EXPECT_EQ(vips_image_get_format(display.get()), VIPS_FORMAT_UCHAR) << src;
    EXPECT_EQ(vips_image_get_width(display.get()), 500);
  }
}

// An embedded colour profile is applied (pixels converted to sRGB) and not kept.
TEST_F(MediaProcessTest, EmbeddedProfileIsAppliedAndDropped) {
  ImagePtr img = TwoColours(800, 600);
  VipsImage* tagged = nullptr;
  ASSERT_EQ(vips_icc_transform(img.get(), &tagged, "cmyk", "input_profile", "srgb", "embedded",
                               FALSE, nullptr),
            0)
      << vips_error_buffer();
  ImagePtr cmyk(tagged);
  ASSERT_NE(vips_image_get_typeof(cmyk.get(), "icc-profile-data"), 0u);
  const fs::path src = dir_ / "cmyk.jpg";
  ASSERT_EQ(vips_jpegsave(cmyk.get(), src.c_str(), nullptr), 0) << vips_error_buffer();
  {
    ImagePtr check = Load(src);
    ASSERT_TRUE(check);
    ASSERT_EQ(vips_image_get_bands(check.get()), 4);  // really CMYK, with its profile
    ASSERT_NE(vips_image_get_typeof(check.get(), "icc-profile-data"), 0u);
  }
  auto info = ProcessImage(src, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  ImagePtr display = Load(info->display.path);
  ASSERT_TRUE(display);
  EXPECT_EQ(vips_image_get_bands(display.get()), 3);
  EXPECT_EQ(RedOrBlue(display.get(), 100, 300), 1);  // left red, right blue, as drawn
  EXPECT_EQ(RedOrBlue(display.get(), 700, 300), -1);
  ExpectNoMetadata(info->display.path);
  ExpectNoMetadata(info->thumb.path);
}

// A PNG whose header declares 100000×100000 pixels with almost no data: refused from
// the header, quickly, without decoding (10^10 pixels would take many GiB).
TEST_F(MediaProcessTest, DecompressionBombIsRefusedFromTheHeader) {
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string c;
    const auto n = static_cast<std::uint32_t>(data.size());
    for (int i = 3; i >= 0; --i) c.push_back(char((n >> (8 * i)) & 0xff));
    const std::string body = type + data;
    std::uint32_t crc = 0xffffffffu;  // CRC-32 as PNG wants it
    for (unsigned char byte : body) {
      crc ^= byte;
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    crc ^= 0xffffffffu;
    c += body;
    for (int i = 3; i >= 0; --i) c.push_back(char((crc >> (8 * i)) & 0xff));
    return c;
  };
  std::string ihdr;
  for (std::uint32_t v : {100000u, 100000u}) {
    for (int i = 3; i >= 0; --i) ihdr.push_back(char((v >> (8 * i)) & 0xff));
  }
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) +
                          chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)) +
                          chunk("IEND", "");
  WriteFile(dir_ / "bomb.png", png);
  const auto start = std::chrono::steady_clock::now();
  auto info = ProcessImage((dir_ / "bomb.png").string(), out_, limits_);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().detail_code, kImageTooLarge) << info.error().message;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_TRUE(fs::is_empty(out_));

  // The same check on a JPEG, with a lower limit.
  Limits small = limits_;
  small.max_pixels = 100'000;
  auto jpeg = ProcessImage(JpegWithExif(400, 300, 1), out_, small);
  ASSERT_FALSE(jpeg.ok());
  EXPECT_EQ(jpeg.error().detail_code, kImageTooLarge);
}

TEST_F(MediaProcessTest, TruncatedAndForeignFilesAreRefused) {
  ImagePtr img = TwoColours(1200, 900);
  for (const char* name : {"whole.jpg", "whole.png", "whole.webp"}) {
    const std::string bytes = ReadFile(SaveAs(img.get(), name));
    const fs::path cut = dir_ / (std::string("cut-") + name);
    WriteFile(cut, bytes.substr(0, bytes.size() / 2));
    auto info = ProcessImage(cut, out_, limits_);
    ASSERT_FALSE(info.ok()) << name;
    EXPECT_EQ(info.error().code, ErrorCode::kUnprocessable) << name;
    EXPECT_EQ(info.error().detail_code, kCorruptMedia) << name << ": " << info.error().message;
  }
  const std::vector<std::pair<std::string, std::string>> foreign = {
      {"page.jpg", "<!doctype html><html><script>alert(1)</script></html>"},
      {"pic.svg",
       "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><script>x()</script>"
       "<rect width='10' height='10'/></svg>"},
      {"empty.png", ""},
      {"noise.jpg", std::string(4096, '\x5a')},
      {"fake.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, '\0')},
  };
  for (const auto& [name, bytes] : foreign) {
    WriteFile(dir_ / name, bytes);
    auto info = ProcessImage(dir_ / name, out_, limits_);
    ASSERT_FALSE(info.ok()) << name;
    EXPECT_EQ(info.error().code, ErrorCode::kUnprocessable) << name;
    const std::string& code = info.error().detail_code;
    EXPECT_TRUE(code == kUnsupportedMedia || code == kCorruptMedia) << name << ": " << code;
  }
  // Formats libvips reads but the allow-list does not take.
  const fs::path tiff = SaveAs(img.get(), "in.tif");
  auto info = ProcessImage(tiff, out_, limits_);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().detail_code, kUnsupportedMedia);
  EXPECT_FALSE(fs::exists(out_ / "display.jpg"));
  EXPECT_FALSE(fs::exists(out_ / "thumb.jpg"));
}

TEST_F(MediaProcessTest, MissingPathsAreInternalErrors) {
  auto no_src = ProcessImage((dir_ / "nothing.jpg").string(), out_, limits_);
  ASSERT_FALSE(no_src.ok());
  EXPECT_EQ(no_src.error().code, ErrorCode::kInternal);
  ImagePtr img = TwoColours(64, 64);
  auto no_dir = ProcessImage(SaveAs(img.get(), "a.png"), (dir_ / "nodir").string(), limits_);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().code, ErrorCode::kInternal);
}

TEST_F(MediaProcessTest, ConcurrentCallsAreIndependent) {
  ImagePtr img = TwoColours(2000, 1500);
  const fs::path src = SaveAs(img.get(), "shared.jpg");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    const fs::path out = dir_ / ("out" + std::to_string(t));
    fs::create_directory(out);
    threads.emplace_back([&, t, out] {
      for (int i = 0; i < 3; ++i) {
        auto info = ProcessImage(src, out, limits_);
        ok[t] += info.ok() && info->display.width == 1600 && info->thumb.width == 320;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 3) << "thread " << t;
}

TEST_F(MediaProcessTest, VideoPosterAndDuration) {
  const fs::path mp4 = Ffmpeg(
      "-f lavfi -i testsrc=size=640x360:rate=25:duration=2 -f lavfi -i sine=duration=2 "
      "-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest",
      "clip.mp4");
  auto info = ProbeVideo(mp4, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_NEAR(info->duration_s, 2.0, 0.1);
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 360);
  EXPECT_EQ(info->video_codec, "h264");
  EXPECT_TRUE(info->has_audio);
  EXPECT_EQ(info->poster.width, 640);
  EXPECT_EQ(info->poster.thumb.width, 320);
  EXPECT_EQ(info->poster.thumb.height, 180);
  EXPECT_EQ(info->poster.display.width, 640);
  ImagePtr thumb = Load(info->poster.thumb.path);
  ASSERT_TRUE(thumb);
  EXPECT_EQ(vips_image_get_width(thumb.get()), 320);
  ExpectPlaceholder(info->poster, limits_);
}

TEST_F(MediaProcessTest, RotatedPhoneVideoAndWebm) {
  // A phone held upright records landscape frames and a 90° display matrix in the
  // track header (tkhd), written here into the file as a phone would.
  const fs::path mp4 =
      Ffmpeg("-f lavfi -i testsrc=size=320x240:rate=25:duration=1 -c:v libx264 -pix_fmt yuv420p",
             "upright.mp4");
  std::string bytes = ReadFile(mp4);
  const std::size_t tkhd = bytes.find("tkhd");
  ASSERT_NE(tkhd, std::string::npos);
  ASSERT_EQ(bytes[tkhd + 4], '\0');  // version 0: the matrix is 40 bytes after the header
  std::string matrix;
  for (std::uint32_t v : {0u, 0x00010000u, 0u, 0xFFFF0000u, 0u, 0u, 0u, 0u, 0x40000000u}) {
    for (int i = 3; i >= 0; --i) matrix.push_back(char((v >> (8 * i)) & 0xff));
  }
  bytes.replace(tkhd + 4 + 40, matrix.size(), matrix);
  WriteFile(mp4, bytes);
  auto info = ProbeVideo(mp4, out_, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 240);
  EXPECT_EQ(info->height, 320);
  EXPECT_EQ(info->poster.display.width, 240);
  EXPECT_EQ(info->poster.display.height, 320);

  const fs::path webm = Ffmpeg(
      "-f lavfi -i testsrc=size=320x240:rate=25:duration=1.5 -c:v libvpx -b:v 200k", "clip.webm");
  auto vp8 = ProbeVideo(webm, out_, limits_);
  ASSERT_TRUE(vp8.ok()) << vp8.error().message;
  EXPECT_EQ(vp8->video_codec, "vp8");
  EXPECT_FALSE(vp8->has_audio);
  EXPECT_NEAR(vp8->duration_s, 1.5, 0.1);
}

TEST_F(MediaProcessTest, BadVideosAreRefused) {
  const fs::path mp4 =
      Ffmpeg("-f lavfi -i testsrc=size=320x240:rate=25:duration=1 -c:v libx264 -pix_fmt yuv420p",
             "whole.mp4");
  const std::string bytes = ReadFile(mp4);
  WriteFile(dir_ / "cut.mp4", bytes.substr(0, bytes.size() / 3));  // moov is at the end
  auto cut = ProbeVideo(dir_ / "cut.mp4", out_, limits_);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::kUnprocessable) << cut.error().message;

  WriteFile(dir_ / "page.mp4", "<html><body>not a video</body></html>");
  auto html = ProbeVideo(dir_ / "page.mp4", out_, limits_);
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.error().detail_code, kUnsupportedMedia);

  // A container outside the allow-list (AVI), and audio alone.
  const fs::path avi = Ffmpeg("-f lavfi -i testsrc=size=160x120:duration=1 -c:v mpeg4", "x.avi");
  auto avi_info = ProbeVideo(avi, out_, limits_);
  ASSERT_FALSE(avi_info.ok());
  EXPECT_EQ(avi_info.error().detail_code, kUnsupportedMedia);
  const fs::path ogg = Ffmpeg("-f lavfi -i sine=duration=1 -c:a libopus", "a.ogg");
  auto audio_only = ProbeVideo(ogg, out_, limits_);
  ASSERT_FALSE(audio_only.ok());
  EXPECT_EQ(audio_only.error().detail_code, kUnsupportedMedia);

  Limits short_only = limits_;
  short_only.max_duration_s = 0.5;
  auto too_long = ProbeVideo(mp4, out_, short_only);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().detail_code, kMediaTooLong);
}

TEST_F(MediaProcessTest, VoiceOpusOggDurationAndWaveform) {
  // Three seconds: a tone, one second of silence, a tone.
  const fs::path ogg = Ffmpeg(
      "-f lavfi -i aevalsrc='if(between(t\\,1\\,2)\\,0\\,0.8*sin(2*PI*440*t))':s=48000:d=3 "
      "-c:a libopus -b:a 32k",
      "voice.ogg");
  auto info = ProbeVoice(ogg, limits_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->codec, "opus");
  EXPECT_NEAR(info->duration_s, 3.0, 0.05);
  ASSERT_EQ(info->waveform.size(), 64u);
  int loudest = 0;
  for (int v : info->waveform) {
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 255);
    loudest = std::max(loudest, v);
  }
  EXPECT_EQ(loudest, 255);
  EXPECT_GT(info->waveform[10], 200);  // tone (first third)
  EXPECT_LT(info->waveform[32], 20);   // silence (middle third)
  EXPECT_GT(info->waveform[53], 200);  // tone (last third)
}

TEST_F(MediaProcessTest, VoiceWebmAndM4aAndShortNotes) {
  const fs::path webm = Ffmpeg("-f lavfi -i sine=frequency=300:duration=2 -c:a libopus", "v.webm");
  auto opus = ProbeVoice(webm, limits_);
  ASSERT_TRUE(opus.ok()) << opus.error().message;
  EXPECT_NEAR(opus->duration_s, 2.0, 0.05);
  EXPECT_EQ(opus->waveform.size(), 64u);

  const fs::path m4a = Ffmpeg("-f lavfi -i sine=frequency=300:duration=2 -c:a aac", "v.m4a");
  auto aac = ProbeVoice(m4a, limits_);
  ASSERT_TRUE(aac.ok()) << aac.error().message;
  EXPECT_EQ(aac->codec, "aac");
  EXPECT_NEAR(aac->duration_s, 2.0, 0.1);

  // 50 ms: five 10 ms windows, so five values.
  const fs::path blip = Ffmpeg("-f lavfi -i sine=duration=0.05 -c:a libopus", "blip.ogg");
  auto short_note = ProbeVoice(blip, limits_);
  ASSERT_TRUE(short_note.ok()) << short_note.error().message;
  EXPECT_LE(short_note->waveform.size(), 6u);
  EXPECT_GE(short_note->waveform.size(), 4u);

  Limits fewer = limits_;
  fewer.waveform_points = 16;
  auto sixteen = ProbeVoice(webm, fewer);
  ASSERT_TRUE(sixteen.ok());
  EXPECT_EQ(sixteen->waveform.size(), 16u);
}

TEST_F(MediaProcessTest, BadVoiceNotesAreRefused) {
  const fs::path mp3 = Ffmpeg("-f lavfi -i sine=duration=1 -c:a libmp3lame", "v.mp3");
  auto info = ProbeVoice(mp3, limits_);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().detail_code, kUnsupportedMedia);
  // Vorbis in Ogg: an allowed container, a codec outside the allow-list.
  const fs::path vorbis = Ffmpeg("-f lavfi -i sine=duration=1 -c:a libvorbis", "v.oga");
  auto vorbis_info = ProbeVoice(vorbis, limits_);
  ASSERT_FALSE(vorbis_info.ok());
  EXPECT_EQ(vorbis_info.error().detail_code, kUnsupportedMedia);

  WriteFile(dir_ / "junk.ogg", std::string("OggS") + std::string(500, '\x11'));
  auto junk = ProbeVoice(dir_ / "junk.ogg", limits_);
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, ErrorCode::kUnprocessable);

  const fs::path ogg = Ffmpeg("-f lavfi -i sine=duration=3 -c:a libopus", "long.ogg");
  Limits short_only = limits_;
  short_only.max_duration_s = 1;
  auto too_long = ProbeVoice(ogg, short_only);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().detail_code, kMediaTooLong);
}

}  // namespace
}  // namespace tchat::messaging::media
