#pragma once

#include <array>
#include <string>
#include <string_view>

#include <tchat/core/result.hpp>

// Anonymous public-key encryption (libsodium sealed boxes: X25519 +
// XSalsa20-Poly1305): a sender that holds only the recipient's public key seals a
// secret that only the holder of the private key can open. Used to carry OTP
// codes from auth to notification without writing them readable at rest.
// Keys are 32 bytes written as 64 hex digits (a raw X25519 key, as
// `openssl genpkey -algorithm X25519` makes); sealed values are standard base64.
// Both classes are immutable after construction; any thread.
namespace tchat {

class SealedBoxSender {
 public:
  // kInvalidArgument unless `public_key_hex` is 64 hex digits.
  static Result<SealedBoxSender> FromPublicKeyHex(std::string_view public_key_hex);

  // A fresh sealed box of `plaintext` (different each call) in base64.
  std::string Seal(std::string_view plaintext) const;

 private:
  std::array<unsigned char, 32> public_key_{};
};

class SealedBoxOpener {
 public:
  // kInvalidArgument unless `secret_key_hex` is 64 hex digits; the public key is
  // derived from it.
  static Result<SealedBoxOpener> FromSecretKeyHex(std::string_view secret_key_hex);
  SealedBoxOpener(const SealedBoxOpener& other) = default;
  SealedBoxOpener& operator=(const SealedBoxOpener& other) = default;
  ~SealedBoxOpener();

  // The plaintext, or kInvalidArgument when `sealed_base64` is not base64 or
  // was not sealed to this key (or was altered).
  Result<std::string> Open(std::string_view sealed_base64) const;
  // The matching public key in hex (what senders are configured with).
  std::string PublicKeyHex() const;

 private:
  SealedBoxOpener() = default;
  std::array<unsigned char, 32> public_key_{};
  std::array<unsigned char, 32> secret_key_{};
};

}  // namespace tchat
