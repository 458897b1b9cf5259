// Avatars: a user's profile photo is one of their image uploads (POST /v1/media)
// marked in the avatars table (migration 000012_avatars). Anyone signed in may
// read anyone's, as they may read anyone's display name from auth; the URLs are
// the upload's signed thumbnail (320 px), so they expire like every media URL.
#include <tchat/core/time.hpp>

#include "media_service.hpp"

namespace tchat::messaging {

namespace {

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

json::object MediaService::AvatarJson(const AvatarRow& a) const {
  const char* variant = a.media.variants.contains("thumb")     ? "thumb"
                        : a.media.variants.contains("display") ? "display"
                                                               : "original";
  return json::object{
      {"user_id", a.user_id},
      {"media_id", a.media.id},
      {"url", SignedUrl(a.media, variant)},
      {"expires_at", FormatRfc3339Ms(NowMillis() + options_.url_ttl.count() * 1000)},
      {"set_at", FormatRfc3339Ms(a.set_ms)}};
}

Task<Result<json::object>> MediaService::SetAvatar(const std::string& user_id,
                                                   const std::string& media_id) {
  auto row = co_await store_.Get(media_id);
  if (!row && !row.error().IsNotFound()) co_return std::move(row).error();
  if (!row || row->owner_id != user_id) {
    co_return Error::NotFound("media not found: only your own uploads can be your avatar");
  }
  if (row->kind != "image") {
    co_return Error::Unprocessable(
        "not_an_image", "an avatar must be a photo (JPEG, PNG, WebP or GIF), not a " + row->kind);
  }
  if (AboutToExpire(*row)) {
    co_return Error::NotFound("media not found: the upload has expired; upload it again");
  }
  auto set = co_await store_.SetAvatar(user_id, media_id);
  if (!set) co_return std::move(set).error();
  co_return AvatarJson(*set);
}

Task<Status> MediaService::RemoveAvatar(const std::string& user_id) {
  auto removed = co_await store_.RemoveAvatar(user_id);
  if (!removed) co_return std::move(removed).error();
  co_return Ok();
}

Task<Result<json::array>> MediaService::Avatars(const std::vector<std::string>& user_ids) {
  auto rows = co_await store_.Avatars(user_ids);
  if (!rows) co_return std::move(rows).error();
  json::array out;
  for (const AvatarRow& a : *rows) out.push_back(AvatarJson(a));
  co_return out;
}

}  // namespace tchat::messaging
