#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include <tchat/core/client_address.hpp>

namespace tchat {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the first `prefix` bits of `a` and `b` agree.
bool SamePrefix(const IpAddress& a, const IpAddress& b, int prefix) {
  const int whole = prefix / 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, b.bytes.begin())) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

// One entry of TCHAT_TRUSTED_PROXIES: "a.b.c.d/n", "x::y/n" or a single address.
std::optional<std::pair<IpAddress, int>> ParseNet(std::string_view entry) {
  const auto slash = entry.find('/');
  auto ip = IpAddress::Parse(entry.substr(0, slash));
  if (!ip) return std::nullopt;
  const int max_bits = ip->v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view n = entry.substr(slash + 1);
    if (n.empty() || n.size() > 3 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    bits = std::stoi(std::string(n));
    if (bits > max_bits) return std::nullopt;
  }
  return std::pair{*ip, ip->v4 ? bits + 96 : bits};
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.bytes.begin());
    std::copy(v4, v4 + 4, ip.bytes.begin() + 12);
    ip.v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  ip.v4 = std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.bytes.begin());
  return ip;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  const bool ok = v4 ? inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf) != nullptr
                     : inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf) != nullptr;
  return ok ? std::string(buf) : std::string();
}

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies t;
  if (Trim(list) == "none") return t;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t end = list.find_first_of(", \t", pos);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view entry = list.substr(pos, end - pos);
    pos = end + 1;
    if (entry.empty()) continue;
    auto net = ParseNet(entry);
    if (!net) {
      return Error::InvalidArgument("not an IP network (CIDR) or address: '" + std::string(entry) +
                                    "'");
    }
    t.nets_.push_back(Net{net->first, net->second});
  }
  return t;
}

TrustedProxies TrustedProxies::Loopback() {
  return *Parse("127.0.0.0/8,::1/128");
}

bool TrustedProxies::Contains(const IpAddress& ip) const {
  return std::any_of(nets_.begin(), nets_.end(),
                     [&](const Net& n) { return SamePrefix(ip, n.base, n.prefix); });
}

std::string ClientAddress(std::string_view peer, std::string_view forwarded_for,
                          std::string_view real_ip, const TrustedProxies& trusted) {
  auto peer_ip = IpAddress::Parse(peer);
  if (!peer_ip) return std::string(peer);
  if (!trusted.Contains(*peer_ip)) return peer_ip->ToString();
  IpAddress client = *peer_ip;
  if (Trim(forwarded_for).empty()) {
    if (auto real = IpAddress::Parse(Trim(real_ip))) client = *real;
    return client.ToString();
  }
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const std::string_view hop =
        Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto ip = IpAddress::Parse(hop);
    if (!ip) break;
    client = *ip;
    if (!trusted.Contains(client)) break;
  }
  return client.ToString();
}

std::string AddressLimitKey(std::string_view address) {
  auto ip = IpAddress::Parse(address);
  if (!ip) return std::string(address);
  if (ip->v4) return ip->ToString();
  std::fill(ip->bytes.begin() + 8, ip->bytes.end(), 0);
  return ip->ToString() + "/64";
}

}  // namespace tchat
