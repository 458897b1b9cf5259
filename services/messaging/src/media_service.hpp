#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/blocking_pool.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "media_files.hpp"
#include "media_store.hpp"
#include "user_limits.hpp"
#include "validation.hpp"

namespace tchat::messaging {

struct MediaOptions {
  std::string dir;
  std::string url_key;  // HMAC key of the signed URLs
  MediaLimits limits;
  std::int64_t quota_bytes = std::int64_t{1} << 30;
  std::chrono::seconds unattached_ttl{24 * 3600};
  std::chrono::seconds url_ttl{3600};
};

// What the client said of an upload besides its bytes (query parameters).
struct UploadParams {
  bool want_voice = false;
  std::optional<std::string> filename;
  std::optional<int> duration_ms;  // voice notes
};

// What the gateway serves for a valid signed URL: the file under the media store
// (X-Accel-Redirect to the internal /_media/ location) and its headers.
struct ServeTarget {
  std::string accel_path;  // "/_media/objects/ab/<sha256>[.suffix]"
  std::string content_type;
  std::string disposition;  // "inline" or "attachment; filename*=UTF-8''..."
};

// Attachments: uploads into the media store, signed URLs, the attachment of an
// upload to a message, the sweeper. One per worker (its store and limits are the
// worker's); the blocking pool and directory are shared.
// 404 of a send whose attachment_id the sender may not attach (or is gone).
Error AttachmentNotFound();

class MediaService {
 public:
  MediaService(MediaStore& store, UserLimits& limits, BlockingPool& blocking, MediaOptions options);

  const MediaOptions& options() const { return options_; }

  // Before the body: the upload rate limit and the quota (with the announced
  // length); the sink the body is written to.
  Task<Result<std::shared_ptr<UploadSink>>> OpenUpload(const std::string& user_id,
                                                       std::optional<std::uint64_t> length,
                                                       bool want_voice);
  // After the body: checks, stores the file under its hash, records the row.
  Task<Result<MediaRow>> FinishUpload(const std::string& user_id, UploadSink& sink,
                                      const UploadParams& params);
  // The media object with signed URLs, for its owner or a member of a
  // conversation where it was posted (else 404).
  Task<Result<json::object>> Describe(const std::string& user_id, const std::string& id);
  json::object Describe(const MediaRow& row) const;
  // The signed URL of a variant ("original", "thumb", "display") of `row`.
  std::string SignedUrl(const MediaRow& row, std::string_view variant) const;
  // Checks a signed URL's expiry and signature, then finds the file.
  Task<Result<ServeTarget>> Serve(const std::string& id, const std::string& variant,
                                  std::string_view exp, std::string_view sig);

  // For an image/voice/video/file message naming an attachment_id: the media as
  // the message's attachment, when it is the sender's upload or a forward (a
  // media the sender can see by Describe's rule: posted in one of their
  // conversations); 400 when its kind does not fit the type, 404 otherwise. The
  // send's trigger (migration 000011) checks again in the send's transaction.
  Task<Status> ResolveAttachment(const std::string& user_id, MessageInput& input);
  // The attachment object stored with a message.
  static json::object AttachmentJson(const MediaRow& row);

  // Avatars (media_avatar.cpp): the caller's image upload becomes their avatar
  // (404 when it is not theirs or is gone, 422 not_an_image); removing is
  // idempotent; any signed-in user reads anyone's (signed thumbnail URLs).
  Task<Result<json::object>> SetAvatar(const std::string& user_id, const std::string& media_id);
  Task<Status> RemoveAvatar(const std::string& user_id);
  Task<Result<json::array>> Avatars(const std::vector<std::string>& user_ids);
  json::object AvatarJson(const AvatarRow& row) const;

  // One pass of the sweeper; the number of media rows removed.
  Task<Result<int>> SweepOnce();

 private:
  // Never attached and so close to its expiry that the sweeper may take it
  // while a send or an avatar is being set: refused, a fresh upload is needed.
  bool AboutToExpire(const MediaRow& row) const;
  std::string Signature(std::string_view id, std::string_view variant, std::int64_t exp) const;

  MediaStore& store_;
  UserLimits& limits_;
  BlockingPool& blocking_;
  MediaOptions options_;
  MediaDir dir_;
};

}  // namespace tchat::messaging
