#include <ctime>

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/events/uuid.hpp>

namespace tchat::events {

namespace {

constexpr std::string_view kInsertSql =
    "INSERT INTO outbox (id, stream, type, payload) VALUES ($1::uuid, $2, $3, $4::jsonb)";

}  // namespace

Event Event::Make(std::string type, json::object data) {
  const auto now = std::chrono::system_clock::now();
  return Event{NewUuidV7(now), std::move(type), now, std::move(data)};
}

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  out += '.';
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
  out += 'Z';
  return out;
}

json::object Envelope(const Event& e) {
  return json::object{{"id", e.id},
                      {"type", e.type},
                      {"occurred_at", FormatTimestamp(e.occurred_at)},
                      {"data", e.data}};
}

OutboxWriter::OutboxWriter(std::string stream, std::shared_ptr<OutboxRelay> relay)
    : stream_(std::move(stream)), relay_(std::move(relay)) {}

pg::Statement OutboxWriter::Insert(const Event& event) const {
  return pg::Statement::Of(kInsertSql, event.id, stream_, event.type,
                           json::serialize(Envelope(event)));
}

Task<Status> OutboxWriter::Append(pg::Connection& conn, const Event& event) const {
  auto r = co_await conn.Execute(kInsertSql, Insert(event).params);
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

void OutboxWriter::Committed() const {
  if (relay_) relay_->Wake();
}

}  // namespace tchat::events
