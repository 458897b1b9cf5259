#include "media_store.hpp"

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

MediaRow ReadRow(const pg::PgResult& r, int i) {
  MediaRow m;
  m.id = std::string(r.GetString(i, 0));
  m.owner_id = std::string(r.GetString(i, 1));
  m.kind = std::string(r.GetString(i, 2));
  m.content_type = std::string(r.GetString(i, 3));
  m.bytes = r.GetInt64(i, 4);
  m.sha256 = std::string(r.GetString(i, 5));
  if (!r.IsNull(i, 6)) m.filename = std::string(r.GetString(i, 6));
  m.width = OptInt(r, i, 7);
  m.height = OptInt(r, i, 8);
  m.duration_ms = OptInt(r, i, 9);
  if (!r.IsNull(i, 10)) {
    auto v = json::parse(r.GetString(i, 10));
    if (v.is_array()) m.waveform = v.get_array();
  }
  if (!r.IsNull(i, 11)) m.placeholder = std::string(r.GetString(i, 11));
  auto variants = json::parse(r.GetString(i, 12));
  if (variants.is_object()) m.variants = variants.get_object();
  m.created_ms = r.GetInt64(i, 13);
  m.attached = r.GetBool(i, 14);
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
  // UPDATE holds its lock) is left for the next sweep, which then sees its ref.
  auto r = co_await pool_.Query(
      "WITH doomed AS ("
      " SELECT m.id FROM media m"
      "  WHERE ((m.attached_at IS NULL AND m.created_at < now() - make_interval(secs => $1))"
      "      OR (m.attached_at IS NOT NULL"
      "          AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.media_id = m.id)))"
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

}  // namespace tchat::messaging
