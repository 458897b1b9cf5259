#include <string>

#include <gtest/gtest.h>

#include <tchat/core/client_address.hpp>

namespace tchat {
namespace {

TEST(IpAddressTest, ParsesLiteralsOnly) {
  EXPECT_EQ(IpAddress::Parse("203.0.113.7")->ToString(), "203.0.113.7");
  EXPECT_EQ(IpAddress::Parse("2001:DB8:0::1")->ToString(), "2001:db8::1");
  EXPECT_EQ(IpAddress::Parse("::ffff:10.1.2.3")->ToString(), "10.1.2.3");
  EXPECT_TRUE(IpAddress::Parse("::ffff:10.1.2.3")->v4);
  for (const char* bad :
       {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "[::1]", "[::1]:443",
        "fe80::1%eth0", " 1.2.3.4", "1.2.3.4\n", "unknown", "2001:db8::g", "1.2.3.4/32",
        "0123456789012345678901234567890123456789012345678901234567890"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(TrustedProxiesTest, ParsesListsAndNamesTheBadEntry) {
  auto t = TrustedProxies::Parse("127.0.0.0/8, ::1  10.244.0.0/16,fd00::/8");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->Contains(*IpAddress::Parse("127.9.9.9")));
  EXPECT_TRUE(t->Contains(*IpAddress::Parse("::1")));
  EXPECT_TRUE(t->Contains(*IpAddress::Parse("10.244.255.1")));
  EXPECT_TRUE(t->Contains(*IpAddress::Parse("::ffff:10.244.0.9")));
  EXPECT_TRUE(t->Contains(*IpAddress::Parse("fd12:3456::1")));
  EXPECT_FALSE(t->Contains(*IpAddress::Parse("10.245.0.1")));
  EXPECT_FALSE(t->Contains(*IpAddress::Parse("128.0.0.1")));
  EXPECT_FALSE(t->Contains(*IpAddress::Parse("::2")));
  EXPECT_FALSE(t->Contains(*IpAddress::Parse("fe00::1")));

  EXPECT_TRUE(TrustedProxies::Parse("none")->empty());
  EXPECT_TRUE(TrustedProxies::Parse("")->empty());
  EXPECT_TRUE(TrustedProxies::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("8.8.8.8")));
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "example.com", "10.0.0.0/8,garbage", "10.0.0.0/1234"}) {
    auto r = TrustedProxies::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = TrustedProxies::Parse("10.0.0.0/8,garbage");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'garbage'"), std::string::npos) << r.error().message;
}

struct Case {
  const char* name;
  const char* peer;
  const char* xff;
  const char* real_ip;
  const char* want;
};

TEST(ClientAddressTest, Table) {
  const auto trusted = *TrustedProxies::Parse("127.0.0.0/8,::1,10.244.0.0/16,fd00::/8");
  const Case cases[] = {
      {"direct client, no headers", "198.51.100.4", "", "", "198.51.100.4"},
      {"untrusted peer's headers are ignored", "198.51.100.4", "203.0.113.9", "203.0.113.8",
       "198.51.100.4"},
      {"untrusted IPv6 peer, canonical text", "2001:DB8::0:1", "203.0.113.9", "", "2001:db8::1"},
      {"v4-mapped peer is IPv4", "::ffff:198.51.100.4", "", "", "198.51.100.4"},
      {"trusted peer, X-Real-IP", "127.0.0.1", "", "203.0.113.7", "203.0.113.7"},
      {"trusted peer, X-Real-IP garbage", "127.0.0.1", "", "<script>", "127.0.0.1"},
      {"trusted peer, X-Real-IP with port", "127.0.0.1", "", "203.0.113.7:4444", "127.0.0.1"},
      {"trusted peer, no headers", "127.0.0.1", "", "", "127.0.0.1"},
      {"ingress appended the client", "10.244.1.5", "203.0.113.7", "", "203.0.113.7"},
      {"XFF wins over X-Real-IP", "10.244.1.5", "203.0.113.7", "198.51.100.1", "203.0.113.7"},
      {"spoofed left hops are skipped", "10.244.1.5", "1.1.1.1, 2.2.2.2, 203.0.113.7", "",
       "203.0.113.7"},
      {"trusted hops are walked past", "127.0.0.1", "6.6.6.6,203.0.113.7, 10.244.0.3,127.0.0.1", "",
       "203.0.113.7"},
      {"spoofed trusted-looking left hop", "10.244.1.5", "127.0.0.1, 203.0.113.7", "",
       "203.0.113.7"},
      {"every hop trusted: the left-most", "127.0.0.1", "10.244.0.9, 10.244.0.3", "", "10.244.0.9"},
      {"garbage right-most hop: the peer", "10.244.1.5", "203.0.113.7, garbage", "", "10.244.1.5"},
      {"garbage after a trusted hop: that hop", "127.0.0.1", "x, 10.244.0.3", "", "10.244.0.3"},
      {"garbage left of the client is never reached", "10.244.1.5", "garbage, 203.0.113.7", "",
       "203.0.113.7"},
      {"empty hops", "10.244.1.5", " , ", "", "10.244.1.5"},
      {"hop with a port is not an address", "10.244.1.5", "203.0.113.7:5555", "", "10.244.1.5"},
      {"IPv6 client through IPv6 proxy", "fd00::5", "2001:db8:aa:bb::17", "", "2001:db8:aa:bb::17"},
      {"IPv6 client through IPv4 proxy", "10.244.0.2", "2001:DB8::17", "", "2001:db8::17"},
      {"bracketed IPv6 hop is not an address", "10.244.0.2", "[2001:db8::17]", "", "10.244.0.2"},
      {"v4-mapped hop becomes IPv4", "127.0.0.1", "::ffff:203.0.113.7", "", "203.0.113.7"},
      {"peer that is not an address is kept", "", "203.0.113.7", "", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClientAddress(c.peer, c.xff, c.real_ip, trusted), c.want) << c.name;
  }
}

TEST(ClientAddressTest, NoTrustedProxiesMeansThePeer) {
  const auto none = *TrustedProxies::Parse("none");
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7", "203.0.113.8", none), "127.0.0.1");
}

TEST(AddressLimitKeyTest, Ipv6IsKeyedByItsSlash64) {
  EXPECT_EQ(AddressLimitKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressLimitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressLimitKey("2001:db8:1:2::99"), AddressLimitKey("2001:db8:1:2:ffff::1"));
  EXPECT_NE(AddressLimitKey("2001:db8:1:2::1"), AddressLimitKey("2001:db8:1:3::1"));
  EXPECT_EQ(AddressLimitKey("::1"), "::/64");
  EXPECT_EQ(AddressLimitKey("::ffff:198.51.100.4"), "198.51.100.4");
  EXPECT_EQ(AddressLimitKey("not-an-ip"), "not-an-ip");
}

}  // namespace
}  // namespace tchat
