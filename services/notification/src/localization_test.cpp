#include "localization.hpp"

#include <gtest/gtest.h>

namespace tchat::notification {
namespace {

TEST(Localization, ParsesTagsAndFallsBackByPhone) {
  EXPECT_EQ(ParseLocale("th"), Locale::kTh);
  EXPECT_EQ(ParseLocale("th-TH"), Locale::kTh);
  EXPECT_EQ(ParseLocale("ID_id"), Locale::kId);
  EXPECT_EQ(ParseLocale("in"), Locale::kId);
  EXPECT_EQ(ParseLocale("ms-MY"), Locale::kMs);
  EXPECT_EQ(ParseLocale("fil"), Locale::kFil);
  EXPECT_EQ(ParseLocale("tl-PH"), Locale::kFil);
  EXPECT_EQ(ParseLocale("vi"), Locale::kVi);
  EXPECT_EQ(ParseLocale("en-GB"), Locale::kEn);
  EXPECT_FALSE(ParseLocale("zh-CN"));
  EXPECT_FALSE(ParseLocale(""));
  EXPECT_EQ(LocaleForPhone("+66812345678"), Locale::kTh);
  EXPECT_EQ(LocaleForPhone("+6281234567"), Locale::kId);
  EXPECT_EQ(LocaleForPhone("+60123456789"), Locale::kMs);
  EXPECT_EQ(LocaleForPhone("+639171234567"), Locale::kFil);
  EXPECT_EQ(LocaleForPhone("+84912345678"), Locale::kVi);
  EXPECT_EQ(LocaleForPhone("+6591234567"), Locale::kEn);
  EXPECT_EQ(LocaleCode(Locale::kFil), "fil");
}

TEST(Localization, EveryTextExistsInEveryLanguageWithItsPlaceholders) {
  for (Locale l : {Locale::kEn, Locale::kTh, Locale::kId, Locale::kMs, Locale::kFil, Locale::kVi}) {
    for (int t = 0; t < static_cast<int>(Text::kCount_); ++t) {
      const std::string s = Localize(l, static_cast<Text>(t));
      EXPECT_FALSE(s.empty()) << LocaleCode(l) << " text " << t;
    }
    for (Text t : {Text::kOtpSms, Text::kOtpPasswordSms}) {
      const std::string otp = Localize(l, t, {{"code", "123456"}, {"minutes", "5"}});
      EXPECT_NE(otp.find("123456"), std::string::npos) << LocaleCode(l);
      EXPECT_NE(otp.find('5'), std::string::npos) << LocaleCode(l);
      EXPECT_EQ(otp.find('{'), std::string::npos) << LocaleCode(l) << ": " << otp;
    }
    // A password code reads otherwise than a sign-in code.
    EXPECT_NE(Localize(l, Text::kOtpPasswordSms), Localize(l, Text::kOtpSms)) << LocaleCode(l);
    const std::string n = Localize(l, Text::kNewMessagesTitle, {{"n", "7"}});
    EXPECT_NE(n.find('7'), std::string::npos) << LocaleCode(l);
  }
  EXPECT_EQ(Localize(Locale::kTh, Text::kOtpSms, {{"code", "999000"}, {"minutes", "5"}}),
            "รหัส Tchat ของคุณคือ 999000 หมดอายุใน 5 นาที ห้ามบอกรหัสนี้กับผู้อื่น");
  EXPECT_EQ(Localize(Locale::kVi, Text::kPaymentReceivedTitle), "Đã nhận tiền");
  EXPECT_EQ(Localize(Locale::kFil, Text::kPaymentReceivedBodyNamed,
                     {{"name", "Maria"}, {"amount", "₱50.00"}}),
            "Pinadalhan ka ni Maria ng ₱50.00");
}

TEST(Localization, AmountsInMinorUnits) {
  EXPECT_EQ(FormatAmount(12345, "THB"), "123.45 THB");
  EXPECT_EQ(FormatAmount(100000000, "IDR"), "1,000,000.00 IDR");
  EXPECT_EQ(FormatAmount(2500000, "VND"), "2,500,000 VND");
  EXPECT_EQ(FormatAmount(5, "USD"), "0.05 USD");
  EXPECT_EQ(FormatAmount(-150, "SGD"), "-1.50 SGD");
  EXPECT_EQ(FormatAmount(INT64_MIN, "VND"), "-9,223,372,036,854,775,808 VND");
}

TEST(Localization, TruncatesUtf8OnCharacterBoundaries) {
  EXPECT_EQ(TruncateUtf8("hello", 10), "hello");
  EXPECT_EQ(TruncateUtf8("hello", 3), "hel…");
  EXPECT_EQ(TruncateUtf8("สวัสดีครับ", 3), "สวั…");
  EXPECT_EQ(TruncateUtf8("a\xff"
                         "b",
                         10),
            "ab");                              // invalid byte dropped
  EXPECT_EQ(TruncateUtf8("\xe0\xb8", 10), "");  // cut sequence dropped
}

}  // namespace
}  // namespace tchat::notification
