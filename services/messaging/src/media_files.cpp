#include "media_files.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tchat/core/uuid.hpp>

namespace tchat::messaging {

namespace {

std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// One libmagic handle per thread (a handle is not thread-safe), loaded once.
magic_t Magic() {
  struct Handle {
    magic_t m = nullptr;
    Handle() {
      m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
      if (m != nullptr && magic_load(m, nullptr) != 0) {
        magic_close(m);
        m = nullptr;
      }
    }
    ~Handle() {
      if (m != nullptr) magic_close(m);
    }
  };
  thread_local Handle h;
  return h.m;
}

struct Allowed {
  std::string_view mime;
  std::string_view kind;  // "voice?" : voice when asked for, else file
  bool inline_ok;
};

constexpr std::array kAllowed{
    Allowed{"image/jpeg", "image", true},
    Allowed{"image/png", "image", true},
    Allowed{"image/webp", "image", true},
    Allowed{"image/gif", "image", true},
    // HEIC/HEIF (phones' photos): read by libvips' heif loader (libheif), served
    // like every photo only as the re-encoded JPEG/WebP variants.
    Allowed{"image/heic", "image", true},
    Allowed{"image/heif", "image", true},
    Allowed{"audio/ogg", "voice?", true},
    Allowed{"audio/webm", "voice?", true},
    Allowed{"video/webm", "voice?", true},
    Allowed{"audio/mp4", "voice?", true},
    Allowed{"audio/x-m4a", "voice?", true},
    Allowed{"audio/aac", "voice?", true},
    Allowed{"audio/x-hx-aac-adts", "voice?", true},
    Allowed{"video/mp4", "video", true},
    Allowed{"video/quicktime", "video", true},
    Allowed{"application/pdf", "file", false},
    Allowed{"text/plain", "file", false},
};

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Error::Internal(Errno("open " + path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::Internal(Errno("fsync " + path));
  return Ok();
}

}  // namespace

std::uint64_t MediaLimits::Largest() const {
  return std::max({image, voice, video, file});
}

std::uint64_t MediaLimits::For(std::string_view kind) const {
  if (kind == "image") return image;
  if (kind == "voice") return voice;
  if (kind == "video") return video;
  return file;
}

SniffedType SniffType(std::string_view head, bool want_voice) {
  magic_t m = Magic();
  const char* found = m != nullptr ? magic_buffer(m, head.data(), head.size()) : nullptr;
  const std::string_view mime = found != nullptr ? found : "";
  for (const Allowed& a : kAllowed) {
    if (a.mime != mime) continue;
    if (a.kind == "voice?") {
      if (want_voice) return {"voice", std::string(mime), true};
      if (mime.starts_with("video/")) return {"video", std::string(mime), true};
      return {"file", std::string(mime), false};
    }
    if (mime == "text/plain") return {"file", "text/plain; charset=utf-8", false};
    return {std::string(a.kind), std::string(mime), a.inline_ok};
  }
  return {"file", "application/octet-stream", false};
}

Status MediaDir::Prepare() const {
  std::error_code ec;
  std::filesystem::create_directories(root_ + "/tmp", ec);
  if (!ec) std::filesystem::create_directories(root_ + "/objects", ec);
  if (ec) return Error::InvalidArgument("media directory " + root_ + ": " + ec.message());
  if (::access((root_ + "/tmp").c_str(), W_OK) != 0 ||
      ::access((root_ + "/objects").c_str(), W_OK) != 0) {
    return Error::InvalidArgument("media directory " + root_ + " is not writable");
  }
  return Ok();
}

std::string MediaDir::TempPath() const {
  return root_ + "/tmp/" + RandomHex(16);
}

std::string MediaDir::RelPath(std::string_view sha256, std::string_view suffix) {
  std::string p = "objects/";
  p.append(sha256.substr(0, 2));
  p += '/';
  p.append(sha256);
  if (!suffix.empty()) {
    p += '.';
    p.append(suffix);
  }
  return p;
}

Status MediaDir::Commit(const std::string& tmp, std::string_view sha256,
                        std::string_view suffix) const {
  if (auto st = FsyncPath(tmp, O_RDONLY); !st) return st;
  const std::string dir = root_ + "/objects/" + std::string(sha256.substr(0, 2));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Error::Internal(Errno("mkdir"));
  const std::string dest = Path(sha256, suffix);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) return Error::Internal(Errno("rename " + dest));
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Result<std::shared_ptr<UploadSink>> UploadSink::Open(const MediaDir& dir, const MediaLimits& limits,
                                                     bool want_voice) {
  std::shared_ptr<UploadSink> s(new UploadSink(limits, want_voice));
  s->path_ = dir.TempPath();
  s->fd_ = ::open(s->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (s->fd_ < 0) {
    s->path_.clear();
    return Error::Internal(Errno("cannot create an upload file"));
  }
  s->limit_ = want_voice ? limits.voice : limits.Largest();
  crypto_hash_sha256_init(&s->sha_);
  return s;
}

UploadSink::~UploadSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

Status UploadSink::Sniff() {
  type_ = SniffType(head_, want_voice_);
  limit_ = limits_.For(type_->kind);
  head_.clear();
  head_.shrink_to_fit();
  return Ok();
}

Status UploadSink::Write(std::string_view piece) {
  bytes_ += piece.size();
  if (!type_) {
    head_.append(piece.substr(0, kHead - std::min(kHead, head_.size())));
    if (head_.size() >= kHead) (void)Sniff();
  }
  if (bytes_ > limit_) {
    return Error::PayloadTooLarge(
        (type_ ? "a " + type_->kind + " upload" : std::string("an upload")) + " may be at most " +
        std::to_string(limit_) + " bytes");
  }
  crypto_hash_sha256_update(&sha_, reinterpret_cast<const unsigned char*>(piece.data()),
                            piece.size());
  while (!piece.empty()) {
    const ssize_t n = ::write(fd_, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::Internal(Errno("writing an upload"));
    piece.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok();
}

Status UploadSink::Finish() {
  if (bytes_ == 0) return Error::InvalidArgument("the upload is empty");
  if (!type_) (void)Sniff();
  if (bytes_ > limit_) {
    return Error::PayloadTooLarge("a " + type_->kind + " upload may be at most " +
                                  std::to_string(limit_) + " bytes");
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha_, out);
  static constexpr char kHex[] = "0123456789abcdef";
  sha256_.clear();
  for (unsigned char c : out) {
    sha256_ += kHex[c >> 4];
    sha256_ += kHex[c & 15];
  }
  return Ok();
}

}  // namespace tchat::messaging
