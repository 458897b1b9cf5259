#pragma once

// Processing of uploaded attachments (issue 18): images re-encoded without
// metadata with a thumbnail, a display size and a placeholder (libvips); videos probed
// for duration and a poster frame, voice notes for duration and a waveform
// (libavformat/libavcodec). Storage, upload and serving are elsewhere; these functions
// only read a file that is already on disk and write derived files into a directory.
//
// Every function is safe to call from several threads at once (worker pool); libvips
// is initialised once, on first use or by InitMediaProcessing(). Bad input is always
// an Error (Unprocessable, 422) with one of the detail codes below, never a crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tchat/core/error.hpp>
#include <tchat/core/result.hpp>

namespace tchat::messaging::media {

enum class Kind { kImage, kVideo, kVoice, kFile };

// Detail codes of the Errors (tchat::Error::detail_code, code kUnprocessable):
inline constexpr const char* kUnsupportedMedia = "unsupported_media";  // not an allowed format
inline constexpr const char* kImageTooLarge = "image_too_large";       // over max_pixels
inline constexpr const char* kCorruptMedia = "corrupt_media";          // truncated, undecodable
inline constexpr const char* kMediaTooLong = "media_too_long";         // over max_duration_s
// Failures that are not the input's fault (out_dir not writable, ...) are
// ErrorCode::kInternal without a detail code.

struct Limits {
  // Images (and video frames) with more pixels than this are refused from their
  // header, before any pixel is decoded (decompression bombs).
  std::uint64_t max_pixels = 50'000'000;
  int thumb_side = 320;       // longest side of the thumbnail
  int display_side = 1600;    // longest side of the display size (never enlarged)
  int jpeg_quality = 82;      // thumbnail and display size (WebP when the image has alpha)
  int placeholder_side = 16;  // longest side of the placeholder image
  std::size_t placeholder_max_bytes = 600;  // of the whole data: URL
  // Voice notes and videos longer than this are refused (bounds the decoding work).
  double max_duration_s = 3 * 3600.0;
  int waveform_points = 64;  // at most this many waveform values (≤ 64)
};

// A file written into out_dir.
struct Variant {
  std::string path;  // out_dir + "/" + file name
  int width = 0;
  int height = 0;
  std::uint64_t bytes = 0;
  std::string mime;  // "image/jpeg" or "image/webp"
};

struct ImageInfo {
  int width = 0;   // of the original, with its orientation applied
  int height = 0;  // (an EXIF-rotated portrait photo is reported as portrait)
  // "data:image/webp;base64,…": the image shrunk to placeholder_side and blurred,
  // at most placeholder_max_bytes long; a client shows it scaled up before loading.
  std::string placeholder;
  Variant thumb;            // <out_dir>/thumb.jpg (or .webp), longest side ≤ thumb_side
  Variant display;          // <out_dir>/display.jpg (or .webp), longest side ≤ display_side
  std::string source_mime;  // the input's format: image/jpeg, image/png, … ("" for a poster)
};

struct VideoInfo {
  double duration_s = 0;
  int width = 0;  // display size of the video (its rotation applied)
  int height = 0;
  ImageInfo poster;         // the first frame, processed like a photo (thumb/display files)
  std::string video_codec;  // "h264", "hevc", "vp9", "av1", …
  bool has_audio = false;
};

struct VoiceInfo {
  double duration_s = 0;
  // At most Limits::waveform_points loudness values 0..255, evenly spread over the
  // duration, scaled so that the loudest is 255 (all 0 for silence).
  std::vector<int> waveform;
  std::string codec;  // "opus" or "aac"
};

// Initialises libvips (once per process). The service calls it at start-up so that a
// broken installation stops start-up instead of failing every upload.
Status InitMediaProcessing();

// JPEG, PNG, WebP, GIF (first frame), and HEIC/HEIF/AVIF when libvips can read them
// (reported as image/heif; Debian's libvips reads HEIC through libheif, and
// media_process_test makes one with heifsave). The output carries no metadata
// at all (no EXIF, GPS, XMP, IPTC, ICC): an embedded colour profile is applied first
// (pixels converted to sRGB); without one the pixels are taken as sRGB. out_dir must
// exist; thumb.* and display.* in it are replaced (written to *.tmp, then renamed; not
// fsynced: storage's job).
Result<ImageInfo> ProcessImage(const std::string& src_path, const std::string& out_dir,
                               const Limits& limits);

// MP4/MOV, WebM/Matroska with H.264, HEVC, VP8, VP9, AV1 or MPEG-4 video: duration and
// a poster from the first frame (poster.thumb / poster.display in out_dir are named
// thumb.* and display.*). The video itself is not transcoded.
Result<VideoInfo> ProbeVideo(const std::string& src_path, const std::string& out_dir,
                             const Limits& limits);

// Opus in Ogg or WebM, AAC in M4A/MP4: duration (from the decoded samples) and a
// waveform. Writes nothing.
Result<VoiceInfo> ProbeVoice(const std::string& src_path, const Limits& limits);

}  // namespace tchat::messaging::media
