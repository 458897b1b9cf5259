#include "media_store.hpp"

#include <tchat/core/pg/array.hpp>
#include <tchat/core/pg/pool.hpp>

namespace tchat::messaging {

namespace {

constexpr std::string_view kColumns =
    "id, owner_id, kind, content_type, bytes, sha256, filename, width, height, duration_ms, "
    "waveform, placeholder, variants, (extract(epoch FROM created_at) * 1000)::bigint, "
    "attached_at IS NOT NULL";

std::optional<int> OptInt(const pg::PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return r.GetInt32(row, col);
}

// The row of kColumns starting at column `c`.
MediaRow ReadRow(const pg::PgResult& r, int i, int c = 0) {
  MediaRow m;
  m.id = std::string(r.GetString(i, c));
  m.owner_id = std::string(r.GetString(i, c + 1));
  m.kind = std::string(r.GetString(i, c + 2));
  m.content_type = std::string(r.GetString(i, c + 3));
  m.bytes = r.GetInt64(i, c + 4);
  m.sha256 = std::string(r.GetString(i, c + 5));
  if (!r.IsNull(i, c + 6)) m.filename = std::string(r.GetString(i, c + 6));
  m.width = OptInt(r, i, c + 7);
  m.height = OptInt(r, i, c + 8);
  m.duration_ms = OptInt(r, i, c + 9);
  if (!r.IsNull(i, c + 10)) {
    auto v = json::parse(r.GetString(i, c + 10));
    if (v.is_array()) m.waveform = v.get_array();
  }
  if (!r.IsNull(i, c + 11)) m.placeholder = std::string(r.GetString(i, c + 11));
  auto variants = json::parse(r.GetString(i, c + 12));
  if (variants.is_object()) m.variants = variants.get_object();
  m.created_ms = r.GetInt64(i, c + 13);
  m.attached = r.GetBool(i, c + 14);
  return m;
}

}  // namespace

Task<Result<std::int64_t>> MediaStore::UsedBytes(const std::string& owner_id) {
  auto r = co_await pool_.Query(
      "SELECT coalesce(sum(bytes), 0)::bigint FROM media WHERE owner_id = $1", owner_id);
  if (!r) co_return std::move(r).error();
  co_return r->GetInt64(0, 0);
}

Task<Status> MediaStore::Insert(const MediaRow& m) {
  std::optional<std::string> waveform;
  if (m.waveform) waveform = json::serialize(*m.waveform);
  auto r = co_await pool_.Query(
      "INSERT INTO media (id, owner_id, kind, content_type, bytes, sha256, filename, width, "
      "height, duration_ms, waveform, placeholder, variants) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13::jsonb)",
      m.id, m.owner_id, m.kind, m.content_type, m.bytes, m.sha256, m.filename, m.width, m.height,
      m.duration_ms, waveform, m.placeholder, json::serialize(m.variants));
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<MediaRow>> MediaStore::Get(const std::string& id) {
  auto r =
      co_await pool_.Query("SELECT " + std::string(kColumns) + " FROM media WHERE id = $1", id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return Error::NotFound("media not found");
  co_return ReadRow(*r, 0);
}

Task<Result<bool>> MediaStore::CanRead(const std::string& id, const std::string& user_id) {
  auto r = co_await pool_.Query(
      "SELECT EXISTS (SELECT 1 FROM media WHERE id = $1 AND owner_id = $2) OR EXISTS ("
      " SELECT 1 FROM media_refs r JOIN members mb ON mb.conversation_id = r.conversation_id"
      "  WHERE r.media_id = $1 AND mb.user_id = $2)",
      id, user_id);
  if (!r) co_return std::move(r).error();
  co_return r->GetBool(0, 0);
}

Task<Result<std::vector<SweptMedia>>> MediaStore::Sweep(std::chrono::seconds unattached_ttl,
                                                        int limit) {
  // FOR UPDATE SKIP LOCKED: a row a send is attaching right now (the trigger's
  // UPDATE holds its lock) is left for the next sweep, which then sees its ref;
  // so is one being made an avatar (SetAvatar's UPDATE). An avatar is kept.
  auto r = co_await pool_.Query(
      "WITH doomed AS ("
      " SELECT m.id FROM media m"
      "  WHERE ((m.attached_at IS NULL AND m.created_at < now() - make_interval(secs => $1))"
      "      OR (m.attached_at IS NOT NULL"
      "          AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.media_id = m.id)))"
      "    AND NOT EXISTS (SELECT 1 FROM avatars a WHERE a.media_id = m.id)"
      "  LIMIT $2 FOR UPDATE SKIP LOCKED)"
      " DELETE FROM media m USING doomed WHERE m.id = doomed.id"
      " RETURNING m.sha256, m.variants",
      static_cast<std::int64_t>(unattached_ttl.count()), limit);
  if (!r) co_return std::move(r).error();
  std::vector<SweptMedia> out;
  for (int i = 0; i < r->Rows(); ++i) {
    SweptMedia s;
    s.sha256 = std::string(r->GetString(i, 0));
    auto v = json::parse(r->GetString(i, 1));
    if (v.is_object()) {
      for (const auto& [k, suffix] : v.get_object()) {
        if (suffix.is_string()) s.suffixes.emplace_back(suffix.get_string());
      }
    }
    out.push_back(std::move(s));
  }
  co_return out;
}

Task<Result<bool>> MediaStore::HashInUse(const std::string& sha256) {
  auto r = co_await pool_.Query("SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = $1)", sha256);
  if (!r) co_return std::move(r).error();
  co_return r->GetBool(0, 0);
}

Task<Result<AvatarRow>> MediaStore::SetAvatar(const std::string& user_id,
                                              const std::string& media_id) {
  // The UPDATE locks the upload's row: a sweep running now skips it, and one that
  // deleted it first leaves nothing to update (NotFound).
  auto r = co_await pool_.Query(
      "WITH m AS (UPDATE media SET attached_at = coalesce(attached_at, now())"
      "  WHERE id = $2 AND owner_id = $1 AND kind = 'image' RETURNING id)"
      " INSERT INTO avatars (user_id, media_id) SELECT $1, m.id FROM m"
      " ON CONFLICT (user_id) DO UPDATE SET media_id = EXCLUDED.media_id, set_at = now()"
      " RETURNING (extract(epoch FROM set_at) * 1000)::bigint",
      user_id, media_id);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return Error::NotFound("media not found");
  AvatarRow a;
  a.user_id = user_id;
  a.set_ms = r->GetInt64(0, 0);
  auto row = co_await Get(media_id);
  if (!row) co_return std::move(row).error();
  a.media = std::move(*row);
  co_return a;
}

Task<Result<bool>> MediaStore::RemoveAvatar(const std::string& user_id) {
  auto r = co_await pool_.Query("DELETE FROM avatars WHERE user_id = $1 RETURNING 1", user_id);
  if (!r) co_return std::move(r).error();
  co_return !r->empty();
}

Task<Result<std::vector<AvatarRow>>> MediaStore::Avatars(const std::vector<std::string>& user_ids) {
  std::vector<AvatarRow> out;
  if (user_ids.empty()) co_return out;
  auto r = co_await pool_.Query(
      // kColumns unqualified: avatars has none of media's column names.
      "SELECT a.user_id::text, (extract(epoch FROM a.set_at) * 1000)::bigint, " +
          std::string(kColumns) +
          " FROM avatars a JOIN media m ON m.id = a.media_id"
          " WHERE a.user_id = ANY($1::uuid[]) ORDER BY a.user_id",
      pg::ToArray(user_ids));
  if (!r) co_return std::move(r).error();
  for (int i = 0; i < r->Rows(); ++i) {
    AvatarRow a;
    a.user_id = std::string(r->GetString(i, 0));
    a.set_ms = r->GetInt64(i, 1);
    a.media = ReadRow(*r, i, 2);
    out.push_back(std::move(a));
  }
  co_return out;
}

}  // namespace tchat::messaging
