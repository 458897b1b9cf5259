#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <tchat/core/redis/options.hpp>
#include <tchat/core/redis/reply.hpp>
#include <tchat/core/result.hpp>

namespace tchat::redis {

// Redis Cluster has 16384 hash slots; a key lives in slot CRC16(key) % 16384,
// where only the part between the first '{' and the next '}' counts when that
// part is not empty (a "hash tag"): keys sharing a tag share a slot, which
// multi-key commands and Lua scripts on a cluster require.
inline constexpr int kClusterSlots = 16384;

// CRC16-CCITT (XMODEM), the checksum Redis Cluster uses.
std::uint16_t Crc16(std::string_view data);
// The hash slot of `key`, with the hash-tag rule.
int KeySlot(std::string_view key);

// The slot a command is routed by: the slot of its first key, or -1 when it has
// none (PING, SCRIPT LOAD, CLUSTER ...: any node answers). Knows where the key is
// in the commands this code base sends: XREAD[GROUP] (after STREAMS), EVAL and
// EVALSHA (after numkeys), XGROUP/XINFO (third word) and otherwise the second
// word; PUBLISH/SPUBLISH/SSUBSCRIBE route by their channel.
int CommandSlot(const RedisArgs& args);

// True for redis-cluster:// URLs.
bool IsClusterUrl(std::string_view url);

// Parses redis-cluster://[[user]:password@]host:port[,host:port...][/0]: the
// seed nodes, each with the URL's credentials. A database other than 0 is
// refused (a cluster has only database 0). Errors are kInvalidArgument.
Result<std::vector<RedisEndpoint>> ParseClusterUrl(std::string_view url);

// Ok for a valid redis:// or redis-cluster:// URL (kInvalidArgument naming the
// problem otherwise): what start-up checks REDIS_URL with.
Status ValidateRedisUrl(std::string_view url);

}  // namespace tchat::redis
