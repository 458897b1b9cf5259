#include <fstream>
#include <sstream>

#include <tchat/core/jwt/key_source.hpp>

namespace tchat::jwt {

StaticKeySource::StaticKeySource(KeySet keys) {
  Publish(std::make_shared<const KeySet>(std::move(keys)));
}

Result<std::shared_ptr<StaticKeySource>> StaticKeySource::FromJwks(std::string_view document) {
  auto set = KeySet::ParseJwks(document);
  if (!set) return std::move(set).error();
  return std::make_shared<StaticKeySource>(std::move(*set));
}

Result<std::shared_ptr<StaticKeySource>> StaticKeySource::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::InvalidArgument("cannot read JWKS file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto source = FromJwks(text.str());
  if (!source) return Error::InvalidArgument("JWKS file " + path + ": " + source.error().message);
  return source;
}

}  // namespace tchat::jwt
