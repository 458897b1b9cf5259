// tchat-keygen: creates the access-token signing key file and the matching JWKS.
//
//   tchat-keygen KEY_FILE JWKS_FILE [KID]
//
// KEY_FILE gets {"keys":[{"kid","seed"}]} (mode 0600; the first key signs, any
// others only verify during a rotation) and JWKS_FILE the public half
// {"keys":[JWK...]} that services can load with JWKS_FILE before the auth
// service is up. An existing KEY_FILE is kept and only the JWKS is rewritten, so
// running it again never invalidates issued tokens.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <tchat/core/json.hpp>
#include <tchat/core/jwt/jwt_signer.hpp>

namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "tchat-keygen: %s\n", msg.c_str());
  return 1;
}

bool WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << content << '\n';
    if (!out.flush()) return false;
  }
  if (::chmod(tmp.c_str(), mode) != 0) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tchat;
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s KEY_FILE JWKS_FILE [KID]\n", argv[0]);
    return 2;
  }
  const std::string key_path = argv[1];
  const std::string jwks_path = argv[2];

  std::ifstream existing(key_path);
  if (!existing) {
    std::string kid = argc == 4 ? argv[3]
                                : "k" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                           std::chrono::system_clock::now().time_since_epoch())
                                                           .count());
    auto pair = jwt::Ed25519KeyPair::Generate(kid);
    json::object key{{"kid", pair.kid()}, {"seed", pair.SeedBase64Url()}};
    json::object doc{{"keys", json::array{key}}};
    if (!WriteFile(key_path, json::serialize(doc), 0600)) return Fail("cannot write " + key_path);
    existing.open(key_path);
  }
  std::stringstream ss;
  ss << existing.rdbuf();
  auto doc = ParseJsonObject(ss.str());
  if (!doc) return Fail(key_path + ": " + doc.error().message);
  const json::value* keys = doc->if_contains("keys");
  if (keys == nullptr || !keys->is_array() || keys->as_array().empty()) {
    return Fail(key_path + ": expected {\"keys\":[{\"kid\",\"seed\"}...]}");
  }
  std::vector<jwt::PublicJwk> pub;
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) return Fail(key_path + ": keys must be objects");
    auto kid = RequireString(k.as_object(), "kid");
    auto seed = RequireString(k.as_object(), "seed");
    if (!kid || !seed) return Fail(key_path + ": every key needs kid and seed");
    auto pair = jwt::Ed25519KeyPair::FromSeed(*kid, *seed);
    if (!pair) return Fail(key_path + ": " + pair.error().message);
    pub.push_back(pair->Public());
  }
  if (!WriteFile(jwks_path, jwt::BuildJwks(pub), 0644)) return Fail("cannot write " + jwks_path);
  return 0;
}
