#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <tchat/core/config.hpp>
#include <tchat/core/result.hpp>

namespace tchat::redis {

// Settings of a RedisClient / RedisSubscriber, normally taken from CommonConfig
// (the runbook's redis_* keys).
struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379/0";
  std::string service = "unknown";  // label of redis_connection_errors_total
  int pool_size = 50;               // connections per client (per worker thread)
  int min_idle = 10;                // connections kept open once the pool is in use
  std::chrono::milliseconds dial_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds read_timeout = std::chrono::seconds(3);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(3);

  static RedisOptions FromConfig(const CommonConfig& config);
};

// Where to connect, parsed from redis://[[user]:password@]host[:port][/db].
struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  std::string username;  // AUTH user password (Redis 6 ACL) when set
  std::string password;  // AUTH password when set
  int db = 0;            // SELECT db when non-zero
};

// Parses a redis:// URL; percent-escapes in user and password are decoded.
// Errors are kInvalidArgument and name the problem, never the password.
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace tchat::redis
