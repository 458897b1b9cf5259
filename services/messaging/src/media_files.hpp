#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sodium.h>

#include <tchat/core/http/types.hpp>
#include <tchat/core/result.hpp>

namespace tchat::messaging {

// What an upload may weigh, per kind (bytes).
struct MediaLimits {
  std::uint64_t image = 16ull << 20;
  std::uint64_t voice = 16ull << 20;
  std::uint64_t video = 100ull << 20;
  std::uint64_t file = 100ull << 20;
  std::uint64_t Largest() const;
  std::uint64_t For(std::string_view kind) const;
};

// What the bytes of an upload are, found from the bytes themselves (libmagic),
// never from the client's Content-Type or file name.
struct SniffedType {
  std::string kind;          // image | voice | video | file
  std::string content_type;  // what the file is served as
  bool inline_ok = false;    // may be shown inline (else Content-Disposition: attachment)
};

// The allow-list: JPEG, PNG, WebP, GIF and HEIC/HEIF are images; Ogg/WebM/MP4 audio and AAC
// are voice notes when the client asks for one (`want_voice`), else files; MP4
// and QuickTime are videos; PDF and plain text are files as themselves;
// everything else (HTML, SVG, scripts, executables, unknown) is a file served as
// application/octet-stream, always as a download.
SniffedType SniffType(std::string_view head, bool want_voice);

// The media store on disk: <root>/objects/<first two hex>/<sha256>[.<variant>]
// for content (shared by uploads of the same bytes), <root>/tmp/ for uploads in
// progress. Every file is written to tmp, fsynced, renamed into place and its
// directory fsynced. Files are world-readable (0644, directories 0755): the
// gateway's nginx workers serve them.
class MediaDir {
 public:
  explicit MediaDir(std::string root) : root_(std::move(root)) {}
  // Creates the directories; fails when they cannot be made or written.
  Status Prepare() const;
  const std::string& root() const { return root_; }
  std::string TempPath() const;  // a fresh name in tmp/
  // The object's path relative to the root ("objects/ab/abcd....[.variant]").
  static std::string RelPath(std::string_view sha256, std::string_view suffix = "");
  std::string Path(std::string_view sha256, std::string_view suffix = "") const {
    return root_ + "/" + RelPath(sha256, suffix);
  }
  // Blocking: fsyncs `tmp`, renames it to the object's path, fsyncs the directory.
  Status Commit(const std::string& tmp, std::string_view sha256,
                std::string_view suffix = "") const;

 private:
  std::string root_;
};

// The sink of one upload (RouteOptions::open_sink): writes the body to a
// temporary file as it arrives, hashing it and sniffing its first bytes; refuses
// (413) as soon as the body passes the limit of its kind. The temporary file is
// removed with the sink unless Finish() handed it over.
class UploadSink : public http::BodySink {
 public:
  static Result<std::shared_ptr<UploadSink>> Open(const MediaDir& dir, const MediaLimits& limits,
                                                  bool want_voice);
  ~UploadSink() override;
  Status Write(std::string_view piece) override;

  // After the body: the type (sniffed now if the body was short), the size, the
  // hash. Fails with 413 when the body is over its kind's limit, 400 when empty.
  Status Finish();
  const SniffedType& type() const { return *type_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& sha256() const { return sha256_; }
  const std::string& temp_path() const { return path_; }
  // The file is the caller's from now on (committed or removed by it).
  void Release() { path_.clear(); }

 private:
  UploadSink(const MediaLimits& limits, bool want_voice)
      : limits_(limits), want_voice_(want_voice) {}
  Status Sniff();

  static constexpr std::size_t kHead = 8192;  // bytes given to libmagic
  MediaLimits limits_;
  bool want_voice_;
  int fd_ = -1;
  std::string path_;
  std::string head_;
  std::optional<SniffedType> type_;
  std::uint64_t bytes_ = 0;
  std::uint64_t limit_ = 0;
  crypto_hash_sha256_state sha_{};
  std::string sha256_;
};

}  // namespace tchat::messaging
