#include "delivery_store.hpp"

#include <boost/system/error_code.hpp>

#include <tchat/core/json.hpp>

namespace tchat::notification {

namespace {

constexpr std::string_view kClaim = R"(
UPDATE delivery_queue q SET state = 'sending', due_at = now() + $2::float8 * interval '1 millisecond'
FROM (SELECT id FROM delivery_queue WHERE due_at <= now() ORDER BY due_at LIMIT $1
      FOR UPDATE SKIP LOCKED) c
WHERE q.id = c.id
RETURNING q.id::text AS id, q.channel, q.user_id::text AS user_id, q.payload::text AS payload,
          q.msg_count, q.device_ids::text AS device_ids, q.attempts, q.event_id)";

constexpr std::string_view kDevicesOf = R"(
SELECT id::text AS id, user_id::text AS user_id, platform, token FROM devices
WHERE user_id = ANY($1::uuid[]))";

constexpr std::string_view kDeleteDone = "DELETE FROM delivery_queue WHERE id = ANY($1::uuid[])";

constexpr std::string_view kReschedule = R"(
UPDATE delivery_queue q SET state = 'retry', attempts = q.attempts + v.inc::int,
  device_ids = v.d::uuid[], due_at = now() + v.ms::float8 * interval '1 millisecond',
  last_error = v.err
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, d, ms, err, inc)
WHERE q.id = v.id)";

constexpr std::string_view kDeadLetter = R"(
INSERT INTO dead_letters (id, channel, user_id, device_id, platform, payload, attempts, last_error,
                          event_id)
SELECT i::uuid, c, NULLIF(u, '')::uuid, NULLIF(d, '')::uuid, NULLIF(p, ''), pl::jsonb, a::int, e,
       NULLIF(ev, '')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[]) AS x(i, c, u, d, p, pl, a, e, ev))";

constexpr std::string_view kDeleteDevices = "DELETE FROM devices WHERE id = ANY($1::uuid[])";

constexpr std::string_view kQueueDepth =
    "SELECT state, count(*) AS n FROM delivery_queue GROUP BY state";

json::object ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

}  // namespace

Task<Result<std::vector<QueuedDelivery>>> ClaimDueDeliveries(pg::Pool& pool, int limit,
                                                             double lease_ms) {
  auto r = co_await pool.Query(kClaim, limit, lease_ms);
  if (!r) co_return std::move(r).error();
  std::vector<QueuedDelivery> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) {
    QueuedDelivery q;
    q.id = std::string(r->GetString(i, "id"));
    q.channel = std::string(r->GetString(i, "channel"));
    if (!r->IsNull(i, "user_id")) q.user_id = std::string(r->GetString(i, "user_id"));
    q.payload = ParseObject(r->GetString(i, "payload"));
    q.msg_count = r->GetInt32(i, "msg_count");
    if (!r->IsNull(i, "device_ids")) q.device_ids = pg::ParseArray(r->GetString(i, "device_ids"));
    q.attempts = r->GetInt32(i, "attempts");
    if (!r->IsNull(i, "event_id")) q.event_id = std::string(r->GetString(i, "event_id"));
    out.push_back(std::move(q));
  }
  co_return out;
}

Task<Result<std::vector<Device>>> DevicesOfUsers(pg::Pool& pool,
                                                 const std::vector<std::string>& users) {
  auto r = co_await pool.Query(kDevicesOf, pg::ToArray(users));
  if (!r) co_return std::move(r).error();
  std::vector<Device> out;
  out.reserve(static_cast<std::size_t>(r->Rows()));
  for (int i = 0; i < r->Rows(); ++i) {
    out.push_back(Device{std::string(r->GetString(i, "id")),
                         std::string(r->GetString(i, "user_id")),
                         std::string(r->GetString(i, "platform")),
                         std::string(r->GetString(i, "token")),
                         {},
                         {}});
  }
  co_return out;
}

void DeliveryOutcomes::Append(const DeliveryOutcomes& o) {
  done.Append(o.done);
  retry_id.Append(o.retry_id);
  retry_devices.Append(o.retry_devices);
  retry_ms.Append(o.retry_ms);
  retry_error.Append(o.retry_error);
  retry_inc.Append(o.retry_inc);
  dead_id.Append(o.dead_id);
  dead_channel.Append(o.dead_channel);
  dead_user.Append(o.dead_user);
  dead_device.Append(o.dead_device);
  dead_platform.Append(o.dead_platform);
  dead_payload.Append(o.dead_payload);
  dead_attempts.Append(o.dead_attempts);
  dead_error.Append(o.dead_error);
  dead_event.Append(o.dead_event);
  unregistered.Append(o.unregistered);
}

std::vector<pg::Statement> DeliveryOutcomes::Statements() const {
  std::vector<pg::Statement> st;
  if (done.size() > 0) st.push_back(pg::Statement::Of(kDeleteDone, done.str()));
  if (retry_id.size() > 0) {
    st.push_back(pg::Statement::Of(kReschedule, retry_id.str(), retry_devices.str(), retry_ms.str(),
                                   retry_error.str(), retry_inc.str()));
  }
  if (dead_id.size() > 0) {
    st.push_back(pg::Statement::Of(kDeadLetter, dead_id.str(), dead_channel.str(), dead_user.str(),
                                   dead_device.str(), dead_platform.str(), dead_payload.str(),
                                   dead_attempts.str(), dead_error.str(), dead_event.str()));
  }
  if (unregistered.size() > 0) {
    st.push_back(pg::Statement::Of(kDeleteDevices, unregistered.str()));
  }
  return st;
}

Task<Status> WriteDeliveryOutcomes(pg::Pool& pool, const DeliveryOutcomes& outcomes) {
  auto r = co_await pool.Pipeline(outcomes.Statements());
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

Task<Result<QueueDepth>> CountQueuedDeliveries(pg::Pool& pool) {
  auto r = co_await pool.Query(kQueueDepth);
  if (!r) co_return std::move(r).error();
  QueueDepth d;
  for (int i = 0; i < r->Rows(); ++i) {
    const auto state = r->GetString(i, "state");
    const std::int64_t n = r->GetInt64(i, "n");
    if (state == "waiting") d.waiting = n;
    if (state == "sending") d.sending = n;
    if (state == "retry") d.retry = n;
  }
  co_return d;
}

}  // namespace tchat::notification
