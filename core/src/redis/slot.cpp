#include <array>
#include <string>

#include <tchat/core/redis/cluster.hpp>

namespace tchat::redis {

namespace {

constexpr std::array<std::uint16_t, 256> MakeCrcTable() {
  std::array<std::uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
    table[static_cast<std::size_t>(i)] = crc;
  }
  return table;
}

constexpr auto kCrcTable = MakeCrcTable();

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

std::uint16_t Crc16(std::string_view data) {
  std::uint16_t crc = 0;
  for (char c : data) {
    auto index = static_cast<std::uint8_t>((crc >> 8) ^ static_cast<std::uint8_t>(c));
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[index]);
  }
  return crc;
}

int KeySlot(std::string_view key) {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    if (auto close = key.find('}', open + 1); close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) & (kClusterSlots - 1);
}

int CommandSlot(const RedisArgs& args) {
  if (args.size() < 2) return -1;
  const std::string_view verb = args[0];
  if (EqualsNoCase(verb, "XREADGROUP") || EqualsNoCase(verb, "XREAD")) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (EqualsNoCase(args[i], "STREAMS")) return KeySlot(args[i + 1]);
    }
    return -1;
  }
  if (EqualsNoCase(verb, "EVAL") || EqualsNoCase(verb, "EVALSHA")) {
    if (args.size() < 4 || args[2] == "0") return -1;
    return KeySlot(args[3]);
  }
  if (EqualsNoCase(verb, "XGROUP") || EqualsNoCase(verb, "XINFO")) {
    return args.size() >= 3 ? KeySlot(args[2]) : -1;
  }
  if (EqualsNoCase(verb, "PING") || EqualsNoCase(verb, "CLUSTER") || EqualsNoCase(verb, "SCRIPT") ||
      EqualsNoCase(verb, "CLIENT") || EqualsNoCase(verb, "INFO") || EqualsNoCase(verb, "ASKING") ||
      EqualsNoCase(verb, "AUTH") || EqualsNoCase(verb, "SELECT") || EqualsNoCase(verb, "CONFIG")) {
    return -1;
  }
  return KeySlot(args[1]);
}

bool IsClusterUrl(std::string_view url) {
  return url.starts_with("redis-cluster://");
}

Result<std::vector<RedisEndpoint>> ParseClusterUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis-cluster://";
  if (!IsClusterUrl(url)) {
    return Error::InvalidArgument("redis cluster url must start with redis-cluster://");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  std::string_view userinfo;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at + 1);
    rest = rest.substr(at + 1);
  }
  if (!path.empty() && path != "/" && path != "/0") {
    return Error::InvalidArgument("redis cluster url: a cluster has only database 0");
  }
  std::vector<RedisEndpoint> seeds;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view host = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (host.empty()) continue;
    auto ep = ParseRedisUrl("redis://" + std::string(userinfo) + std::string(host));
    if (!ep) return std::move(ep).error();
    seeds.push_back(std::move(*ep));
  }
  if (seeds.empty()) return Error::InvalidArgument("redis cluster url: no node given");
  return seeds;
}

Status ValidateRedisUrl(std::string_view url) {
  if (IsClusterUrl(url)) {
    auto seeds = ParseClusterUrl(url);
    if (!seeds) return std::move(seeds).error();
    return Ok();
  }
  auto endpoint = ParseRedisUrl(url);
  if (!endpoint) return std::move(endpoint).error();
  return Ok();
}

}  // namespace tchat::redis
