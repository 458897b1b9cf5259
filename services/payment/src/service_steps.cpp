#include "service_steps.hpp"

#include "records.hpp"
#include "timestamp.hpp"

namespace tchat::payment {

namespace {

constexpr std::string_view kStream = "tchat.events.payment";

}  // namespace

Task<Status> InsertOutbox(pg::Connection& c, const std::string& event_id, std::string_view type,
                          std::int64_t now_ms, json::object data) {
  const std::string payload = tchat::ToJson(EventEnvelope(event_id, type, now_ms, std::move(data)));
  auto r = co_await c.Query(
      "INSERT INTO outbox (id, stream, type, payload, created_at) "
      "VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz)",
      event_id, kStream, type, payload, FormatTimestamp(now_ms));
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<std::string>> PostEntry(pg::Connection& c, const std::string& entry_id,
                                    std::string_view kind, const std::string& reference,
                                    std::int64_t from, std::int64_t to, std::int64_t amount,
                                    std::string_view currency, std::int64_t now_ms) {
  auto r = co_await c.Query(
      "SELECT payment_post_entry($1::uuid, $2::text, $3::uuid, $4::bigint, $5::bigint, "
      "$6::bigint, $7::text, NULL::uuid, NULL::uuid, $8::timestamptz, true)",
      entry_id, kind, reference, from, to, amount, currency, FormatTimestamp(now_ms));
  if (!r) co_return std::move(r).error();
  co_return std::string(r->GetString(0, 0));
}

std::string Serialize(const json::object& o) {
  return tchat::ToJson(o);
}

}  // namespace tchat::payment
