// UUIDs and random hex: layout, order, canonical form, fork safety.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tchat/core/uuid.hpp>

namespace tchat {
namespace {

using namespace std::chrono_literals;

TEST(UuidV7, CanonicalLayoutVersionAndVariant) {
  const auto now = std::chrono::system_clock::time_point(1'700'000'000'123ms);
  const std::string id = NewUuidV7(now);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(IsUuid(id));
  EXPECT_EQ(id[14], '7') << id;                                          // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  EXPECT_EQ(UuidV7Millis(id), 1'700'000'000'123);
  // 1700000000123 = 0x018bcfe5687b
  EXPECT_EQ(id.substr(0, 13), "018bcfe5-687b");
}

TEST(UuidV7, StrictlyIncreasingWithinOneMillisecondAndWhenTheClockStepsBack) {
  const auto t = std::chrono::system_clock::time_point(1'800'000'000'000ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(NewUuidV7(t));  // forces counter overflow
  ids.push_back(NewUuidV7(t - 5s));
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
}

TEST(UuidV7, UniqueAcrossThreads) {
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::vector<std::string>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out, t] {
      for (int i = 0; i < kEach; ++i) out[static_cast<std::size_t>(t)].push_back(NewUuidV7());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(UuidV7, ForkedChildDoesNotRepeatItsParentsRandomBits) {
  (void)NewUuidV7();  // the parent now holds buffered random bytes
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string id = NewUuidV7();
    const auto n = ::write(fds[1], id.data(), id.size());
    ::_exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = NewUuidV7();
  std::string theirs(36, '\0');
  ASSERT_EQ(::read(fds[0], theirs.data(), theirs.size()), 36);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // The last 16 hex digits are random (after the variant bits).
  EXPECT_NE(mine.substr(20), theirs.substr(20)) << mine << " " << theirs;
}

TEST(UuidV7, IsUuidRejectsMalformedText) {
  EXPECT_TRUE(IsUuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(IsUuid("0190B4C2-7A1E-7C3D-9F0A-0123456789AB"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0190b4c27a1e7c3d9f0a0123456789ab"));
  EXPECT_FALSE(IsUuid("0190b4c2-7a1e-7c3d-9f0a-0123456789ag"));
  EXPECT_FALSE(IsUuid("0190b4c2-7a1e-7c3d-9f0a-0123456789abc"));
  EXPECT_FALSE(IsUuid("'; DROP TABLE users; --'''''''''''''''"));
  EXPECT_EQ(UuidV7Millis("00000000-0000-4000-8000-000000000000"), -1);  // v4
}

TEST(UuidV7, AtCarriesExactlyTheGivenMillisecond) {
  const auto t = std::chrono::system_clock::time_point(1'700'000'000'123'456us);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuidV7At(t);
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    ASSERT_EQ(UuidV7Millis(id), 1'700'000'000'123) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // Unlike NewUuidV7, an earlier time after a later one keeps its own time.
  (void)NewUuidV7At(t + 1h);
  EXPECT_EQ(UuidV7Millis(NewUuidV7At(t)), 1'700'000'000'123);
}

TEST(Uuid, CanonicalFormIsLowerCase) {
  EXPECT_EQ(CanonicalUuid("0190B4C2-7A1E-7C3D-9F0A-0123456789AB"),
            "0190b4c2-7a1e-7c3d-9f0a-0123456789ab");
  const std::string id = NewUuidV7();
  EXPECT_EQ(CanonicalUuid(id), id);
  for (const char* bad :
       {"", "0190b4c2-7a1e-7c3d-9f0a-0123456789a", "0190b4c27a1e7c3d9f0a000000000001",
        "0190b4c2x7a1e-7c3d-9f0a-0123456789ab", "g190b4c2-7a1e-7c3d-9f0a-0123456789ab",
        "' OR 1=1 --"}) {
    EXPECT_EQ(CanonicalUuid(bad), std::nullopt) << bad;
  }
}

TEST(RandomHex, LengthAlphabetAndFreshness) {
  EXPECT_EQ(RandomHex(0), "");
  for (std::size_t n : {1u, 8u, 16u, 31u, 32u, 33u, 100u}) {
    const std::string h = RandomHex(n);
    ASSERT_EQ(h.size(), 2 * n);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  }
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

}  // namespace
}  // namespace tchat
