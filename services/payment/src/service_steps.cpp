#include "service_steps.hpp"

#include <tchat/core/events/outbox.hpp>
#include <tchat/core/time.hpp>

#include "records.hpp"

namespace tchat::payment {

namespace {

// The outbox rows of payment events carry their event time as created_at, like
// the rows payment_post_transfers writes, so that the relay keeps their order.
const events::OutboxWriter& Outbox() {
  static const events::OutboxWriter writer(std::string(events::kPaymentStream), nullptr,
                                           events::OutboxWriter::RowTime::kOccurredAt);
  return writer;
}

}  // namespace

Task<Status> InsertOutbox(pg::Connection& c, const std::string& event_id, std::string_view type,
                          std::int64_t now_ms, json::object data) {
  // A named event: GCC 12 destroys non-trivial temporaries of a co_await
  // expression twice.
  const events::Event event{event_id, std::string(type), FromUnixMillis(now_ms), std::move(data)};
  auto appended = co_await Outbox().Append(c, event);
  co_return appended;
}

std::string Serialize(const json::object& o) {
  return tchat::ToJson(o);
}

}  // namespace tchat::payment
