#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/result.hpp>

namespace tchat {

// An IP address in binary form: IPv4 is kept as its IPv4-mapped IPv6 address
// (::ffff:a.b.c.d), so that one comparison serves both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;

  // Parses a literal address ("203.0.113.7", "2001:db8::1", "::ffff:10.0.0.1");
  // nothing for anything else (names, ports, brackets, zone ids, spaces).
  static std::optional<IpAddress> Parse(std::string_view text);
  // The canonical text ("2001:db8::1"; an IPv4-mapped address as plain IPv4).
  std::string ToString() const;
};

// The networks whose requests may name the client (TCHAT_TRUSTED_PROXIES: the
// gateway, the ingress controller). A plain value; safe to read from any thread.
class TrustedProxies {
 public:
  // Parses a comma- or space-separated list of CIDRs or single addresses
  // ("127.0.0.0/8, ::1, 10.244.0.0/16"). "none" is the empty list. An error
  // names the bad entry.
  static Result<TrustedProxies> Parse(std::string_view list);
  // Loopback only (127.0.0.0/8 and ::1): the local system's gateway.
  static TrustedProxies Loopback();

  bool Contains(const IpAddress& ip) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    IpAddress base;
    int prefix = 0;  // in bits of the 16-byte form
  };
  std::vector<Net> nets_;
};

// The address of the client of a request that arrived on a connection from
// `peer` with the given X-Forwarded-For and X-Real-IP headers (empty: absent).
// The headers count only when the peer is a trusted proxy: then the client is
// the right-most X-Forwarded-For hop that is not a trusted proxy (every proxy
// appends the address it was connected from, so hops left of the first untrusted
// one are the client's own claims); the left-most one when every hop is trusted;
// X-Real-IP when there is no X-Forwarded-For. A hop that is not an IP address
// ends the walk at the last trusted hop: a chain that cannot be read names no one
// else. The answer is an IP address in canonical text, or `peer` as given when
// the peer itself is not one.
std::string ClientAddress(std::string_view peer, std::string_view forwarded_for,
                          std::string_view real_ip, const TrustedProxies& trusted);

// The key per-address limits count under: an IPv4 address as it is, an IPv6
// address its /64 network ("2001:db8:1:2::/64"), as one subscriber usually holds
// a whole /64. Text that is not an IP address is returned unchanged.
std::string AddressLimitKey(std::string_view address);

}  // namespace tchat
