#pragma once

// Steps shared by the PaymentService operations (service.cpp,
// provider_operations.cpp). The writes run on the caller's connection, inside
// its transaction.
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

// payment_post_entry with the caller's transaction; returns its code.
Task<Result<std::string>> PostEntry(pg::Connection& c, const std::string& entry_id,
                                    std::string_view kind, const std::string& reference,
                                    std::int64_t from, std::int64_t to, std::int64_t amount,
                                    std::string_view currency, std::int64_t now_ms);

// A response body.
std::string Serialize(const json::object& o);

}  // namespace tchat::payment
