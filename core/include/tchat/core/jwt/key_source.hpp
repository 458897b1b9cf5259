#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <tchat/core/jwt/key_set.hpp>
#include <tchat/core/result.hpp>

namespace tchat::jwt {

// Where a TokenVerifier gets its keys: the pluggable part that lets services run
// before the auth service exists (StaticKeySource) and with it (HttpJwksKeySource).
// Implementations call Publish() whenever their set changes; readers on any thread
// see the swap atomically.
class KeySource {
 public:
  virtual ~KeySource() = default;

  // The current set; null before the first successful load. Thread-safe.
  std::shared_ptr<const KeySet> Current() const { return keys_.load(std::memory_order_acquire); }
  // Changes whenever Current() does; lets caches notice a rotation with one
  // atomic load. Thread-safe.
  std::uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }

  // A token named a kid that Current() lacks. A source that can refresh should do
  // so soon (rate-limited); must not block. Any thread.
  virtual void OnUnknownKid() {}

 protected:
  // Replaces the set and bumps the generation (in that order, so that a reader
  // that sees generation G then loads the set gets a set at least as new as G).
  void Publish(std::shared_ptr<const KeySet> keys) {
    keys_.store(std::move(keys), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::shared_ptr<const KeySet>> keys_;
  std::atomic<std::uint64_t> generation_{0};
};

// A fixed key set from a JWKS document or file. Never changes.
class StaticKeySource final : public KeySource {
 public:
  explicit StaticKeySource(KeySet keys);
  static Result<std::shared_ptr<StaticKeySource>> FromJwks(std::string_view document);
  // kInvalidArgument naming the path if it cannot be read or parsed.
  static Result<std::shared_ptr<StaticKeySource>> FromFile(const std::string& path);
};

}  // namespace tchat::jwt
