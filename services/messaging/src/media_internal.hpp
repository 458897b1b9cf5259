#pragma once

// Shared by media_process.cpp, media_image.cpp and media_av.cpp; not part of the API.

#include <cstdint>
#include <string>

#include "media_process.hpp"

namespace tchat::messaging::media::internal {

// Error{kUnprocessable, message, detail} for bad input.
Error InputError(const char* detail, std::string message);

// The size of a regular file, or an Error (kInternal: the caller gave a bad path).
Result<std::uint64_t> RegularFileSize(const std::string& path);

// Writes nothing yet; checks that out_dir is an existing directory.
Status CheckOutDir(const std::string& out_dir);

// One decoded video frame, 8-bit packed RGB (rows of exactly width * 3 bytes), rotated clockwise by
// rotation_deg (0, 90, 180, 270) when shown: processed like a photo.
struct RgbFrame {
  const std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int rotation_deg = 0;
};
Result<ImageInfo> ProcessRgbFrame(const RgbFrame& frame, const std::string& out_dir,
                                  const Limits& limits);

}  // namespace tchat::messaging::media::internal
