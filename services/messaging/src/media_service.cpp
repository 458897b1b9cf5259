#include "media_service.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <tchat/core/config.hpp>
#include <tchat/core/hashing.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "media_ingest.hpp"

namespace tchat::messaging {

namespace {

// A file younger than this is never removed by the sweeper: an upload of the
// same bytes may have renamed it into place and not yet written its row.
constexpr auto kFileGrace = std::chrono::minutes(10);
// A send is refused for an upload this close to its expiry, so that the sweeper
// (which only takes older uploads) can never race a send that passed the check.
constexpr auto kAttachGrace = std::chrono::minutes(30);

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error MediaNotFound() {
  return Error::NotFound("media not found");
}

}  // namespace

Error AttachmentNotFound() {
  return Error::NotFound(
      "attachment not found: attach your own upload, or forward a media posted in one of your "
      "conversations");
}

namespace {

// RFC 5987 filename*= value of a download.
std::string Disposition(const MediaRow& row) {
  if (row.kind != "file") return "inline";
  std::string out = "attachment";
  if (!row.filename) return out;
  out += "; filename*=UTF-8''";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : *row.filename) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Removes the files of a hash (original and variants) unless one is fresh.
Status RemoveFiles(const MediaDir& dir, const SweptMedia& m) {
  struct stat st {};
  const std::string original = dir.Path(m.sha256);
  if (::stat(original.c_str(), &st) == 0) {
    const auto mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
    if (std::chrono::system_clock::now() - mtime < kFileGrace) return Ok();
  }
  ::unlink(original.c_str());
  for (const auto& suffix : m.suffixes) ::unlink(dir.Path(m.sha256, suffix).c_str());
  return Ok();
}

}  // namespace

MediaService::MediaService(MediaStore& store, UserLimits& limits, BlockingPool& blocking,
                           MediaOptions options)
    : store_(store),
      limits_(limits),
      blocking_(blocking),
      options_(std::move(options)),
      dir_(options_.dir) {}

Task<Result<std::shared_ptr<UploadSink>>> MediaService::OpenUpload(
    const std::string& user_id, std::optional<std::uint64_t> length, bool want_voice) {
  if (Status st = co_await limits_.Admit(UserLimits::Kind::kUpload, user_id); !st) {
    co_return std::move(st).error();
  }
  auto used = co_await store_.UsedBytes(user_id);
  if (!used) co_return std::move(used).error();
  const std::int64_t incoming = length ? static_cast<std::int64_t>(*length) : 1;
  if (*used + incoming > options_.quota_bytes) {
    co_return Error::Unprocessable("quota_exceeded",
                                   "this upload would exceed your storage quota of " +
                                       std::to_string(options_.quota_bytes) + " bytes");
  }
  auto sink = UploadSink::Open(dir_, options_.limits, want_voice);
  if (!sink) co_return std::move(sink).error();
  co_return std::move(*sink);
}

Task<Result<MediaRow>> MediaService::FinishUpload(const std::string& user_id, UploadSink& sink,
                                                  const UploadParams& params) {
  if (Status st = sink.Finish(); !st) co_return std::move(st).error();
  MediaRow row;
  row.id = NewUuidV7();
  row.owner_id = user_id;
  row.kind = sink.type().kind;
  row.content_type = sink.type().content_type;
  row.bytes = static_cast<std::int64_t>(sink.bytes());
  row.sha256 = sink.sha256();
  row.filename = params.filename;
  if (row.kind == "voice") row.duration_ms = params.duration_ms;  // until probed
  auto used = co_await store_.UsedBytes(user_id);
  if (!used) co_return std::move(used).error();
  if (*used + row.bytes > options_.quota_bytes) {
    co_return Error::Unprocessable("quota_exceeded", "this upload would exceed your storage quota");
  }
  const std::string tmp = sink.temp_path();
  sink.Release();
  std::function<Result<Ingested>()> ingest = [dir = dir_, tmp, sha = row.sha256,
                                              kind = row.kind]() {
    return IngestUpload(dir, tmp, sha, kind);
  };
  auto done = co_await blocking_.Run<Ingested>(std::move(ingest));
  if (!done) {
    ::unlink(tmp.c_str());  // when the pool refused the work
    co_return std::move(done).error();
  }
  if (done->width) row.width = done->width;
  if (done->height) row.height = done->height;
  if (done->duration_ms) row.duration_ms = done->duration_ms;
  row.waveform = std::move(done->waveform);
  row.placeholder = std::move(done->placeholder);
  row.variants = std::move(done->variants);
  if (Status st = co_await store_.Insert(row); !st) co_return std::move(st).error();
  row.created_ms = UuidV7Millis(row.id);
  co_return row;
}

std::string MediaService::Signature(std::string_view id, std::string_view variant,
                                    std::int64_t exp) const {
  std::string data(id);
  data += '/';
  data.append(variant);
  data += '/';
  data += std::to_string(exp);
  return HmacSha256Hex(options_.url_key, data);
}

std::string MediaService::SignedUrl(const MediaRow& row, std::string_view variant) const {
  const std::int64_t exp = NowSeconds() + options_.url_ttl.count();
  return "/media/" + row.id + "/" + std::string(variant) + "?exp=" + std::to_string(exp) +
         "&sig=" + Signature(row.id, variant, exp);
}

json::object MediaService::AttachmentJson(const MediaRow& row) {
  json::object o{{"id", row.id},
                 {"kind", row.kind},
                 {"content_type", row.content_type},
                 {"size", row.bytes},
                 {"url", "/v1/media/" + row.id}};
  if (row.filename) o["filename"] = *row.filename;
  if (row.width) o["width"] = *row.width;
  if (row.height) o["height"] = *row.height;
  if (row.duration_ms) o["duration_ms"] = *row.duration_ms;
  if (row.waveform) o["waveform"] = *row.waveform;
  if (row.placeholder) o["placeholder"] = *row.placeholder;
  if (row.variants.contains("thumb")) o["thumbnail_url"] = "/v1/media/" + row.id + "?variant=thumb";
  return o;
}

json::object MediaService::Describe(const MediaRow& row) const {
  json::object o = AttachmentJson(row);
  o["sha256"] = row.sha256;
  o["url"] = SignedUrl(row, "original");
  if (row.variants.contains("thumb")) o["thumbnail_url"] = SignedUrl(row, "thumb");
  if (row.variants.contains("display")) o["display_url"] = SignedUrl(row, "display");
  o["expires_at"] = FormatRfc3339Ms((NowSeconds() + options_.url_ttl.count()) * 1000);
  o["created_at"] = FormatRfc3339Ms(row.created_ms);
  return o;
}

Task<Result<json::object>> MediaService::Describe(const std::string& user_id,
                                                  const std::string& id) {
  auto can = co_await store_.CanRead(id, user_id);
  if (!can) co_return std::move(can).error();
  if (!*can) co_return MediaNotFound();
  auto row = co_await store_.Get(id);
  if (!row) co_return std::move(row).error();
  co_return Describe(*row);
}

Task<Result<ServeTarget>> MediaService::Serve(const std::string& id, const std::string& variant,
                                              std::string_view exp_text, std::string_view sig) {
  const Error denied = Error::PermissionDenied("the link is invalid or has expired");
  auto exp = ParseInt(exp_text, 0, INT64_MAX / 2);
  if (!exp || !IsUuid(id)) co_return denied;
  const std::int64_t now = NowSeconds();
  if (*exp < now || *exp > now + options_.url_ttl.count() + 60) co_return denied;
  if (!ConstantTimeEquals(sig, Signature(id, variant, *exp))) co_return denied;
  auto row = co_await store_.Get(id);
  if (!row) co_return std::move(row).error();
  ServeTarget t;
  std::string suffix;
  // A photo is only ever served re-encoded (its upload may carry EXIF, GPS).
  const std::string wanted =
      row->kind == "image" && variant == "original" ? std::string("display") : variant;
  if (wanted != "original") {
    const json::value* v = row->variants.if_contains(wanted);
    if (v == nullptr || !v->is_string()) co_return MediaNotFound();
    suffix = std::string(v->get_string());
    t.content_type = VariantContentType(suffix);  // variants are re-encoded stills
    t.disposition = "inline";
  } else {
    t.content_type = row->content_type;
    t.disposition = Disposition(*row);
  }
  t.accel_path = "/_media/" + MediaDir::RelPath(row->sha256, suffix);
  co_return t;
}

bool MediaService::AboutToExpire(const MediaRow& row) const {
  const auto age =
      std::chrono::milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                row.created_ms);
  return !row.attached &&
         age > options_.unattached_ttl -
                   std::min<std::chrono::seconds>(kAttachGrace, options_.unattached_ttl / 2);
}

Task<Status> MediaService::ResolveAttachment(const std::string& user_id, MessageInput& input) {
  if (!input.attachment_id) co_return Ok();
  auto row = co_await store_.Get(*input.attachment_id);
  if (!row && !row.error().IsNotFound()) co_return std::move(row).error();
  if (!row) co_return AttachmentNotFound();
  if (row->owner_id != user_id) {
    // A forward: someone else's media that the sender can see (posted in one of
    // their conversations). The send's trigger checks it again, under locks.
    auto can = co_await store_.CanRead(row->id, user_id);
    if (!can) co_return std::move(can).error();
    if (!*can) co_return AttachmentNotFound();
  }
  if (input.type != "file" && input.type != row->kind) {
    co_return Error::InvalidArgument("attachment_id: the upload is a " + row->kind + ", not a " +
                                     input.type);
  }
  if (AboutToExpire(*row)) {
    // Possibly unattached and about to be swept: a fresh upload is needed. (An
    // upload already attached elsewhere is kept by its refs; this is rare.)
    co_return Error::NotFound("attachment not found: the upload has expired; upload it again");
  }
  input.attachment = AttachmentJson(*row);
  co_return Ok();
}

Task<Result<int>> MediaService::SweepOnce() {
  auto swept = co_await store_.Sweep(options_.unattached_ttl, 500);
  if (!swept) co_return std::move(swept).error();
  for (const SweptMedia& m : *swept) {
    auto used = co_await store_.HashInUse(m.sha256);
    if (!used) co_return std::move(used).error();
    if (*used) continue;
    std::function<Status()> remove = [dir = dir_, m]() { return RemoveFiles(dir, m); };
    (void)co_await blocking_.Run<void>(std::move(remove));
  }
  co_return static_cast<int>(swept->size());
}

}  // namespace tchat::messaging
