#include "signing_keys.hpp"

#include <ctime>
#include <fstream>
#include <sstream>

#include <sodium.h>

#include <tchat/core/json.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/key_set.hpp>

namespace tchat::auth {

namespace {

// A key source that is simply the service's own key set.
class OwnKeySource final : public jwt::KeySource {
 public:
  explicit OwnKeySource(std::vector<jwt::PublicJwk> keys) {
    Publish(std::make_shared<const jwt::KeySet>(std::move(keys)));
  }
};

Result<jwt::Ed25519KeyPair> ParseKey(const json::value* v, const std::string& name) {
  if (v == nullptr || !v->is_object()) {
    return Error::InvalidArgument("key file: " + name + " must be an object {\"kid\",\"seed\"}");
  }
  const json::object& o = v->as_object();
  const json::value* kid = o.if_contains("kid");
  const json::value* seed = o.if_contains("seed");
  if (kid == nullptr || !kid->is_string() || kid->as_string().empty() ||
      kid->as_string().size() > 64) {
    return Error::InvalidArgument("key file: " + name +
                                  ".kid must be a non-empty string of at most 64 characters");
  }
  if (seed == nullptr || !seed->is_string()) {
    return Error::InvalidArgument("key file: " + name + ".seed must be a string");
  }
  auto kp = jwt::Ed25519KeyPair::FromSeed(std::string(kid->as_string()),
                                          std::string_view(seed->as_string()));
  if (!kp) {
    return Error::InvalidArgument("key file: " + name +
                                  ".seed must be a 32-byte Ed25519 seed in base64url");
  }
  return std::move(*kp);
}

json::object KeyJson(const jwt::Ed25519KeyPair& k) {
  return json::object{{"kid", k.kid()}, {"seed", k.SeedBase64Url()}};
}

}  // namespace

Result<KeyFile> ParseKeyFile(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::InvalidArgument("key file: not a JSON object");
  const json::object& root = v.as_object();
  const json::value* first = nullptr;
  const json::value* second = nullptr;
  std::string first_name = "active", second_name = "previous";
  if (const json::value* keys = root.if_contains("keys")) {
    if (!keys->is_array() || keys->as_array().empty() || keys->as_array().size() > 2) {
      return Error::InvalidArgument(
          "key file: \"keys\" must hold one key, or two during a rotation (the first signs)");
    }
    first = &keys->as_array()[0];
    if (keys->as_array().size() == 2) second = &keys->as_array()[1];
    first_name = "keys[0]";
    second_name = "keys[1]";
  } else {
    first = root.if_contains("active");
    second = root.if_contains("previous");
    if (second != nullptr && second->is_null()) second = nullptr;
  }
  auto active = ParseKey(first, first_name);
  if (!active) return std::move(active).error();
  KeyFile out{std::move(*active), std::nullopt};
  if (second != nullptr) {
    auto prev = ParseKey(second, second_name);
    if (!prev) return std::move(prev).error();
    if (prev->kid() == out.active.kid()) {
      return Error::InvalidArgument("key file: the two keys must have different kids");
    }
    out.previous = std::move(*prev);
  }
  return out;
}

Result<KeyFile> LoadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("config TCHAT_JWT_KEY_FILE: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto r = ParseKeyFile(text);
  sodium_memzero(text.data(), text.size());
  if (!r) {
    return Error::InvalidArgument("config TCHAT_JWT_KEY_FILE (" + path + "): " + r.error().message);
  }
  return r;
}

std::string NewKid() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  unsigned char rnd[4];
  randombytes_buf(rnd, sizeof rnd);
  char hex[9];
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  return std::string("k-") + date + "-" + hex;
}

std::string NewKeyFileJson(const std::optional<jwt::Ed25519KeyPair>& previous) {
  jwt::Ed25519KeyPair active = jwt::Ed25519KeyPair::Generate(NewKid());
  json::array keys{KeyJson(active)};
  if (previous) keys.push_back(KeyJson(*previous));
  return json::serialize(json::object{{"keys", std::move(keys)}}) + "\n";
}

SigningKeys::SigningKeys(KeyFile keys) : signer_(keys.active) {
  auto seed = jwt::Base64UrlDecode(keys.active.SeedBase64Url());
  seed_ = seed.value_or(std::string());
  public_keys_.push_back(keys.active.Public());
  if (keys.previous) public_keys_.push_back(keys.previous->Public());
  jwks_ = jwt::BuildJwks(public_keys_);
  source_ = std::make_shared<OwnKeySource>(public_keys_);
}

SigningKeys::~SigningKeys() {
  sodium_memzero(seed_.data(), seed_.size());
}

std::string SigningKeys::DeriveSecret(std::string_view purpose) const {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
                     reinterpret_cast<const unsigned char*>(seed_.data()), seed_.size());
  return out;
}

}  // namespace tchat::auth
