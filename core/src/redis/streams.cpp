#include <array>
#include <charconv>
#include <utility>

#include <tchat/core/redis/streams.hpp>

namespace tchat::redis {
namespace {

// Formats integers into a caller-owned buffer, so argument lists need no
// allocation for their numbers.
std::string_view Format(char (&buf)[24], std::int64_t value) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return {buf, static_cast<std::size_t>(end - buf)};
}

Error BadShape(std::string_view what) {
  return Error::Internal("unexpected redis reply shape for " + std::string(what));
}

Result<StreamEntry> ParseEntry(RedisReply& item) {
  if (!item.IsArray() || item.elements.size() != 2 || !item.elements[0].IsString()) {
    return BadShape("stream entry");
  }
  StreamEntry entry;
  entry.id = std::move(item.elements[0].str);
  RedisReply& fields = item.elements[1];
  if (fields.IsArray()) {
    if (fields.elements.size() % 2 != 0) return BadShape("stream entry fields");
    entry.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      entry.fields.emplace_back(std::move(fields.elements[i].str),
                                std::move(fields.elements[i + 1].str));
    }
  } else if (!fields.IsNil()) {
    return BadShape("stream entry fields");
  }
  return entry;
}

}  // namespace

const std::string* StreamEntry::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<std::vector<StreamEntry>> ParseStreamEntries(RedisReply&& reply) {
  std::vector<StreamEntry> entries;
  if (reply.IsNil()) return entries;
  if (!reply.IsArray()) return BadShape("stream entries");
  entries.reserve(reply.elements.size());
  for (RedisReply& item : reply.elements) {
    if (item.IsNil()) continue;  // XAUTOCLAIM on Redis 6.2: entry deleted
    auto entry = ParseEntry(item);
    if (!entry) return std::move(entry).error();
    entries.push_back(std::move(*entry));
  }
  return entries;
}

Task<Result<std::string>> XAdd(RedisCommander& redis, std::string_view stream,
                               std::span<const StreamField> fields,
                               std::optional<std::int64_t> max_len) {
  char len[24];
  std::vector<std::string_view> args;
  args.reserve(6 + fields.size() * 2);
  args.insert(args.end(), {"XADD", stream});
  if (max_len) args.insert(args.end(), {"MAXLEN", "~", Format(len, *max_len)});
  args.push_back("*");
  for (const auto& [k, v] : fields) args.insert(args.end(), {k, v});
  auto reply = co_await redis.Command(args);
  if (!reply) co_return std::move(reply).error();
  if (!reply->IsString()) co_return BadShape("XADD");
  co_return std::move(reply->str);
}

Task<Status> XGroupCreate(RedisCommander& redis, std::string_view stream, std::string_view group,
                          std::string_view start_id) {
  auto reply = co_await redis.Command("XGROUP", "CREATE", stream, group, start_id, "MKSTREAM");
  if (!reply && !IsRedisError(reply.error(), "BUSYGROUP")) co_return std::move(reply).error();
  co_return Ok();
}

Task<Result<std::vector<StreamEntry>>> XReadGroup(RedisCommander& redis, std::string_view stream,
                                                  std::string_view group, std::string_view consumer,
                                                  std::size_t count,
                                                  std::optional<std::chrono::milliseconds> block,
                                                  std::string_view id) {
  char count_buf[24];
  char block_buf[24];
  auto count_arg = Format(count_buf, static_cast<std::int64_t>(count));
  Result<RedisReply> reply = Error::Internal("unset");
  if (block) {
    const std::array<std::string_view, 11> argv{
        "XREADGROUP", "GROUP",   group,   consumer,
        "COUNT",      count_arg, "BLOCK", Format(block_buf, block->count()),
        "STREAMS",    stream,    id};
    reply = co_await redis.BlockingCommand(argv, *block);
  } else {
    reply = co_await redis.Command("XREADGROUP", "GROUP", group, consumer, "COUNT", count_arg,
                                   "STREAMS", stream, id);
  }
  if (!reply) co_return std::move(reply).error();
  if (reply->IsNil()) co_return std::vector<StreamEntry>{};  // BLOCK timed out
  // [[stream, entries]] for our single stream.
  if (!reply->IsArray() || reply->elements.size() != 1 || !reply->elements[0].IsArray() ||
      reply->elements[0].elements.size() != 2) {
    co_return BadShape("XREADGROUP");
  }
  co_return ParseStreamEntries(std::move(reply->elements[0].elements[1]));
}

Task<Result<std::vector<StreamEntry>>> XRead(RedisCommander& redis, std::string_view stream,
                                             std::string_view after_id, std::size_t count,
                                             std::optional<std::chrono::milliseconds> block) {
  char count_buf[24];
  char block_buf[24];
  auto count_arg = Format(count_buf, static_cast<std::int64_t>(count));
  Result<RedisReply> reply = Error::Internal("unset");
  if (block) {
    const std::array<std::string_view, 8> argv{
        "XREAD",   "COUNT", count_arg, "BLOCK", Format(block_buf, block->count()),
        "STREAMS", stream,  after_id};
    reply = co_await redis.BlockingCommand(argv, *block);
  } else {
    reply = co_await redis.Command("XREAD", "COUNT", count_arg, "STREAMS", stream, after_id);
  }
  if (!reply) co_return std::move(reply).error();
  if (reply->IsNil()) co_return std::vector<StreamEntry>{};  // nothing new
  if (!reply->IsArray() || reply->elements.size() != 1 || !reply->elements[0].IsArray() ||
      reply->elements[0].elements.size() != 2) {
    co_return BadShape("XREAD");
  }
  co_return ParseStreamEntries(std::move(reply->elements[0].elements[1]));
}

Task<Result<std::int64_t>> XAck(RedisCommander& redis, std::string_view stream,
                                std::string_view group, std::span<const std::string_view> ids) {
  std::vector<std::string_view> args{"XACK", stream, group};
  args.insert(args.end(), ids.begin(), ids.end());
  auto reply = co_await redis.Command(args);
  if (!reply) co_return std::move(reply).error();
  if (!reply->IsInteger()) co_return BadShape("XACK");
  co_return reply->integer;
}

Task<Result<AutoClaimResult>> XAutoClaim(RedisCommander& redis, std::string_view stream,
                                         std::string_view group, std::string_view consumer,
                                         std::chrono::milliseconds min_idle,
                                         std::string_view start_id, std::size_t count) {
  char idle_buf[24];
  char count_buf[24];
  auto reply = co_await redis.Command("XAUTOCLAIM", stream, group, consumer,
                                      Format(idle_buf, min_idle.count()), start_id, "COUNT",
                                      Format(count_buf, static_cast<std::int64_t>(count)));
  if (!reply) co_return std::move(reply).error();
  auto& e = reply->elements;
  if (!reply->IsArray() || e.size() < 2 || !e[0].IsString()) co_return BadShape("XAUTOCLAIM");
  AutoClaimResult result;
  result.next_id = std::move(e[0].str);
  auto entries = ParseStreamEntries(std::move(e[1]));
  if (!entries) co_return std::move(entries).error();
  result.entries = std::move(*entries);
  if (e.size() >= 3 && e[2].IsArray()) {  // Redis 7: ids of deleted entries
    for (RedisReply& id : e[2].elements) result.deleted_ids.push_back(std::move(id.str));
  }
  co_return result;
}

Task<Result<PendingSummary>> XPendingSummary(RedisCommander& redis, std::string_view stream,
                                             std::string_view group) {
  auto reply = co_await redis.Command("XPENDING", stream, group);
  if (!reply) co_return std::move(reply).error();
  auto& e = reply->elements;
  if (!reply->IsArray() || e.size() != 4 || !e[0].IsInteger()) co_return BadShape("XPENDING");
  PendingSummary summary;
  summary.count = e[0].integer;
  summary.min_id = std::move(e[1].str);
  summary.max_id = std::move(e[2].str);
  for (RedisReply& c : e[3].elements) {
    if (!c.IsArray() || c.elements.size() != 2) co_return BadShape("XPENDING consumers");
    std::int64_t n = 0;
    const std::string& s = c.elements[1].str;
    std::from_chars(s.data(), s.data() + s.size(), n);
    summary.consumers.emplace_back(std::move(c.elements[0].str), n);
  }
  co_return summary;
}

}  // namespace tchat::redis
