#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <sodium.h>

#include <tchat/core/json.hpp>
#include <tchat/core/jwt/base64url.hpp>
#include <tchat/core/jwt/token_verifier.hpp>
#include <tchat/core/sodium.hpp>
#include <tchat/core/time.hpp>

namespace tchat::jwt {

namespace {

using SysClock = std::chrono::system_clock;
using CacheKey = std::array<std::uint8_t, 16>;

struct CacheKeyHash {
  std::size_t operator()(const CacheKey& k) const {
    std::size_t h;  // the key is already a keyed hash: any 8 bytes will do
    std::memcpy(&h, k.data(), sizeof h);
    return h;
  }
};

// A verified token's time claims, in Unix seconds.
struct TokenTimes {
  std::int64_t iat = 0;
  std::optional<std::int64_t> nbf;
  std::int64_t exp = 0;
};

struct Verified {
  Principal principal;
  TokenTimes times;
};

Error Unauth(const char* reason) {
  return Error::Unauthenticated(reason);
}

Status CheckTimes(const TokenTimes& t, std::int64_t now, std::int64_t leeway) {
  if (now >= t.exp + leeway) return Unauth("token expired");
  if (t.iat > now + leeway) return Unauth("token issued in the future");
  if (t.nbf && *t.nbf > now + leeway) return Unauth("token not yet valid");
  return Ok();
}

std::optional<json::object> DecodeJsonObject(std::string_view b64) {
  auto text = Base64UrlDecode(b64);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string_view StringClaim(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::optional<std::int64_t> IntClaim(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

bool AudienceMatches(const json::object& claims, std::string_view audience) {
  const auto* aud = claims.if_contains("aud");
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == audience;
  if (!aud->is_array()) return false;
  for (const auto& a : aud->get_array()) {
    if (a.is_string() && a.get_string() == audience) return true;
  }
  return false;
}

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// The full check, without the cache.
Result<Verified> VerifySignedToken(std::string_view token, KeySource& keys,
                                   const VerifierOptions& options, std::int64_t now) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauth("malformed token");
  }
  const auto header = DecodeJsonObject(token.substr(0, dot1));
  if (!header) return Unauth("malformed token");
  // Only EdDSA, whatever the token claims: "none" and HMAC with the public key as
  // secret (alg confusion) fail here.
  if (StringClaim(*header, "alg") != "EdDSA") return Unauth("unsupported token algorithm");
  if (header->contains("crit")) return Unauth("unsupported critical header");
  if (header->contains("typ") && !IEquals(StringClaim(*header, "typ"), "JWT")) {
    return Unauth("unsupported token type");
  }
  const std::string_view kid = StringClaim(*header, "kid");
  if (kid.empty()) return Unauth("token has no key id");

  const auto set = keys.Current();
  const Ed25519PublicKey* key = set ? set->Find(kid) : nullptr;
  if (set == nullptr) return Unauth("no token keys available");  // the source retries anyway
  if (key == nullptr) {
    keys.OnUnknownKid();
    return Unauth("unknown token key id");
  }
  const auto sig = Base64UrlDecode(token.substr(dot2 + 1));
  if (!sig || sig->size() != crypto_sign_BYTES) return Unauth("malformed token");
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(token.data()), dot2,
                                  key->data()) != 0) {
    return Unauth("invalid token signature");
  }

  const auto claims = DecodeJsonObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return Unauth("malformed token");
  if (StringClaim(*claims, "iss") != options.issuer) return Unauth("invalid token issuer");
  if (!AudienceMatches(*claims, options.audience)) return Unauth("invalid token audience");
  Verified v;
  v.principal.user_id = StringClaim(*claims, "sub");
  v.principal.session_id = StringClaim(*claims, "sid");
  if (v.principal.user_id.empty()) return Unauth("token has no subject");
  if (v.principal.session_id.empty()) return Unauth("token has no session");
  const auto exp = IntClaim(*claims, "exp");
  const auto iat = IntClaim(*claims, "iat");
  if (!exp || !iat || *exp <= *iat) return Unauth("token has bad time claims");
  v.times = {*iat, std::nullopt, *exp};
  if (claims->contains("nbf")) {
    v.times.nbf = IntClaim(*claims, "nbf");
    if (!v.times.nbf) return Unauth("token has bad time claims");
  }
  if (auto st = CheckTimes(v.times, now, options.leeway.count()); !st) return std::move(st).error();
  v.principal.expires_at = SysClock::time_point(std::chrono::seconds(*exp));
  return v;
}

}  // namespace

// Verified tokens by keyed hash, sharded to keep worker threads off each other's
// locks. Entries remember the key-set generation they were verified under.
class TokenVerifier::Cache {
 public:
  struct Entry {
    Verified verified;
    std::uint64_t generation = 0;
  };

  explicit Cache(std::size_t capacity)
      : per_shard_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / kShards)) {
    randombytes_buf(key_.data(), key_.size());
  }

  bool enabled() const { return per_shard_ != 0; }

  CacheKey Hash(std::string_view token) const {
    CacheKey k;
    crypto_generichash(k.data(), k.size(), reinterpret_cast<const unsigned char*>(token.data()),
                       token.size(), key_.data(), key_.size());
    return k;
  }

  std::optional<Entry> Find(const CacheKey& k) {
    Shard& s = ShardFor(k);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(k);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  void Insert(const CacheKey& k, Entry e, std::int64_t now) {
    Shard& s = ShardFor(k);
    std::lock_guard lock(s.mu);
    if (s.map.size() >= per_shard_ && !s.map.contains(k)) {
      if (now != s.last_sweep) {  // expired entries first, at most once a second
        s.last_sweep = now;
        std::erase_if(s.map, [&](const auto& kv) { return kv.second.verified.times.exp < now; });
      }
      if (s.map.size() >= per_shard_) s.map.erase(s.map.begin());
    }
    s.map.insert_or_assign(k, std::move(e));
  }

  void Erase(const CacheKey& k) {
    Shard& s = ShardFor(k);
    std::lock_guard lock(s.mu);
    s.map.erase(k);
  }

  std::size_t Size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.map.size();
    }
    return n;
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<CacheKey, Entry, CacheKeyHash> map;
    std::int64_t last_sweep = 0;
  };
  Shard& ShardFor(const CacheKey& k) { return shards_[k[15] % kShards]; }

  std::size_t per_shard_;
  std::array<std::uint8_t, crypto_generichash_KEYBYTES> key_;
  std::array<Shard, kShards> shards_;
};

TokenVerifier::TokenVerifier(std::shared_ptr<KeySource> keys, VerifierOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {
  EnsureSodium();
  cache_ = std::make_unique<Cache>(options_.cache_capacity);
}

TokenVerifier::~TokenVerifier() = default;

Result<Principal> TokenVerifier::Verify(std::string_view token, SysClock::time_point now_tp) const {
  const std::int64_t now = UnixSeconds(now_tp);
  if (token.empty() || token.size() > options_.max_token_bytes) return Unauth("malformed token");
  // Read the generation before the key set (see KeySource::Publish): an entry is
  // never tagged newer than the keys that verified it.
  const std::uint64_t generation = keys_->Generation();
  CacheKey ck{};
  if (cache_->enabled()) {
    ck = cache_->Hash(token);
    if (auto hit = cache_->Find(ck); hit && hit->generation == generation) {
      if (auto st = CheckTimes(hit->verified.times, now, options_.leeway.count()); !st) {
        cache_->Erase(ck);
        return std::move(st).error();
      }
      return std::move(hit->verified.principal);
    }
  }
  auto verified = VerifySignedToken(token, *keys_, options_, now);
  if (!verified) return std::move(verified).error();
  if (cache_->enabled()) cache_->Insert(ck, {*verified, generation}, now);
  return std::move(verified->principal);
}

std::size_t TokenVerifier::CachedTokens() const {
  return cache_->Size();
}

}  // namespace tchat::jwt
