// Input rules and the SMS texts.
#include "validation.hpp"

#include <gtest/gtest.h>

#include "locale_text.hpp"
#include "otp_store.hpp"
#include "tokens.hpp"

namespace tchat::auth {
namespace {

TEST(Password, AtLeastTwelveCharactersCountedAsCharacters) {
  EXPECT_FALSE(ValidatePassword("short").ok());
  EXPECT_FALSE(ValidatePassword("elevenchars").ok());
  EXPECT_TRUE(ValidatePassword("twelve chars").ok());
  // 12 Thai characters are 36 bytes but 12 characters: accepted; 11 are not.
  EXPECT_TRUE(ValidatePassword("กขคงจฉชซฌญฎฏ").ok());
  EXPECT_FALSE(ValidatePassword("กขคงจฉชซฌญฎ").ok());
  EXPECT_FALSE(ValidatePassword(std::string(257, 'a')).ok());
  EXPECT_TRUE(ValidatePassword(std::string(256, 'a')).ok());
  EXPECT_FALSE(ValidatePassword(std::string("abcdefghijkl\xff", 13)).ok());
  EXPECT_FALSE(ValidatePassword(std::string("abcdefghijkl\0m", 14)).ok());
  auto e = ValidatePassword("hunter2");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.find("hunter2"), std::string::npos) << "never echo a password";
}

TEST(OtpCode, ExactlySixDigits) {
  EXPECT_TRUE(ValidateOtpCode("012345").ok());
  for (const char* bad : {"", "12345", "1234567", "12345a", " 12345", "١٢٣٤٥٦"}) {
    EXPECT_FALSE(ValidateOtpCode(bad).ok()) << bad;
  }
}

TEST(OtpCode, NewCodesAreSixDigitsAndVary) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string c = OtpStore::NewCode();
    ASSERT_TRUE(ValidateOtpCode(c).ok()) << c;
    seen.insert(c);
  }
  EXPECT_GT(seen.size(), 190u);
}

TEST(Username, LettersDigitsUnderscoreStartingWithALetter) {
  EXPECT_TRUE(ValidateUsername("alice").ok());
  EXPECT_TRUE(ValidateUsername("Alice_99").ok());
  EXPECT_TRUE(ValidateUsername(std::string(32, 'a')).ok());
  EXPECT_FALSE(ValidateUsername("al").ok());
  EXPECT_FALSE(ValidateUsername(std::string(33, 'a')).ok());
  EXPECT_FALSE(ValidateUsername("9lives").ok());
  EXPECT_FALSE(ValidateUsername("_x_").ok());
  EXPECT_FALSE(ValidateUsername("al ice").ok());
  EXPECT_FALSE(ValidateUsername("al.ice").ok());
  EXPECT_FALSE(ValidateUsername("alicé").ok());
  EXPECT_FALSE(ValidateUsername("Admin").ok());  // reserved, any case
  EXPECT_FALSE(ValidateUsername("tchat").ok());
}

TEST(DisplayName, TrimmedBoundedNoControls) {
  auto n = ValidateDisplayName("  Somchai ใจดี ");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "Somchai ใจดี");
  EXPECT_FALSE(ValidateDisplayName("   ").ok());
  EXPECT_FALSE(ValidateDisplayName("a\nb").ok());
  EXPECT_FALSE(ValidateDisplayName("evil\xE2\x80\xAEgnp.exe").ok());  // RLO override
  EXPECT_TRUE(ValidateDisplayName(std::string(64, 'x')).ok());
  EXPECT_FALSE(ValidateDisplayName(std::string(65, 'x')).ok());
  EXPECT_FALSE(ValidateDisplayName("\xC0\xAF").ok());  // overlong UTF-8
}

TEST(AvatarUrl, HttpUrlWithAHost) {
  EXPECT_TRUE(ValidateAvatarUrl("https://cdn.tchat.sea/a/1.png").ok());
  EXPECT_TRUE(ValidateAvatarUrl("http://localhost:8080/x.jpg").ok());
  EXPECT_FALSE(ValidateAvatarUrl("javascript:alert(1)").ok());
  EXPECT_FALSE(ValidateAvatarUrl("ftp://x/y").ok());
  EXPECT_FALSE(ValidateAvatarUrl("https:///nohost").ok());
  EXPECT_FALSE(ValidateAvatarUrl("https://user:pw@host/x").ok());
  EXPECT_FALSE(ValidateAvatarUrl("https://host/a b").ok());
  EXPECT_FALSE(ValidateAvatarUrl("https://host/\"><script>").ok());
  EXPECT_FALSE(ValidateAvatarUrl("https://h/" + std::string(2048, 'a')).ok());
}

TEST(Locale, TheSixLocales) {
  for (const char* l : {"en", "th", "id", "ms", "fil", "vi"})
    EXPECT_TRUE(IsSupportedLocale(l)) << l;
  for (const char* l : {"EN", "tl", "zh", "", "en-US"}) EXPECT_FALSE(IsSupportedLocale(l)) << l;
}

TEST(Locale, PickFromRequestHeaderOrCountry) {
  EXPECT_EQ(PickLocale("vi", "th-TH", "TH"), "vi");
  EXPECT_EQ(PickLocale("", "th-TH,th;q=0.9,en;q=0.8", "SG"), "th");
  EXPECT_EQ(PickLocale("", "zh-CN, tl;q=0.5", "TH"), "fil");
  EXPECT_EQ(PickLocale("", "in-ID", "TH"), "id");
  EXPECT_EQ(PickLocale("", "th;q=0, ms", "TH"), "ms");
  EXPECT_EQ(PickLocale("xx", "", "TH"), "th");
  EXPECT_EQ(PickLocale("", "", "ID"), "id");
  EXPECT_EQ(PickLocale("", "", "MY"), "ms");
  EXPECT_EQ(PickLocale("", "", "PH"), "fil");
  EXPECT_EQ(PickLocale("", "", "VN"), "vi");
  EXPECT_EQ(PickLocale("", "", "SG"), "en");
}

TEST(DeviceText, CleanedAndCut) {
  EXPECT_EQ(CleanDeviceText("  Pixel 8\n ", 64), "Pixel 8");
  EXPECT_EQ(CleanDeviceText("abcdef", 3), "abc");
  EXPECT_EQ(CleanDeviceText("ไอโฟน", 2), "ไอ");
  EXPECT_EQ(CleanDeviceText("a\x01"
                            "b",
                            10),
            "ab");
}

TEST(RefreshToken, RandomOpaqueAndHashed) {
  const std::string a = NewRefreshToken(), b = NewRefreshToken();
  EXPECT_NE(a, b);
  EXPECT_TRUE(LooksLikeRefreshToken(a));
  EXPECT_EQ(a.size(), 43u);
  EXPECT_FALSE(LooksLikeRefreshToken(a.substr(1)));
  EXPECT_FALSE(LooksLikeRefreshToken(std::string(43, '=')));
  const std::string h = HashRefreshToken(a);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, HashRefreshToken(a));
  EXPECT_NE(h, HashRefreshToken(b));
  EXPECT_EQ(h.find(a), std::string::npos);
  // SHA-256("abc")
  EXPECT_EQ(HashRefreshToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tchat::auth
