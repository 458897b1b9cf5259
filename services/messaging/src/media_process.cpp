#include "media_process.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <sys/stat.h>

extern "C" {
#include <libavutil/log.h>
}
#include <vips/vips.h>

#include "media_internal.hpp"

namespace tchat::messaging::media {

namespace internal {

Error InputError(const char* detail, std::string message) {
  return Error::Unprocessable(detail, std::move(message));
}

Result<std::uint64_t> RegularFileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::Internal("media: cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Error::Internal("media: not a regular file: " + path);
  return static_cast<std::uint64_t>(st.st_size);
}

Status CheckOutDir(const std::string& out_dir) {
  struct stat st {};
  if (::stat(out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error::Internal("media: output directory missing: " + out_dir);
  }
  return Ok();
}

}  // namespace internal

Status InitMediaProcessing() {
  static std::once_flag once;
  static bool ok = false;
  static std::string failure;
  std::call_once(once, [] {
    if (VIPS_INIT("tchat-messaging") != 0) {
      failure = vips_error_buffer();
      vips_error_clear();
      return;
    }
    // Only the loaders of the allow-list are ever used (media_image.cpp checks the
    // loader by name); blocking the ones libvips marks untrusted (SVG, PDF, FITS,
    // MAT, ImageMagick, ...) is a second fence.
    vips_block_untrusted_set(TRUE);
    // The operation cache is keyed by file name: a new upload at a reused path must
    // never be answered from it, and it would keep file handles open.
    vips_cache_set_max(0);
    // Failures come back as Errors; the libraries' own lines on stderr would only
    // break the service's JSON log lines (a truncated upload is not news).
    g_log_set_handler(
        "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
        [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
    av_log_set_level(AV_LOG_QUIET);
    ok = true;
  });
  if (!ok) return Error::Internal("media: libvips failed to initialise: " + failure);
  return Ok();
}

}  // namespace tchat::messaging::media
