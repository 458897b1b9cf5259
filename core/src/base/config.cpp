#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>

#include <tchat/core/config.hpp>

namespace tchat {

EnvSource ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Error::InvalidArgument("empty duration");
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0)
      return Error::InvalidArgument("bad duration \"" + std::string(text) + "\"");
    i = static_cast<std::size_t>(p - text.data());
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t mult;
    if (unit.empty() || unit == "s") {
      mult = 1000;
      if (unit.empty() && i != text.size())
        return Error::InvalidArgument("bad duration \"" + std::string(text) + "\"");
    } else if (unit == "ms") {
      mult = 1;
    } else if (unit == "m") {
      mult = 60'000;
    } else if (unit == "h") {
      mult = 3'600'000;
    } else {
      return Error::InvalidArgument("unknown duration unit \"" + std::string(unit) + "\" in \"" +
                                    std::string(text) + "\"");
    }
    if (n > INT64_MAX / mult / 4) return Error::InvalidArgument("duration too large");
    total_ms += n * mult;
    any = true;
  }
  if (!any) return Error::InvalidArgument("bad duration \"" + std::string(text) + "\"");
  return std::chrono::milliseconds(total_ms);
}

Result<std::int64_t> ParseInt(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Error::InvalidArgument("not an integer: \"" + std::string(text) + "\"");
  }
  if (n < min || n > max) {
    return Error::InvalidArgument(std::to_string(n) + " is outside [" + std::to_string(min) + ", " +
                                  std::to_string(max) + "]");
  }
  return n;
}

Result<bool> ParseBool(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t == "0" || t == "false" || t == "no" || t == "off" || t.empty()) return false;
  return Error::InvalidArgument("not a boolean: \"" + std::string(text) + "\"");
}

std::optional<std::string> ConfigReader::Raw(std::string_view key) const {
  if (auto v = env_(key)) return v;
  std::string upper(key);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (upper != key) return env_(upper);
  return std::nullopt;
}

namespace {

// Prefixes a parse error with the key so start-up failures say what to fix.
Error Named(std::string_view key, const Error& e) {
  return Error::InvalidArgument("config " + std::string(key) + ": " + e.message);
}

}  // namespace

Result<std::string> ConfigReader::String(std::string_view key, std::string_view fallback) const {
  auto v = Raw(key);
  return v ? *v : std::string(fallback);
}

Result<std::int64_t> ConfigReader::Int(std::string_view key, std::int64_t fallback,
                                       std::int64_t min, std::int64_t max) const {
  auto v = Raw(key);
  if (!v) return fallback;
  auto r = ParseInt(*v, min, max);
  if (!r) return Named(key, r.error());
  return *r;
}

Result<bool> ConfigReader::Bool(std::string_view key, bool fallback) const {
  auto v = Raw(key);
  if (!v) return fallback;
  auto r = ParseBool(*v);
  if (!r) return Named(key, r.error());
  return *r;
}

Result<std::chrono::milliseconds> ConfigReader::Duration(std::string_view key,
                                                         std::chrono::milliseconds fallback) const {
  auto v = Raw(key);
  if (!v) return fallback;
  auto r = ParseDuration(*v);
  if (!r) return Named(key, r.error());
  return *r;
}

void ConfigLoader::Require(bool holds, std::string_view key, std::string_view why) {
  if (!holds && !error_) {
    error_ = Error::InvalidArgument("config " + std::string(key) + ": " + std::string(why));
  }
}

namespace {

// Whether a listen address reaches this host only.
bool IsLoopbackListen(const std::string& address) {
  if (address == "localhost") return true;
  auto ip = IpAddress::Parse(address);
  return ip && TrustedProxies::Loopback().Contains(*ip);
}

// What reaches the service from the network: development OTP only on loopback
// unless TCHAT_DEV_OTP_ALLOW_NETWORK says so too, and the trusted proxies.
void ReadExposure(const ConfigReader& r, CommonConfig& c, ConfigLoader& load) {
  bool dev_otp_network = false;
  load.Read(dev_otp_network, r.Bool("TCHAT_DEV_OTP_ALLOW_NETWORK", false));
  load.Require(!c.dev_otp || dev_otp_network || IsLoopbackListen(c.listen_address), "TCHAT_DEV_OTP",
               "development OTP (codes in API answers) on the non-loopback LISTEN_ADDRESS '" +
                   c.listen_address +
                   "': listen on 127.0.0.1, or set TCHAT_DEV_OTP_ALLOW_NETWORK=1 as well");
  if (auto proxies = r.Raw("TCHAT_TRUSTED_PROXIES"); proxies && !proxies->empty()) {
    auto parsed = TrustedProxies::Parse(*proxies);
    load.Require(parsed.ok(), "TCHAT_TRUSTED_PROXIES", parsed.ok() ? "" : parsed.error().message);
    if (parsed) c.trusted_proxies = std::move(*parsed);
  }
}

}  // namespace

Result<CommonConfig> LoadCommonConfig(std::string_view service, std::uint16_t default_port,
                                      const ConfigReader& r) {
  CommonConfig c;
  c.service = std::string(service);
  ConfigLoader load;
  load.Read(c.version, r.String("TCHAT_VERSION", "0.1.0"));
  load.Read(c.listen_address, r.String("LISTEN_ADDRESS", "0.0.0.0"));
  load.Read(c.port, r.Int("PORT", default_port, 0, 65535));
  load.Read(c.threads, r.Int("TCHAT_THREADS", 0, 0, 256));

  load.Read(c.database_url, r.String("DATABASE_URL", ""));
  load.Read(c.redis_url, r.String("REDIS_URL", ""));
  // No service of this build has a ScyllaDB message store (messages live in
  // PostgreSQL): a configured ScyllaDB would be ignored without a word, so a
  // non-empty SCYLLA_HOSTS stops start-up instead.
  const auto scylla = r.Raw("SCYLLA_HOSTS");
  load.Require(!scylla || scylla->empty(), "SCYLLA_HOSTS",
               "is set but this build has no ScyllaDB message store; unset it");
  load.Read(c.jwks_url, r.String("JWKS_URL", ""));
  load.Read(c.jwks_file, r.String("JWKS_FILE", ""));
  load.Read(c.jwt_issuer, r.String("TCHAT_JWT_ISSUER", "tchat-auth"));
  load.Read(c.jwt_audience, r.String("TCHAT_JWT_AUDIENCE", "tchat"));
  load.Read(c.dev_otp, r.Bool("TCHAT_DEV_OTP", false));
  ReadExposure(r, c, load);
  load.Read(c.admin_token, r.String("TCHAT_ADMIN_TOKEN", ""));
  load.Read(c.psp_webhook_secret, r.String("TCHAT_PSP_WEBHOOK_SECRET", ""));
  load.Read(c.debug_endpoints, r.Bool("TCHAT_DEBUG_ENDPOINTS", false));
  load.Read(c.push_webhook_url, r.String("TCHAT_PUSH_WEBHOOK_URL", ""));
  load.Read(c.sms_webhook_url, r.String("TCHAT_SMS_WEBHOOK_URL", ""));
  load.Read(c.log_level, r.String("LOG_LEVEL", "info"));
  load.Require(c.log_level == "debug" || c.log_level == "info" || c.log_level == "warn" ||
                   c.log_level == "error",
               "LOG_LEVEL", "must be debug, info, warn or error");

  load.Read(c.db_max_open_conns, r.Int("db_max_open_conns", c.db_max_open_conns, 1, 10000));
  load.Read(c.db_max_idle_conns, r.Int("db_max_idle_conns", c.db_max_idle_conns, 0, 10000));
  load.Read(c.db_conn_max_lifetime, r.Duration("db_conn_max_lifetime", c.db_conn_max_lifetime));
  load.Read(c.db_max_connections, r.Int("db_max_connections", c.db_max_connections, 1, 100000));
  load.Read(c.redis_pool_size, r.Int("redis_pool_size", c.redis_pool_size, 1, 10000));
  load.Read(c.redis_min_idle_conns,
            r.Int("redis_min_idle_conns", c.redis_min_idle_conns, 0, 10000));
  load.Read(c.redis_dial_timeout, r.Duration("redis_dial_timeout", c.redis_dial_timeout));
  load.Read(c.redis_read_timeout, r.Duration("redis_read_timeout", c.redis_read_timeout));
  load.Read(c.redis_write_timeout, r.Duration("redis_write_timeout", c.redis_write_timeout));
  load.Read(c.http_client_timeout, r.Duration("http_client_timeout", c.http_client_timeout));
  load.Read(c.http_client_max_idle_conns,
            r.Int("http_client_max_idle_conns", c.http_client_max_idle_conns, 0, 100000));
  load.Read(c.http_client_max_conns_per_host,
            r.Int("http_client_max_conns_per_host", c.http_client_max_conns_per_host, 1, 100000));

  load.Read(c.http_max_body_bytes,
            r.Int("HTTP_MAX_BODY_BYTES", static_cast<std::int64_t>(c.http_max_body_bytes), 1024,
                  1LL << 30));
  load.Read(c.http_header_timeout, r.Duration("HTTP_HEADER_TIMEOUT", c.http_header_timeout));
  load.Read(c.http_body_timeout, r.Duration("HTTP_BODY_TIMEOUT", c.http_body_timeout));
  load.Read(c.http_write_timeout, r.Duration("HTTP_WRITE_TIMEOUT", c.http_write_timeout));
  load.Read(c.http_idle_timeout, r.Duration("HTTP_IDLE_TIMEOUT", c.http_idle_timeout));
  load.Read(c.shutdown_timeout, r.Duration("SHUTDOWN_TIMEOUT", c.shutdown_timeout));
  load.Read(c.readiness_timeout, r.Duration("READINESS_TIMEOUT", c.readiness_timeout));

  // An explicit contradiction is an error; a default larger than an explicit
  // maximum just follows the maximum down.
  load.Require(c.db_max_idle_conns <= c.db_max_open_conns || !r.Raw("db_max_idle_conns"),
               "db_max_idle_conns", "must not exceed db_max_open_conns");
  c.db_max_idle_conns = std::min(c.db_max_idle_conns, c.db_max_open_conns);
  load.Require(c.redis_min_idle_conns <= c.redis_pool_size || !r.Raw("redis_min_idle_conns"),
               "redis_min_idle_conns", "must not exceed redis_pool_size");
  c.redis_min_idle_conns = std::min(c.redis_min_idle_conns, c.redis_pool_size);
  return std::move(load).Finish(std::move(c));
}

}  // namespace tchat
