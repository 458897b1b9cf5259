#include "password_hasher.hpp"

#include <thread>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sodium.h>

#include <tchat/core/sodium.hpp>

namespace tchat::auth {

namespace asio = boost::asio;

struct PasswordHasher::Pool {
  explicit Pool(std::size_t n) : pool(n) {}
  asio::thread_pool pool;
};

PasswordHasher::PasswordHasher(PasswordHasherOptions options) : options_(options) {
  EnsureSodium();
  const int n = options_.threads > 0
                    ? options_.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<Pool>(static_cast<std::size_t>(n));
  // A real hash with the current parameters, for VerifyDummy.
  auto dummy = HashNow("tchat-dummy-password-for-timing");
  dummy_hash_ = dummy ? *dummy : std::string();
}

PasswordHasher::~PasswordHasher() {
  pool_->pool.join();
}

Result<std::string> PasswordHasher::HashNow(const std::string& password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), options_.opslimit,
                            options_.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::Unavailable("password hashing ran out of memory");
  }
  return std::string(out);
}

bool PasswordHasher::VerifyNow(const std::string& encoded, const std::string& password) const {
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(const std::string& encoded) const {
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), options_.opslimit, options_.memlimit) != 0;
}

template <typename T>
Task<Result<T>> PasswordHasher::Offload(std::function<Result<T>()> fn) {
  if (in_flight_.fetch_add(1) >= options_.max_queue) {
    in_flight_.fetch_sub(1);
    co_return Error::Unavailable("too many password checks in progress; try again shortly");
  }
  auto& pool = pool_->pool;
  auto initiation = [&pool, fn = std::move(fn)](auto handler) mutable {
    // Keep the caller's event loop alive until the answer is back.
    auto caller = asio::prefer(asio::get_associated_executor(handler),
                               asio::execution::outstanding_work.tracked);
    asio::post(pool, [handler = std::move(handler), fn = std::move(fn),
                      caller = std::move(caller)]() mutable {
      Result<T> out = fn();
      asio::post(caller, [handler = std::move(handler), out = std::move(out)]() mutable {
        std::move(handler)(std::move(out));
      });
    });
  };
  Result<T> r = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<T>)>(
      std::move(initiation), asio::use_awaitable);
  in_flight_.fetch_sub(1);
  co_return r;
}

// (The work is built as a named local before the co_await: GCC 12 mishandles
// lambda temporaries with init-captures inside co_await expressions.)
Task<Result<std::string>> PasswordHasher::Hash(std::string password) {
  std::function<Result<std::string>()> work = [this, pw = std::move(password)]() mutable {
    auto h = HashNow(pw);
    sodium_memzero(pw.data(), pw.size());
    return h;
  };
  auto r = co_await Offload<std::string>(std::move(work));
  co_return r;
}

Task<Result<bool>> PasswordHasher::Verify(std::string encoded, std::string password) {
  std::function<Result<bool>()> work = [this, encoded = std::move(encoded),
                                        pw = std::move(password)]() mutable -> Result<bool> {
    const bool ok = VerifyNow(encoded, pw);
    sodium_memzero(pw.data(), pw.size());
    return ok;
  };
  auto r = co_await Offload<bool>(std::move(work));
  co_return r;
}

Task<Status> PasswordHasher::VerifyDummy(std::string password) {
  auto r = co_await Verify(dummy_hash_, std::move(password));
  if (!r) co_return std::move(r).error();
  co_return Ok();
}

}  // namespace tchat::auth
