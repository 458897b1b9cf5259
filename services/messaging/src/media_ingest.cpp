#include "media_ingest.hpp"

#include <cmath>
#include <filesystem>

#include <unistd.h>

#include <tchat/core/uuid.hpp>

#include "media_process.hpp"

namespace tchat::messaging {

namespace {

// "thumb.jpg" for <out_dir>/thumb.jpg.
std::string SuffixOf(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// Stores a processed image's two variants; fills in its size and placeholder.
Status StoreImage(const MediaDir& dir, const std::string& sha256, const media::ImageInfo& info,
                  Ingested& out) {
  for (const media::Variant* v : {&info.thumb, &info.display}) {
    const std::string suffix = SuffixOf(v->path);
    if (auto st = dir.Commit(v->path, sha256, suffix); !st) return st;
    out.variants[suffix.substr(0, suffix.find('.'))] = suffix;
  }
  out.width = info.width;
  out.height = info.height;
  out.placeholder = info.placeholder;
  return Ok();
}

Status Process(const MediaDir& dir, const std::string& tmp, const std::string& sha256,
               const std::string& kind, const std::string& out_dir, Ingested& out) {
  const media::Limits limits;
  if (kind == "image") {
    auto info = media::ProcessImage(tmp, out_dir, limits);
    if (!info) return std::move(info).error();
    return StoreImage(dir, sha256, *info, out);
  }
  if (kind == "video") {
    auto info = media::ProbeVideo(tmp, out_dir, limits);
    if (!info) return std::move(info).error();
    if (auto st = StoreImage(dir, sha256, info->poster, out); !st) return st;
    out.width = info->width;
    out.height = info->height;
    out.duration_ms = static_cast<int>(std::lround(info->duration_s * 1000));
    return Ok();
  }
  if (kind == "voice") {
    auto info = media::ProbeVoice(tmp, limits);
    if (!info) return std::move(info).error();
    out.duration_ms = static_cast<int>(std::lround(info->duration_s * 1000));
    json::array wave;
    for (int v : info->waveform) wave.emplace_back(v);
    out.waveform = std::move(wave);
  }
  return Ok();
}

}  // namespace

Result<Ingested> IngestUpload(const MediaDir& dir, const std::string& tmp,
                              const std::string& sha256, const std::string& kind) {
  Ingested out;
  const std::string out_dir = dir.root() + "/tmp/" + RandomHex(8) + ".d";
  std::error_code ec;
  std::filesystem::create_directory(out_dir, ec);
  Status st = ec ? Status(Error::Internal("cannot create " + out_dir + ": " + ec.message()))
                 : Process(dir, tmp, sha256, kind, out_dir, out);
  if (st) st = dir.Commit(tmp, sha256);
  std::filesystem::remove_all(out_dir, ec);
  if (!st) {
    ::unlink(tmp.c_str());
    return std::move(st).error();
  }
  return out;
}

std::string VariantContentType(std::string_view suffix) {
  if (suffix.ends_with(".webp")) return "image/webp";
  return "image/jpeg";
}

}  // namespace tchat::messaging
