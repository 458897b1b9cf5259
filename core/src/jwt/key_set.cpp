#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/key_set.hpp>

namespace tchat::jwt {

Result<KeySet> KeySet::ParseJwks(std::string_view document) {
  boost::system::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec || !doc.is_object()) return Error::InvalidArgument("JWKS is not a JSON object");
  const auto* keys = doc.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return Error::InvalidArgument("JWKS has no keys array");

  std::vector<PublicJwk> out;
  for (const auto& entry : keys->get_array()) {
    if (!entry.is_object()) return Error::InvalidArgument("JWKS key is not an object");
    const auto& k = entry.get_object();
    if (StringValue(k, "kty") != "OKP" || StringValue(k, "crv") != "Ed25519") continue;
    if (k.contains("use") && StringValue(k, "use") != "sig") continue;
    if (k.contains("alg") && StringValue(k, "alg") != "EdDSA") continue;
    const std::string_view kid = StringValue(k, "kid");
    if (kid.empty()) return Error::InvalidArgument("JWKS Ed25519 key has no kid");
    const auto x = Base64UrlDecode(StringValue(k, "x"));
    if (!x || x->size() != 32) return Error::InvalidArgument("JWKS Ed25519 key has a bad x");
    PublicJwk jwk{std::string(kid), {}};
    std::copy(x->begin(), x->end(), reinterpret_cast<char*>(jwk.key.data()));
    for (const auto& seen : out) {
      if (seen.kid == kid) return Error::InvalidArgument("JWKS has a duplicate kid");
    }
    out.push_back(std::move(jwk));
  }
  if (out.empty()) return Error::InvalidArgument("JWKS has no Ed25519 signing key");
  return KeySet(std::move(out));
}

const Ed25519PublicKey* KeySet::Find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k.key;
  }
  return nullptr;
}

}  // namespace tchat::jwt
