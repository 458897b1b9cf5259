#include <fstream>
#include <sstream>

#include <tchat/client/token_minter.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/uuid.hpp>

namespace tchat::client {

Result<TokenMinter> TokenMinter::FromKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("cannot read key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = ParseJsonObject(ss.str());
  if (!doc) return Error::InvalidArgument("key file " + path + ": " + doc.error().message);
  const json::value* keys = doc->if_contains("keys");
  if (keys == nullptr || !keys->is_array() || keys->get_array().empty() ||
      !keys->get_array()[0].is_object()) {
    return Error::InvalidArgument("key file " + path + " has no keys");
  }
  const json::object& k = keys->get_array()[0].get_object();
  auto kid = RequireString(k, "kid");
  auto seed = RequireString(k, "seed");
  if (!kid || !seed) return Error::InvalidArgument("key file " + path + ": kid and seed needed");
  auto pair = jwt::Ed25519KeyPair::FromSeed(*kid, *seed);
  if (!pair) return std::move(pair).error();
  return FromKeyPair(*pair);
}

TokenMinter TokenMinter::FromKeyPair(const jwt::Ed25519KeyPair& key) {
  return TokenMinter(std::make_shared<const jwt::JwtSigner>(key));
}

std::string TokenMinter::Mint(const std::string& user_id, std::chrono::seconds ttl,
                              const std::string& session_id) const {
  const auto now = std::chrono::system_clock::now();
  jwt::Claims c;
  c.issuer = "tchat-auth";
  c.audience = "tchat";
  c.subject = user_id;
  c.session_id = session_id.empty() ? NewUuidV7() : session_id;
  c.issued_at = now;
  c.expires_at = now + ttl;
  return signer_->Sign(c);
}

std::string TokenMinter::Jwks() const {
  return jwt::BuildJwks({signer_->Public()});
}

}  // namespace tchat::client
