#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::events {

namespace {

constexpr std::string_view kInsertSql =
    "INSERT INTO outbox (id, stream, type, payload) VALUES ($1::uuid, $2, $3, $4::jsonb)";
constexpr std::string_view kInsertAtSql =
    "INSERT INTO outbox (id, stream, type, payload, created_at) "
    "VALUES ($1::uuid, $2, $3, $4::jsonb, $5::timestamptz)";

}  // namespace

Event Event::Make(std::string type, json::object data) {
  const auto now = std::chrono::system_clock::now();
  return Event{NewUuidV7(now), std::move(type), now, std::move(data)};
}

json::object Envelope(const Event& e) {
  return json::object{{"id", e.id},
                      {"type", e.type},
                      {"occurred_at", FormatRfc3339Ms(e.occurred_at)},
                      {"data", e.data}};
}

OutboxWriter::OutboxWriter(std::string stream, std::shared_ptr<OutboxRelay> relay, RowTime row_time)
    : stream_(std::move(stream)), relay_(std::move(relay)), row_time_(row_time) {}

pg::Statement OutboxWriter::Insert(const Event& event) const {
  std::string payload = json::serialize(Envelope(event));
  if (row_time_ == RowTime::kOccurredAt) {
    return pg::Statement::Of(kInsertAtSql, event.id, stream_, event.type, payload,
                             FormatRfc3339Ms(event.occurred_at));
  }
  return pg::Statement::Of(kInsertSql, event.id, stream_, event.type, payload);
}

Task<Status> OutboxWriter::Append(pg::Connection& conn, const Event& event) const {
  pg::Statement st = Insert(event);
  auto r = co_await conn.Execute(st.sql, st.params);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

void OutboxWriter::Committed() const {
  if (relay_) relay_->Wake();
}

}  // namespace tchat::events
