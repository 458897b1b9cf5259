#pragma once

#include <optional>
#include <string>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>

#include "media_files.hpp"

namespace tchat::messaging {

// What processing found out about an upload, and the variants it stored.
struct Ingested {
  std::optional<int> width, height, duration_ms;
  std::optional<json::array> waveform;
  std::optional<std::string> placeholder;
  json::object variants;  // "thumb" -> "thumb.jpg", "display" -> "display.webp"
};

// Blocking (the blocking pool's work): processes the upload in `tmp` by its kind
// (media_process: photos re-encoded without metadata into a thumbnail and a
// display size, a video's poster and duration, a voice note's duration and
// waveform), stores the variants and then the upload under `sha256`. The upload
// file is gone afterwards either way. Undecodable or refused media: 422.
Result<Ingested> IngestUpload(const MediaDir& dir, const std::string& tmp,
                              const std::string& sha256, const std::string& kind);

// The Content-Type of a stored variant, from its suffix.
std::string VariantContentType(std::string_view suffix);

}  // namespace tchat::messaging
