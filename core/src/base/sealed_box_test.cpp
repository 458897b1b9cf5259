#include <gtest/gtest.h>

#include <tchat/core/sealed_box.hpp>

namespace tchat {
namespace {

// A fixed X25519 pair (RFC 7748 §6.1, Alice).
constexpr std::string_view kSecret =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kPublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

TEST(SealedBox, DerivesThePublicKeyAndOpensWhatWasSealedToIt) {
  auto opener = SealedBoxOpener::FromSecretKeyHex(kSecret);
  ASSERT_TRUE(opener);
  EXPECT_EQ(opener->PublicKeyHex(), kPublic);
  auto sender = SealedBoxSender::FromPublicKeyHex(kPublic);
  ASSERT_TRUE(sender);
  const std::string a = sender->Seal("482913");
  const std::string b = sender->Seal("482913");
  EXPECT_NE(a, b) << "each seal uses a fresh ephemeral key";
  EXPECT_EQ(a.find("482913"), std::string::npos);
  auto plain = opener->Open(a);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(*plain, "482913");
}

TEST(SealedBox, RefusesOtherKeysAlteredBoxesAndBadInput) {
  auto opener = SealedBoxOpener::FromSecretKeyHex(kSecret);
  ASSERT_TRUE(opener);
  auto other = SealedBoxSender::FromPublicKeyHex(
      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  ASSERT_TRUE(other);
  EXPECT_FALSE(opener->Open(other->Seal("123456")));
  std::string sealed = SealedBoxSender::FromPublicKeyHex(kPublic)->Seal("123456");
  sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(opener->Open(sealed));
  EXPECT_FALSE(opener->Open("not base64 !"));
  EXPECT_FALSE(opener->Open(""));
  EXPECT_FALSE(SealedBoxSender::FromPublicKeyHex("abcd"));
  EXPECT_FALSE(SealedBoxSender::FromPublicKeyHex(std::string(64, 'z')));
  EXPECT_FALSE(SealedBoxOpener::FromSecretKeyHex(""));
}

}  // namespace
}  // namespace tchat
