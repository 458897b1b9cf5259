#include <chrono>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tchat/client/webhook_signer.hpp>

namespace tchat::client {

std::string SignWebhook(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string payload = std::to_string(unix_seconds) + "." + std::string(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  std::string out = "t=" + std::to_string(unix_seconds) + ",v1=";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tchat::client
