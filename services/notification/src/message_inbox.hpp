#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <tchat/core/json.hpp>
#include <tchat/core/pg/connection.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::notification {

// The messages of one batch for one (user, conversation) inbox entry.
struct MessageInbox {
  json::object render;  // the latest message's payload (MessageOrder)
  std::pair<std::int64_t, std::int64_t> order{};
  std::int64_t count = 0;
  std::int64_t latest_at_ms = 0;  // the newest event time: the entry's created_at
  std::string event_id;           // of the latest message
};
// (user id in lower case, conversation id)
using MessageInboxKey = std::pair<std::string, std::string>;

// Adds one message (its push payload, event id and time) to `into`.
void Absorb(MessageInbox& into, const json::object& payload, std::string_view event_id,
            std::int64_t at_ms);

// Writes the batch's message inbox entries: merges each into the user's unread
// entry of that conversation, or creates it. Runs inside the batch's transaction
// (exactly once per event, with processed_events). Keys are handled in sorted
// order, so concurrent batches lock entries in the same order.
Task<Status> WriteMessageInbox(pg::Connection& c, std::map<MessageInboxKey, MessageInbox> pending);

}  // namespace tchat::notification
