#include <charconv>
#include <string>

#include <tchat/core/redis/options.hpp>

namespace tchat::redis {

RedisOptions RedisOptions::FromConfig(const CommonConfig& config) {
  RedisOptions o;
  o.url = config.redis_url;
  o.service = config.service;
  o.pool_size = config.redis_pool_size;
  o.min_idle = config.redis_min_idle_conns;
  o.dial_timeout = config.redis_dial_timeout;
  o.read_timeout = config.redis_read_timeout;
  o.write_timeout = config.redis_write_timeout;
  return o;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Error::InvalidArgument("redis url: bad percent-escape in " + std::string(what));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename Int>
bool ParseNumber(std::string_view text, Int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    return Error::InvalidArgument("redis url must start with redis://");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }

  RedisEndpoint ep;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = userinfo;
    std::string_view pass;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      pass = userinfo.substr(colon + 1);
    }
    auto u = PercentDecode(user, "user");
    if (!u) return std::move(u).error();
    auto p = PercentDecode(pass, "password");
    if (!p) return std::move(p).error();
    ep.username = std::move(*u);
    ep.password = std::move(*p);
    // redis://user@host (no colon) is the old form meaning a password only.
    if (ep.password.empty() && userinfo.find(':') == std::string_view::npos) {
      std::swap(ep.username, ep.password);
    }
  }

  std::string_view port;
  if (rest.starts_with('[')) {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return Error::InvalidArgument("redis url: bad IPv6 host");
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Error::InvalidArgument("redis url: bad host");
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    ep.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    ep.host = std::string(rest);
  }
  if (ep.host.empty()) return Error::InvalidArgument("redis url: missing host");
  if (!port.empty() && (!ParseNumber(port, ep.port) || ep.port == 0)) {
    return Error::InvalidArgument("redis url: bad port '" + std::string(port) + "'");
  }
  if (!path.empty() && (!ParseNumber(path, ep.db) || ep.db < 0)) {
    return Error::InvalidArgument("redis url: bad database '" + std::string(path) + "'");
  }
  return ep;
}

}  // namespace tchat::redis
