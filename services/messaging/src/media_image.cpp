// Images with libvips: allow-listed loaders only, the pixel count checked from the
// header before any pixel is decoded, one decode (shrink-on-load for JPEG, WebP and
// HEIF) to the display size, the thumbnail and the placeholder made from that, and
// everything saved without metadata.

#include <cstdio>
#include <memory>
#include <string_view>
#include <utility>

#include <vips/vips.h>

#include "media_internal.hpp"
#include "media_process.hpp"

namespace tchat::messaging::media {
namespace {

using internal::InputError;

struct Unref {
  void operator()(void* p) const { g_object_unref(p); }
};
using ImagePtr = std::unique_ptr<VipsImage, Unref>;

// libvips's last error text, and the buffer cleared. (The buffer is shared by all
// threads: under concurrency the text may mention another image's failure too; it
// is for the log only.)
std::string TakeVipsError() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

struct AllowedLoader {
  std::string_view loader_class;
  const char* mime;
};
constexpr AllowedLoader kAllowedLoaders[] = {
    {"VipsForeignLoadJpegFile", "image/jpeg"}, {"VipsForeignLoadPngFile", "image/png"},
    {"VipsForeignLoadWebpFile", "image/webp"}, {"VipsForeignLoadNsgifFile", "image/gif"},
    {"VipsForeignLoadHeifFile", "image/heif"},
};

// The MIME type of an allow-listed format, or unsupported_media.
Result<std::string> SniffLoader(const std::string& path) {
  const char* loader = vips_foreign_find_load(path.c_str());
  if (loader == nullptr) {
    vips_error_clear();
    return InputError(kUnsupportedMedia, "not an image format that can be read");
  }
  for (const auto& allowed : kAllowedLoaders) {
    if (allowed.loader_class == loader) return std::string(allowed.mime);
  }
  return InputError(kUnsupportedMedia, std::string("image format not allowed: ") + loader);
}

struct Header {
  int width = 0;  // with the orientation applied
  int height = 0;
  bool has_icc = false;  // an embedded colour profile
};

// Opens the header only (no pixels) and checks the declared dimensions.
Result<Header> CheckHeader(const std::string& path, const Limits& limits) {
  ImagePtr header(vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL,
                                           "fail_on", VIPS_FAIL_ON_ERROR, nullptr));
  if (!header) return InputError(kCorruptMedia, "unreadable image header: " + TakeVipsError());
  const auto width = static_cast<std::uint64_t>(vips_image_get_width(header.get()));
  const auto height = static_cast<std::uint64_t>(vips_image_get_height(header.get()));
  if (width == 0 || height == 0) return InputError(kCorruptMedia, "image has no pixels");
  if (width * height > limits.max_pixels) {
    return InputError(kImageTooLarge, "image of " + std::to_string(width) + "x" +
                                          std::to_string(height) + " pixels is too large");
  }
  const bool swap = vips_image_get_orientation_swap(header.get()) != 0;
  Header facts;
  facts.width = static_cast<int>(swap ? height : width);
  facts.height = static_cast<int>(swap ? width : height);
  facts.has_icc = vips_image_get_typeof(header.get(), VIPS_META_ICC_NAME) != 0;
  return facts;
}

// 8-bit sRGB (or grey), with alpha if it had one, in memory.
Result<ImagePtr> Normalise(ImagePtr img) {
  VipsImage* out = nullptr;
  const VipsInterpretation interp = vips_image_get_interpretation(img.get());
  const bool plain = vips_image_get_format(img.get()) == VIPS_FORMAT_UCHAR &&
                     (interp == VIPS_INTERPRETATION_sRGB || interp == VIPS_INTERPRETATION_B_W);
  if (!plain) {
    if (vips_colourspace(img.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr) != 0) {
      return InputError(kCorruptMedia, "colour conversion failed: " + TakeVipsError());
    }
    img.reset(out);
  }
  // Decodes now, once; the thumbnail and the placeholder are made from this copy.
  out = vips_image_copy_memory(img.get());
  if (out == nullptr) return InputError(kCorruptMedia, "image decoding failed: " + TakeVipsError());
  // No metadata is ever kept, so none goes further than here. This also keeps the
  // encoders from reading it: an EXIF blob that libvips 8.14's HEIF loader attached
  // was read by webpsave after it was freed (the ASan pass of the test command).
  for (const char* field :
       {VIPS_META_EXIF_NAME, VIPS_META_XMP_NAME, VIPS_META_IPTC_NAME, VIPS_META_ICC_NAME}) {
    (void)vips_image_remove(out, field);
  }
  return ImagePtr(out);
}

// WebP without metadata. libvips 8.14.1 (Debian 12) writes an EXIF chunk into WebP
// even with strip set, so the RIFF container is rewritten here with the EXIF, XMP
// and ICCP chunks left out and the VP8X flags that announce them cleared.
Result<std::string> WebpWithoutMetadata(VipsImage* img, int quality) {
  void* buf = nullptr;
  size_t len = 0;
  if (vips_webpsave_buffer(img, &buf, &len, "Q", quality, "strip", TRUE, nullptr) != 0) {
    return Error::Internal("media: WebP encoding failed: " + TakeVipsError());
  }
  const std::string in(static_cast<const char*>(buf), len);
  g_free(buf);
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + 3])) << 24;
  };
  if (in.size() < 12 || in.compare(0, 4, "RIFF") != 0 || in.compare(8, 4, "WEBP") != 0) {
    return Error::Internal("media: libvips wrote no WebP");
  }
  std::string chunks;
  for (std::size_t at = 12; at + 8 <= in.size();) {
    const std::string fourcc = in.substr(at, 4);
    const std::size_t size = u32(at + 4), padded = size + (size & 1);
    if (at + 8 + padded > in.size()) return Error::Internal("media: libvips wrote a bad WebP");
    if (fourcc != "EXIF" && fourcc != "XMP " && fourcc != "ICCP") {
      std::string chunk = in.substr(at, 8 + padded);
      if (fourcc == "VP8X") chunk[8] = static_cast<char>(chunk[8] & ~0x2c);  // ICC, EXIF, XMP
      chunks += chunk;
    }
    at += 8 + padded;
  }
  const auto riff = static_cast<std::uint32_t>(4 + chunks.size());
  std::string out = "RIFF";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((riff >> (8 * i)) & 0xff));
  return out + "WEBP" + chunks;
}

Status WriteAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f != nullptr) ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error::Internal("media: cannot write " + path);
  }
  return Ok();
}

// Writes img to <out_dir>/<stem>.jpg, or .webp when it has alpha, without metadata.
Result<Variant> Save(VipsImage* img, const std::string& out_dir, const char* stem,
                     const Limits& limits) {
  const bool alpha = vips_image_hasalpha(img) != 0;
  Variant v;
  v.path = out_dir + "/" + stem + (alpha ? ".webp" : ".jpg");
  v.mime = alpha ? "image/webp" : "image/jpeg";
  v.width = vips_image_get_width(img);
  v.height = vips_image_get_height(img);
  std::string bytes;
  if (alpha) {
    auto webp = WebpWithoutMetadata(img, limits.jpeg_quality);
    if (!webp) return std::move(webp).error();
    bytes = std::move(*webp);
  } else {
    void* buf = nullptr;
    size_t len = 0;
    // strip: no EXIF (GPS), XMP, IPTC or ICC profile.
    if (vips_jpegsave_buffer(img, &buf, &len, "Q", limits.jpeg_quality, "strip", TRUE,
                             "optimize_coding", TRUE, nullptr) != 0) {
      return Error::Internal("media: JPEG encoding failed: " + TakeVipsError());
    }
    bytes.assign(static_cast<const char*>(buf), len);
    g_free(buf);
  }
  if (auto written = WriteAtomically(v.path, bytes); !written) return std::move(written).error();
  v.bytes = bytes.size();
  return v;
}

Result<ImagePtr> Shrink(VipsImage* in, int side) {
  VipsImage* out = nullptr;
  if (vips_thumbnail_image(in, &out, side, "height", side, "size", VIPS_SIZE_DOWN, "no_rotate",
                           TRUE, nullptr) != 0) {
    return Error::Internal("media: resize failed: " + TakeVipsError());
  }
  return ImagePtr(out);
}

// A tiny blurred WebP as a data: URL, made smaller until it fits the bound.
Result<std::string> Placeholder(VipsImage* small, const Limits& limits) {
  for (int side = limits.placeholder_side; side >= 4; side /= 2) {
    auto tiny = Shrink(small, side);
    if (!tiny) return std::move(tiny).error();
    VipsImage* blurred = nullptr;
    if (vips_gaussblur(tiny->get(), &blurred, 0.6, nullptr) != 0) {
      return Error::Internal("media: blur failed: " + TakeVipsError());
    }
    ImagePtr blur(blurred);
    auto webp = WebpWithoutMetadata(blur.get(), 40);
    if (!webp) return std::move(webp).error();
    gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(webp->data()), webp->size());
    std::string url = std::string("data:image/webp;base64,") + b64;
    g_free(b64);
    if (url.size() <= limits.placeholder_max_bytes) return url;
  }
  return Error::Internal("media: placeholder does not fit its size bound");
}

// The display size, the thumbnail and the placeholder from an upright image.
Result<ImageInfo> Derive(ImagePtr upright, const std::string& out_dir, const Limits& limits) {
  auto display = Normalise(std::move(upright));
  if (!display) return std::move(display).error();
  ImageInfo info;
  auto display_file = Save(display->get(), out_dir, "display", limits);
  if (!display_file) return std::move(display_file).error();
  info.display = std::move(*display_file);
  auto thumb = Shrink(display->get(), limits.thumb_side);
  if (!thumb) return std::move(thumb).error();
  auto thumb_file = Save(thumb->get(), out_dir, "thumb", limits);
  if (!thumb_file) return std::move(thumb_file).error();
  info.thumb = std::move(*thumb_file);
  auto placeholder = Placeholder(thumb->get(), limits);
  if (!placeholder) return std::move(placeholder).error();
  info.placeholder = std::move(*placeholder);
  return info;
}

}  // namespace

Result<ImageInfo> ProcessImage(const std::string& src_path, const std::string& out_dir,
                               const Limits& limits) {
  if (auto init = InitMediaProcessing(); !init) return std::move(init).error();
  if (auto size = internal::RegularFileSize(src_path); !size) return std::move(size).error();
  if (auto dir = internal::CheckOutDir(out_dir); !dir) return std::move(dir).error();
  auto mime = SniffLoader(src_path);
  if (!mime) return std::move(mime).error();
  auto header = CheckHeader(src_path, limits);
  if (!header) return std::move(header).error();
  // One decode with shrink-on-load and the orientation applied; an embedded colour
  // profile is applied and the pixels converted to sRGB (the profile is not kept).
  // Without one the pixels are taken as sRGB already: no transform (it costs about a
  // third of the whole work).
  VipsImage* out = nullptr;
  const int rc = header->has_icc
                     ? vips_thumbnail(src_path.c_str(), &out, limits.display_side, "height",
                                      limits.display_side, "size", VIPS_SIZE_DOWN, "fail_on",
                                      VIPS_FAIL_ON_ERROR, "export_profile", "srgb", nullptr)
                     : vips_thumbnail(src_path.c_str(), &out, limits.display_side, "height",
                                      limits.display_side, "size", VIPS_SIZE_DOWN, "fail_on",
                                      VIPS_FAIL_ON_ERROR, nullptr);
  if (rc != 0) return InputError(kCorruptMedia, "image decoding failed: " + TakeVipsError());
  auto info = Derive(ImagePtr(out), out_dir, limits);
  if (!info) return info;
  info->width = header->width;
  info->height = header->height;
  info->source_mime = std::move(*mime);
  return info;
}

namespace internal {

Result<ImageInfo> ProcessRgbFrame(const RgbFrame& frame, const std::string& out_dir,
                                  const Limits& limits) {
  if (auto init = InitMediaProcessing(); !init) return std::move(init).error();
  if (auto dir = CheckOutDir(out_dir); !dir) return std::move(dir).error();
  const auto pixels =
      static_cast<std::uint64_t>(frame.width) * static_cast<std::uint64_t>(frame.height);
  if (frame.width <= 0 || frame.height <= 0) return InputError(kCorruptMedia, "empty frame");
  if (pixels > limits.max_pixels) return InputError(kImageTooLarge, "video frame is too large");
  // The pixels stay the caller's: Derive() copies what it keeps before returning.
  VipsImage* wrapped = vips_image_new_from_memory(
      frame.data, static_cast<size_t>(frame.width) * 3 * static_cast<size_t>(frame.height),
      frame.width, frame.height, 3, VIPS_FORMAT_UCHAR);
  if (wrapped == nullptr) return Error::Internal("media: frame wrap failed: " + TakeVipsError());
  ImagePtr img(wrapped);
  VipsImage* out = nullptr;
  const VipsAngle angle = frame.rotation_deg == 90    ? VIPS_ANGLE_D90
                          : frame.rotation_deg == 180 ? VIPS_ANGLE_D180
                          : frame.rotation_deg == 270 ? VIPS_ANGLE_D270
                                                      : VIPS_ANGLE_D0;
  if (vips_rot(img.get(), &out, angle, nullptr) != 0) {
    return Error::Internal("media: frame rotation failed: " + TakeVipsError());
  }
  img.reset(out);
  const int width = vips_image_get_width(img.get()), height = vips_image_get_height(img.get());
  if (vips_thumbnail_image(img.get(), &out, limits.display_side, "height", limits.display_side,
                           "size", VIPS_SIZE_DOWN, nullptr) != 0) {
    return Error::Internal("media: frame resize failed: " + TakeVipsError());
  }
  auto info = Derive(ImagePtr(out), out_dir, limits);
  if (!info) return info;
  info->width = width;
  info->height = height;
  return info;
}

}  // namespace internal
}  // namespace tchat::messaging::media
