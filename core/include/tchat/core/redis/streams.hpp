#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

// Helpers for Redis Streams (docs/ARCHITECTURE.md, events: one stream per producing service, one
// consumer group per consuming service). They run on any RedisCommander:
// the pooled client for everything but blocking reads, which need a
// RedisConnection from RedisClient::Dedicated().
namespace tchat::redis {

// One stream entry. Entries whose payload was deleted (XDEL) while pending
// have no fields.
struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of the first field named `name`, or nullptr.
  const std::string* Field(std::string_view name) const;
};

using StreamField = std::pair<std::string_view, std::string_view>;

// XADD stream [MAXLEN ~ max_len] * field value ...; returns the new entry id.
Task<Result<std::string>> XAdd(RedisCommander& redis, std::string_view stream,
                               std::span<const StreamField> fields,
                               std::optional<std::int64_t> max_len = std::nullopt);

// XGROUP CREATE stream group start MKSTREAM; an existing group (BUSYGROUP) is Ok.
Task<Status> XGroupCreate(RedisCommander& redis, std::string_view stream, std::string_view group,
                          std::string_view start_id = "$");

// XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS stream id.
// `id` is ">" for new entries or "0" for this consumer's pending ones. With
// `block`, the call waits up to that long and needs a dedicated connection; a
// timeout is an empty vector.
Task<Result<std::vector<StreamEntry>>> XReadGroup(
    RedisCommander& redis, std::string_view stream, std::string_view group,
    std::string_view consumer, std::size_t count,
    std::optional<std::chrono::milliseconds> block = std::nullopt, std::string_view id = ">");

// XREAD COUNT count [BLOCK ms] STREAMS stream after_id: the entries after
// `after_id` ("$" for only new ones), for a reader that must see every entry
// itself (no consumer group, nothing to acknowledge). With `block`, as above.
Task<Result<std::vector<StreamEntry>>> XRead(
    RedisCommander& redis, std::string_view stream, std::string_view after_id, std::size_t count,
    std::optional<std::chrono::milliseconds> block = std::nullopt);

// XACK stream group id...; returns how many were acknowledged.
Task<Result<std::int64_t>> XAck(RedisCommander& redis, std::string_view stream,
                                std::string_view group, std::span<const std::string_view> ids);

struct AutoClaimResult {
  std::string next_id;  // "0-0" when the scan is complete
  std::vector<StreamEntry> entries;
  std::vector<std::string> deleted_ids;  // pending ids whose entries no longer exist
};

// XAUTOCLAIM stream group consumer min_idle start COUNT count: takes over
// entries other consumers left pending for at least `min_idle`.
Task<Result<AutoClaimResult>> XAutoClaim(RedisCommander& redis, std::string_view stream,
                                         std::string_view group, std::string_view consumer,
                                         std::chrono::milliseconds min_idle,
                                         std::string_view start_id = "0-0",
                                         std::size_t count = 100);

struct PendingSummary {
  std::int64_t count = 0;
  std::string min_id;  // empty when nothing is pending
  std::string max_id;
  std::vector<std::pair<std::string, std::int64_t>> consumers;  // name, pending
};

// XPENDING stream group (the summary form).
Task<Result<PendingSummary>> XPendingSummary(RedisCommander& redis, std::string_view stream,
                                             std::string_view group);

// Parses an array of [id, [field, value, ...]] pairs (XRANGE, XREADGROUP,
// XAUTOCLAIM replies). kInternal when the shape is wrong.
Result<std::vector<StreamEntry>> ParseStreamEntries(RedisReply&& reply);

}  // namespace tchat::redis
