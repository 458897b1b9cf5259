// Argon2id hashing off the event loop.
#include "password_hasher.hpp"

#include <atomic>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace tchat::auth {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Cheap parameters: the tests check behaviour, not cost.
PasswordHasherOptions Fast() {
  return PasswordHasherOptions{
      .opslimit = 1, .memlimit = 8 * 1024 * 1024, .threads = 2, .max_queue = 8};
}

TEST(PasswordHasher, Argon2idHashVerifiesOnlyTheRightPassword) {
  PasswordHasher h(Fast());
  auto hash = h.HashNow("correct horse battery staple");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(h.VerifyNow(*hash, "correct horse battery staple"));
  EXPECT_FALSE(h.VerifyNow(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(h.VerifyNow("", "x"));
  EXPECT_FALSE(h.VerifyNow("$argon2id$garbage", "x"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash, *h.HashNow("correct horse battery staple"));
  EXPECT_FALSE(h.NeedsRehash(*hash));
  PasswordHasher stronger(
      PasswordHasherOptions{.opslimit = 2, .memlimit = 8 * 1024 * 1024, .threads = 1});
  EXPECT_TRUE(stronger.NeedsRehash(*hash));
}

TEST(PasswordHasher, RunsOffTheLoopAndResumesOnIt) {
  PasswordHasher h(Fast());
  asio::io_context io;
  const auto loop_thread = std::this_thread::get_id();
  int ticks = 0;
  bool done = false;
  // A ticker proves the loop keeps running while hashes are computed.
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        asio::steady_timer t(io);
        while (!done) {
          t.expires_after(1ms);
          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          ++ticks;
        }
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        for (int i = 0; i < 3; ++i) {
          auto hash = co_await h.Hash("a long enough password");
          EXPECT_TRUE(hash.ok());
          EXPECT_EQ(std::this_thread::get_id(), loop_thread);
          auto ok = co_await h.Verify(*hash, "a long enough password");
          EXPECT_TRUE(ok.ok() && *ok);
          auto bad = co_await h.Verify(*hash, "another password");
          EXPECT_TRUE(bad.ok() && !*bad);
          EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        }
        EXPECT_TRUE((co_await h.VerifyDummy("whatever password")).ok());
        done = true;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(done);
  EXPECT_GT(ticks, 3) << "the event loop was blocked while hashing";
}

TEST(PasswordHasher, RefusesWhenTooManyAreQueued) {
  PasswordHasher h(PasswordHasherOptions{
      .opslimit = 1, .memlimit = 8 * 1024 * 1024, .threads = 1, .max_queue = 2});
  asio::io_context io;
  int ok = 0, refused = 0, finished = 0;
  for (int i = 0; i < 6; ++i) {
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          auto r = co_await h.Hash("a long enough password");
          if (r.ok()) {
            ++ok;
          } else {
            EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
            ++refused;
          }
          ++finished;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(finished, 6);
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(refused, 4);
}

}  // namespace
}  // namespace tchat::auth
