#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::pg {
class Pool;
}

namespace tchat::messaging {

// One row of the media table (migrations 000007_media).
struct MediaRow {
  std::string id;
  std::string owner_id;
  std::string kind;  // image | voice | video | file
  std::string content_type;
  std::int64_t bytes = 0;
  std::string sha256;
  std::optional<std::string> filename;
  std::optional<int> width, height, duration_ms;
  std::optional<json::array> waveform;
  std::optional<std::string> placeholder;
  json::object variants;  // variant name -> file suffix in the store ("thumb" -> "thumb.jpg")
  std::int64_t created_ms = 0;
  bool attached = false;  // a message has carried it
};

// A user's avatar (migration 000012_avatars): the upload and when it was set.
struct AvatarRow {
  std::string user_id;
  std::int64_t set_ms = 0;
  MediaRow media;
};

// What a sweep removed: the hashes whose rows are gone (their files go when no
// other row names them) with the variants' suffixes.
struct SweptMedia {
  std::string sha256;
  std::vector<std::string> suffixes;
};

// All SQL of attachments. One per worker, over the worker's pool.
class MediaStore {
 public:
  explicit MediaStore(pg::Pool& pool) : pool_(pool) {}

  // Bytes held by the user's uploads.
  Task<Result<std::int64_t>> UsedBytes(const std::string& owner_id);
  Task<Status> Insert(const MediaRow& row);
  // NotFound when there is no such row.
  Task<Result<MediaRow>> Get(const std::string& id);
  // The user is the owner, or a member of a conversation where a message that
  // is not deleted carries the media.
  Task<Result<bool>> CanRead(const std::string& id, const std::string& user_id);
  // Deletes (under row locks, skipping locked rows) up to `limit` media never
  // attached and older than `unattached_ttl`, or attached once and now carried
  // by no message; returns their files' hashes.
  Task<Result<std::vector<SweptMedia>>> Sweep(std::chrono::seconds unattached_ttl, int limit);
  // Whether any row still names the hash (the file must stay).
  Task<Result<bool>> HashInUse(const std::string& sha256);

  // Makes the user's image upload their avatar and marks it attached; NotFound
  // when no such image of theirs exists (any more).
  Task<Result<AvatarRow>> SetAvatar(const std::string& user_id, const std::string& media_id);
  // Whether the user had an avatar (it is gone now).
  Task<Result<bool>> RemoveAvatar(const std::string& user_id);
  // The avatars of those of `user_ids` who have one.
  Task<Result<std::vector<AvatarRow>>> Avatars(const std::vector<std::string>& user_ids);

 private:
  pg::Pool& pool_;
};

}  // namespace tchat::messaging
