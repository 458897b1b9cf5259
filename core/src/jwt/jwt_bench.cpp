// Access-token verifications per second on one thread: the cached path (a token
// seen before) and the full Ed25519 check. Target: >= 50,000/s cached per core.
#include <benchmark/benchmark.h>

#include <tchat/core/jwt/jwt_signer.hpp>
#include <tchat/core/jwt/key_source.hpp>
#include <tchat/core/jwt/token_verifier.hpp>

namespace tchat::jwt {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  Ed25519KeyPair key = Ed25519KeyPair::Generate("bench");
  std::shared_ptr<StaticKeySource> source =
      std::make_shared<StaticKeySource>(KeySet({key.Public()}));
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::vector<std::string> tokens;

  explicit Fixture(int n) {
    JwtSigner signer(key);
    for (int i = 0; i < n; ++i) {
      tokens.push_back(signer.Sign({"tchat-auth", "tchat",
                                    "0190c1a2-7b3e-7def-8a12-" + std::to_string(100000000000 + i),
                                    "0190c1a2-7b3e-7def-8a12-000000000001", now, now + 900s}));
    }
  }
};

void BM_VerifyCached(benchmark::State& state) {
  Fixture f(1000);
  TokenVerifier verifier(f.source, {});
  for (const auto& t : f.tokens) (void)verifier.Verify(t, f.now);
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = verifier.Verify(f.tokens[i++ % f.tokens.size()], f.now);
    if (!r.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyCached);

void BM_VerifyUncached(benchmark::State& state) {
  Fixture f(100);
  TokenVerifier verifier(f.source, {.cache_capacity = 0});
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = verifier.Verify(f.tokens[i++ % f.tokens.size()], f.now);
    if (!r.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyUncached);

void BM_Sign(benchmark::State& state) {
  Fixture f(0);
  JwtSigner signer(f.key);
  for (auto _ : state) {
    benchmark::DoNotOptimize(signer.Sign({"tchat-auth", "tchat", "u", "s", f.now, f.now + 900s}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign);

}  // namespace
}  // namespace tchat::jwt
