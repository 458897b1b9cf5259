#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <tchat/core/events/streams.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/pg/params.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

// Events between services (docs/ARCHITECTURE.md, events): producers write them to their database's
// `outbox` table in the same transaction as the change they describe; an
// OutboxRelay moves them to the service's Redis stream. A stream entry has the
// fields "id" (the event id, consumers' de-duplication key), "type" and "event"
// (the envelope {"id","type","occurred_at","data"} as JSON).
namespace tchat::events {

class OutboxRelay;

// One domain event. A plain value.
struct Event {
  std::string id;    // UUIDv7
  std::string type;  // "auth.otp.requested", "payment.transfer.completed", ...
  std::chrono::system_clock::time_point occurred_at{};
  json::object data;

  // A new event with a fresh UUIDv7 id, occurring now.
  static Event Make(std::string type, json::object data);
};

// The envelope {"id","type","occurred_at","data"}.
json::object Envelope(const Event& event);

// Writes events of one stream to the outbox. Holds no connection: each call takes
// the caller's connection, so the insert belongs to the caller's transaction (or
// pipeline batch) and commits or rolls back with it. Immutable; any thread.
class OutboxWriter {
 public:
  // What an outbox row's created_at (the order the relay publishes in) is.
  enum class RowTime {
    kTransactionStart,  // the database's now(), like rows that SQL writes with its default
    kOccurredAt,        // the event's occurred_at: for producers whose SQL writes
                        // outbox rows with application times too (payment)
  };

  // `relay` (optional) is the process's relay, woken by Committed().
  explicit OutboxWriter(std::string stream, std::shared_ptr<OutboxRelay> relay = nullptr,
                        RowTime row_time = RowTime::kTransactionStart);

  // The INSERT as a statement, for pg::Connection/Pool::Pipeline batches.
  pg::Statement Insert(const Event& event) const;
  // Runs the INSERT on `conn`; call it inside the transaction of the change.
  Task<Status> Append(pg::Connection& conn, const Event& event) const;
  // Tells the local relay that events were committed so that it relays them now
  // rather than at its next poll. Call after COMMIT; cheap, any thread.
  void Committed() const;

  const std::string& stream() const { return stream_; }

 private:
  std::string stream_;
  std::shared_ptr<OutboxRelay> relay_;
  RowTime row_time_;
};

}  // namespace tchat::events
