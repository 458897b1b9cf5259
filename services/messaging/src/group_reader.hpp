#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <tchat/core/redis/client.hpp>
#include <tchat/core/redis/reader_connection.hpp>
#include <tchat/core/task.hpp>

namespace tchat::messaging {

// What the group reader does with one entry's "event" field (nullptr: the entry
// was deleted). true: done with it, acknowledge; false: leave it pending (it is
// claimed again later) and pause a second.
using EntryHandler = std::function<Task<bool>(const std::string* event)>;

// The read loop messaging's stream consumers share (PaymentConsumer,
// AccountDeletionConsumer): creates consumer group "messaging" on `stream` from
// its start, reads new entries as `consumer` over `reader`'s blocking
// connection, every 30 s claims entries another consumer left pending for a
// minute, hands each entry to `handle` in order and acknowledges it once handled.
// Ends when `stopping` says so (ReaderConnection::Close wakes a parked read).
Task<void> RunGroupReader(redis::RedisClient& redis, redis::ReaderConnection& reader,
                          std::string stream, std::string consumer, std::function<bool()> stopping,
                          EntryHandler handle);

}  // namespace tchat::messaging
