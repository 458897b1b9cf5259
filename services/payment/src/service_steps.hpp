#pragma once

// Steps shared by the PaymentService operations (service.cpp,
// provider_operations.cpp). The outbox write runs on the caller's connection,
// inside its transaction; the SQL of the operations is in store.hpp.
#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::payment {

// Writes an event (its envelope around `data`) to the outbox, for the relay to
// publish on the payment event stream once the transaction commits.
Task<Status> InsertOutbox(pg::Connection& c, const std::string& event_id, std::string_view type,
                          std::int64_t now_ms, json::object data);

// The canonical JSON text of a record (its snapshot) or of an event envelope.
std::string Serialize(const json::object& o);

}  // namespace tchat::payment
