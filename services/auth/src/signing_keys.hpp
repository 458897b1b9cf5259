#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/result.hpp>

namespace tchat::auth {

// The auth service's Ed25519 keys: the active one signs access tokens; the
// previous one (during a rotation) is still published so that tokens it signed
// keep verifying until they expire.
//
// Key file (TCHAT_JWT_KEY_FILE), the project's format — the same one
// tools/keygen (tchat-keygen) writes and the test token minters read:
//   {"keys":[{"kid":"k-20260131-3f9a","seed":"<32-byte seed, base64url>"},
//            {"kid":...,"seed":...}]}      // first signs; a second = previous
// `tchat-auth --generate-key` prints one, `--rotate-key FILE` prints FILE with a
// new first key and FILE's first key second. Also accepted:
//   {"active":{"kid","seed"},"previous":{"kid","seed"}}   // previous optional
struct KeyFile {
  jwt::Ed25519KeyPair active;
  std::optional<jwt::Ed25519KeyPair> previous;
};

// Parses a key file's text. Errors are kInvalidArgument and never quote a seed.
Result<KeyFile> ParseKeyFile(std::string_view text);
// Reads and parses; the error names the path.
Result<KeyFile> LoadKeyFile(const std::string& path);
// A key file with a fresh random active key and, when given, `previous` as the
// previous key (rotation: pass the old file's active key).
std::string NewKeyFileJson(const std::optional<jwt::Ed25519KeyPair>& previous);
// A fresh key id: "k-YYYYMMDD-<8 hex>".
std::string NewKid();

// Immutable after construction and shared by every worker thread: signs tokens,
// serves the JWKS document, and verifies auth's own tokens through the shared
// jwt::TokenVerifier (with a key source that is this very key set).
class SigningKeys {
 public:
  explicit SigningKeys(KeyFile keys);
  ~SigningKeys();
  SigningKeys(const SigningKeys&) = delete;
  SigningKeys& operator=(const SigningKeys&) = delete;

  const jwt::JwtSigner& signer() const { return signer_; }
  // {"keys":[active, previous?]}
  const std::string& jwks() const { return jwks_; }
  std::vector<jwt::PublicJwk> public_keys() const { return public_keys_; }
  std::shared_ptr<jwt::KeySource> key_source() const { return source_; }
  // 32 bytes derived from the active key for `purpose` (keyed BLAKE2b), so that
  // replicas sharing the key file derive the same secret.
  std::string DeriveSecret(std::string_view purpose) const;

 private:
  jwt::JwtSigner signer_;
  std::string seed_;  // active seed (raw bytes), for DeriveSecret
  std::vector<jwt::PublicJwk> public_keys_;
  std::string jwks_;
  std::shared_ptr<jwt::KeySource> source_;
};

}  // namespace tchat::auth
