// Phone numbers of the six countries, national and international, and the ways
// a number is refused.
#include "phone.hpp"

#include <gtest/gtest.h>

namespace tchat::auth {
namespace {

struct Case {
  const char* input;
  const char* country;
  const char* e164;
  const char* region;
};

class PhoneNormalises : public ::testing::TestWithParam<Case> {};

TEST_P(PhoneNormalises, ToE164) {
  const Case& c = GetParam();
  auto r = NormalizePhone(c.input, c.country);
  ASSERT_TRUE(r.ok()) << c.input << " / " << c.country << ": " << r.error().message;
  EXPECT_EQ(r->e164, c.e164);
  EXPECT_EQ(r->region, c.region);
}

INSTANTIATE_TEST_SUITE_P(SixCountries, PhoneNormalises,
                         ::testing::Values(
                             // Thailand
                             Case{"0812345678", "TH", "+66812345678", "TH"},
                             Case{"081-234-5678", "th", "+66812345678", "TH"},
                             Case{"+66 81 234 5678", "", "+66812345678", "TH"},
                             Case{"+66812345678", "SG", "+66812345678",
                                  "TH"},  // international wins over country
                             // Singapore
                             Case{"9123 4567", "SG", "+6591234567", "SG"},
                             Case{"+65 9123 4567", "", "+6591234567", "SG"},
                             Case{"8123-4567", "SG", "+6581234567", "SG"},
                             // Indonesia
                             Case{"0812-3456-7890", "ID", "+6281234567890", "ID"},
                             Case{"+62 812 3456 7890", "", "+6281234567890", "ID"},
                             // Malaysia
                             Case{"012-345 6789", "MY", "+60123456789", "MY"},
                             Case{"+60 12-345 6789", "", "+60123456789", "MY"},
                             // Philippines
                             Case{"0917 123 4567", "PH", "+639171234567", "PH"},
                             Case{"+63 917 123 4567", "", "+639171234567", "PH"},
                             Case{"(0917) 123-4567", "PH", "+639171234567", "PH"},
                             // Vietnam
                             Case{"091 234 5678", "VN", "+84912345678", "VN"},
                             Case{"+84 91 234 56 78", "", "+84912345678", "VN"},
                             Case{"0987.654.321", "VN", "+84987654321", "VN"}));

struct Bad {
  const char* input;
  const char* country;
  const char* why;  // a word the message must contain
};

class PhoneRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(PhoneRejects, WithAReason) {
  const Bad& b = GetParam();
  auto r = NormalizePhone(b.input, b.country);
  ASSERT_FALSE(r.ok()) << b.input << " was accepted as " << r->e164;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(b.why), std::string::npos)
      << "message: " << r.error().message << " (wanted '" << b.why << "')";
  // The message never repeats the number.
  if (std::string(b.input).size() > 6) {
    EXPECT_EQ(r.error().message.find(b.input), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, PhoneRejects,
    ::testing::Values(Bad{"", "TH", "required"},
                      Bad{"0812345678", "", "international"},  // national without country
                      Bad{"0812345678", "US", "TH, SG, ID, MY, PH, VN"},  // unsupported country
                      Bad{"+1 650 253 0000", "", "not supported"},        // a US number
                      Bad{"+44 7911 123456", "", "not supported"},        // a UK mobile
                      Bad{"02 123 4567", "TH", "mobile"},                 // Bangkok landline
                      Bad{"+65 6123 4567", "", "mobile"},                 // Singapore landline
                      Bad{"0812", "TH", "few digits"},
                      Bad{"+66 81 234", "", "valid"},     // too short for TH
                      Bad{"08123ABCDE", "TH", "digits"},  // letters
                      Bad{"+66812345678;1", "", "digits"}, Bad{"66+812345678", "", "'+'"},
                      Bad{"+999 812345678", "", "calling code"},
                      Bad{"081234567890123456789012345678901", "TH", "too long"},
                      Bad{"0812345678", "ZZ", "TH, SG"}));

TEST(PhoneMask, KeepsCountryCodeAndLastTwoDigits) {
  EXPECT_EQ(MaskPhone("+66812345678"), "+66*******78");
  EXPECT_EQ(MaskPhone("+6591234567"), "+65******67");
  EXPECT_EQ(MaskPhone("+1"), "**");
  EXPECT_EQ(MaskPhone("+66812345678").find("812345"), std::string::npos);
}

TEST(PhoneCountries, ExactlyTheSixServed) {
  for (const char* c : {"TH", "SG", "ID", "MY", "PH", "VN"})
    EXPECT_TRUE(IsSupportedCountry(c)) << c;
  for (const char* c : {"US", "GB", "KH", "LA", "MM", "BN", "th", ""}) {
    EXPECT_FALSE(IsSupportedCountry(c)) << c;
  }
}

}  // namespace
}  // namespace tchat::auth
