#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tchat/core/client_address.hpp>
#include <tchat/core/result.hpp>

namespace tchat {

// Where configuration values come from. Production reads the process
// environment; tests inject a map.
using EnvSource = std::function<std::optional<std::string>(std::string_view name)>;
EnvSource ProcessEnv();

// Parses "250ms", "3s", "5m", "1h", "1h30m" and plain seconds ("30").
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
Result<std::int64_t> ParseInt(std::string_view text, std::int64_t min, std::int64_t max);
// Accepts 1/0, true/false, yes/no, on/off (case-insensitive).
Result<bool> ParseBool(std::string_view text);

// Typed reads of one key. The key is looked up as written (the runbook's
// ConfigMap keys are lower case and reach the pod under that exact name through
// envFrom) and then in upper case. Errors name the key and the bad value.
class ConfigReader {
 public:
  explicit ConfigReader(EnvSource env) : env_(std::move(env)) {}

  std::optional<std::string> Raw(std::string_view key) const;
  Result<std::string> String(std::string_view key, std::string_view fallback) const;
  Result<std::int64_t> Int(std::string_view key, std::int64_t fallback, std::int64_t min,
                           std::int64_t max) const;
  Result<bool> Bool(std::string_view key, bool fallback) const;
  Result<std::chrono::milliseconds> Duration(std::string_view key,
                                             std::chrono::milliseconds fallback) const;

 private:
  EnvSource env_;
};

// Reads many keys into a settings struct and keeps the first error, so that a
// loader is a list of reads and checks with one return at the end:
//
//   ConfigLoader load;
//   load.Read(c.batch_size, reader.Int("X_BATCH_SIZE", c.batch_size, 1, 10000));
//   load.Read(c.block, reader.Duration("X_BLOCK", c.block));
//   load.Require(c.block.count() > 0, "X_BLOCK", "must be > 0");
//   return std::move(load).Finish(std::move(c));
//
// After an error, Read and Require change nothing (the values they were given
// are still evaluated). A plain value; not shared.
class ConfigLoader {
 public:
  // Stores the value (converted to the field's type: integers by static_cast,
  // durations by duration_cast) or keeps its error if it is the first.
  template <typename T, typename U>
  void Read(T& field, Result<U> value) {
    if (error_) return;
    if (!value) {
      error_ = std::move(value).error();
    } else if constexpr (IsDuration<T>::value && IsDuration<U>::value) {
      field = std::chrono::duration_cast<T>(*value);
    } else if constexpr (std::is_arithmetic_v<T> && std::is_arithmetic_v<U>) {
      field = static_cast<T>(*value);
    } else {
      field = std::move(*value);
    }
  }
  // An error "config <key>: <why>" unless `holds`.
  void Require(bool holds, std::string_view key, std::string_view why);
  bool ok() const { return !error_.has_value(); }

  // The settings, or the first error.
  template <typename T>
  Result<T> Finish(T settings) && {
    if (error_) return std::move(*error_);
    return settings;
  }

 private:
  template <typename T>
  struct IsDuration : std::false_type {};
  template <typename Rep, typename Period>
  struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

  std::optional<Error> error_;
};

// Settings every service shares (docs/api/openapi.yaml and the runbook's ConfigMaps).
struct CommonConfig {
  std::string service;  // "auth", "messaging", ...
  std::string version;
  std::string listen_address = "0.0.0.0";
  std::uint16_t port = 0;
  int threads = 0;  // 0: one per core

  std::string database_url;  // libpq URI; empty: no PostgreSQL
  std::string redis_url;     // redis://host:port/db; empty: no Redis
  std::string jwks_url;      // where to fetch auth's keys
  std::string jwks_file;     // alternative: a local JWKS file (tests, bootstrapping)
  std::string jwt_issuer = "tchat-auth";
  std::string jwt_audience = "tchat";
  // TCHAT_TRUSTED_PROXIES (CIDRs; default loopback): the peers whose
  // X-Forwarded-For / X-Real-IP name the client (client_address.hpp).
  TrustedProxies trusted_proxies = TrustedProxies::Loopback();
  // TCHAT_DEV_OTP. On a non-loopback LISTEN_ADDRESS only with
  // TCHAT_DEV_OTP_ALLOW_NETWORK=1: anyone who reaches it can sign in as anyone.
  bool dev_otp = false;
  std::string admin_token;  // TCHAT_ADMIN_TOKEN; never logged
  std::string psp_webhook_secret;
  bool debug_endpoints = false;
  std::string push_webhook_url;
  std::string sms_webhook_url;
  std::string log_level = "info";

  // Database pool (tchat-performance-config).
  int db_max_open_conns = 50;
  int db_max_idle_conns = 10;
  std::chrono::milliseconds db_conn_max_lifetime = std::chrono::minutes(5);
  int db_max_connections = 100;  // tchat-config: server-side ceiling the pool respects
  // Redis pool.
  int redis_pool_size = 50;
  int redis_min_idle_conns = 10;
  std::chrono::milliseconds redis_dial_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds redis_read_timeout = std::chrono::seconds(3);
  std::chrono::milliseconds redis_write_timeout = std::chrono::seconds(3);
  // Outgoing HTTP.
  std::chrono::milliseconds http_client_timeout = std::chrono::seconds(30);
  int http_client_max_idle_conns = 100;
  int http_client_max_conns_per_host = 10;

  // HTTP server.
  std::size_t http_max_body_bytes = 1 << 20;
  std::chrono::milliseconds http_header_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds http_body_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds http_write_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds http_idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(20);
  std::chrono::milliseconds readiness_timeout = std::chrono::seconds(1);
};

// Reads CommonConfig. `default_port` applies when PORT is unset. A non-empty
// SCYLLA_HOSTS is an error: no service of this build stores anything in ScyllaDB.
Result<CommonConfig> LoadCommonConfig(std::string_view service, std::uint16_t default_port,
                                      const ConfigReader& reader);

}  // namespace tchat
