#pragma once

#include <string_view>
#include <vector>

#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/result.hpp>

namespace tchat::jwt {

// The Ed25519 verification keys of a JWKS, by kid. Immutable once built and
// shared read-only between threads.
class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<PublicJwk> keys) : keys_(std::move(keys)) {}

  // Parses a JWKS document. Keys of other types (RSA, EC, X25519, "use":"enc",
  // another "alg") are skipped; an OKP/Ed25519 key without a kid or with a bad "x",
  // duplicate kids, or a document with no usable key are kInvalidArgument.
  static Result<KeySet> ParseJwks(std::string_view document);

  // The key with this kid, or nullptr.
  const Ed25519PublicKey* Find(std::string_view kid) const;
  const std::vector<PublicJwk>& keys() const { return keys_; }
  bool operator==(const KeySet&) const = default;

 private:
  std::vector<PublicJwk> keys_;  // a handful: linear search beats hashing
};

}  // namespace tchat::jwt
