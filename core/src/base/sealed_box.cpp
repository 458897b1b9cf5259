#include <sodium.h>

#include <tchat/core/sealed_box.hpp>
#include <tchat/core/sodium.hpp>

namespace tchat {

namespace {

bool ParseKeyHex(std::string_view hex, std::array<unsigned char, 32>& out) {
  if (hex.size() != 64) return false;
  std::size_t len = 0;
  const char* end = nullptr;
  return sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) == 0 &&
         len == out.size() && end == hex.data() + hex.size();
}

}  // namespace

Result<SealedBoxSender> SealedBoxSender::FromPublicKeyHex(std::string_view hex) {
  EnsureSodium();
  SealedBoxSender s;
  if (!ParseKeyHex(hex, s.public_key_)) {
    return Error::InvalidArgument("a sealed-box public key must be 64 hex digits");
  }
  return s;
}

std::string SealedBoxSender::Seal(std::string_view plaintext) const {
  std::string sealed(plaintext.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(sealed.data()),
                  reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                  public_key_.data());
  std::string b64(sodium_base64_ENCODED_LEN(sealed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(sealed.data()),
                    sealed.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::char_traits<char>::length(b64.c_str()));
  return b64;
}

Result<SealedBoxOpener> SealedBoxOpener::FromSecretKeyHex(std::string_view hex) {
  EnsureSodium();
  SealedBoxOpener o;
  if (!ParseKeyHex(hex, o.secret_key_)) {
    return Error::InvalidArgument("a sealed-box secret key must be 64 hex digits");
  }
  crypto_scalarmult_base(o.public_key_.data(), o.secret_key_.data());
  return o;
}

SealedBoxOpener::~SealedBoxOpener() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

Result<std::string> SealedBoxOpener::Open(std::string_view sealed_base64) const {
  std::string sealed(sealed_base64.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(sealed.data()), sealed.size(),
                        sealed_base64.data(), sealed_base64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len < crypto_box_SEALBYTES) {
    return Error::InvalidArgument("sealed value is not base64 of a sealed box");
  }
  std::string plain(len - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), len,
                           public_key_.data(), secret_key_.data()) != 0) {
    return Error::InvalidArgument("sealed value does not open with this key");
  }
  return plain;
}

std::string SealedBoxOpener::PublicKeyHex() const {
  std::string hex(public_key_.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), public_key_.data(), public_key_.size());
  hex.pop_back();
  return hex;
}

}  // namespace tchat
