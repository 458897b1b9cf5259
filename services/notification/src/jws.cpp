#include "jws.hpp"

#include <memory>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <tchat/core/jwt/base64url.hpp>

namespace tchat::notification {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

}  // namespace

Result<std::string> SignJws(JwsAlg alg, const json::object& header, const json::object& claims,
                            std::string_view pem) {
  const std::string input =
      jwt::Base64UrlEncode(ToJson(header)) + "." + jwt::Base64UrlEncode(ToJson(claims));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error::Internal("out of memory");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Error::InvalidArgument("private key is not a readable PEM key");
  const int type = EVP_PKEY_base_id(key.get());
  if (alg == JwsAlg::kRs256 && type != EVP_PKEY_RSA) {
    return Error::InvalidArgument("RS256 needs an RSA key");
  }
  if (alg == JwsAlg::kEs256 && type != EVP_PKEY_EC) {
    return Error::InvalidArgument("ES256 needs an EC P-256 key");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return Error::Internal("signing set-up failed");
  }
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return Error::Internal("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     input.size()) != 1) {
    return Error::Internal("signing failed");
  }
  sig.resize(len);
  if (alg == JwsAlg::kEs256) {
    // DER ECDSA-Sig-Value → fixed 32-byte r || s.
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, SigFree> es(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!es) return Error::Internal("bad ECDSA signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(es.get(), &r, &s);
    std::string raw(64, '\0');
    if (BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32) != 32 ||
        BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) != 32) {
      return Error::InvalidArgument("ES256 needs a P-256 key");
    }
    sig = std::move(raw);
  }
  return input + "." + jwt::Base64UrlEncode(sig);
}

}  // namespace tchat::notification
