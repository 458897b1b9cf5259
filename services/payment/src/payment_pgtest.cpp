// The SQL functions the payment service calls, against live PostgreSQL, driven
// through the store's C++ functions, so that the seam between C++ and PL/pgSQL is
// exercised too: payment_post_transfers (LedgerStore::PostTransfers),
// payment_apply_transfer (LedgerStore::ApplyTransfer), payment_post_entry
// (PostEntry), payment_claim_idempotency_key and payment_settle_idempotency_key
// (ClaimIdempotencyKey, SettleIdempotencyKey), and the ledger checks (Verify). TCHAT_TEST_PG_URL (a
// superuser libpq URI) is required: a scratch database is created per test, migrated with every
// migrations/postgres/tchat_payment/*.up.sql and dropped afterwards.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <tchat/core/async.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/time.hpp>
#include <tchat/core/uuid.hpp>

#include "ledger_store.hpp"
#include "store.hpp"

namespace tchat::payment {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

namespace asio = boost::asio;

// A transfer item as the service renders it: a fresh transfer, entry and event id,
// an event envelope that is valid JSON and a success body naming the transfer.
TransferItem MakeItem(const std::string& from_user, std::int64_t from_account,
                      const std::string& to_user, std::int64_t to_account, std::int64_t amount,
                      const std::string& key) {
  TransferItem it;
  it.transfer.id = NewUuidV7();
  it.transfer.kind = "transfer";
  it.transfer.from_user_id = from_user;
  it.transfer.to_user_id = to_user;
  it.transfer.amount = amount;
  it.transfer.currency = "THB";
  it.transfer.status = "completed";
  it.transfer.created_ms = NowUnixMs();
  it.entry_id = NewUuidV7();
  it.from_account = from_account;
  it.to_account = to_account;
  it.idempotency_key = key;
  it.request_hash = "hash-" + std::to_string(amount) + "-" + to_user;
  it.snapshot = R"({"id":")" + it.transfer.id + R"(","amount":)" + std::to_string(amount) + "}";
  it.event_id = NewUuidV7();
  it.event = R"({"id":")" + it.event_id + R"(","type":"payment.transfer.completed","data":{)" +
             R"("transfer_id":")" + it.transfer.id + R"("}})";
  return it;
}

class PaymentPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_payment_pgtest", TCHAT_SOURCE_DIR, "tchat_payment", 3);
  }
  void TearDown() override { db_.Drop(); }
  pg::PoolOptions PoolOpts() const { return db_.Pool("payment_pgtest"); }

  // Runs body with a store on a fresh io_context until it finishes.
  void Run(const std::function<Task<void>(LedgerStore&)>& body) {
    RunWithPool(PoolOpts(), [&](pg::Pool& pool) -> Task<void> {
      LedgerStore store(pool);
      co_await body(store);
    });
  }

  ScratchDatabase db_;
};

// payment_post_entry in its own transaction, as the provider operations call it.
Task<Result<std::string>> Post(LedgerStore& store, std::int64_t from, std::int64_t to,
                               std::int64_t amount) {
  co_return co_await store.pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<std::string>> {
        co_return co_await PostEntry(c, NewUuidV7(), "topup", NewUuidV7(), from, to, amount, "THB",
                                     NowUnixMs());
      });
}

Task<Result<std::int64_t>> Balance(LedgerStore& store, std::int64_t account) {
  auto r = co_await store.pool().Query("SELECT balance FROM accounts WHERE id = $1", account);
  if (!r) co_return std::move(r).error();
  co_return r->GetInt64(0, 0);
}

Task<Result<std::int64_t>> Count(LedgerStore& store, std::string_view table_sql) {
  auto r = co_await store.pool().Query(table_sql);
  if (!r) co_return std::move(r).error();
  co_return r->GetInt64(0, 0);
}

constexpr std::string_view kCountEntries = "SELECT count(*) FROM journal_entries";
constexpr std::string_view kCountTransfers = "SELECT count(*) FROM transfers";
constexpr std::string_view kCountEvents =
    "SELECT count(*) FROM outbox WHERE type = 'payment.transfer.completed'";

// Funds `account` from the THB clearing account.
Task<Result<std::string>> Fund(LedgerStore& store, std::int64_t account, std::int64_t amount) {
  auto sys = co_await store.System("THB");
  if (!sys) co_return std::move(sys).error();
  co_return co_await Post(store, sys->ClearingFor(NewUuidV7()), account, amount);
}

Task<Result<std::vector<PostOutcome>>> PostBatch(LedgerStore& store,
                                                 const std::vector<TransferItem>& items) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < items.size(); ++i) texts.push_back(TransferItemJson(items[i], i + 1));
  std::vector<const std::string*> ptrs;
  for (const auto& t : texts) ptrs.push_back(&t);
  co_return co_await store.PostTransfers(ptrs);
}

bool VerifyOk(const json::object& v) {
  return v.at("ok").as_bool();
}

TEST_F(PaymentPgTest, PostEntryMovesMoneyAndRefusesAnOverdraft) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    auto funded = co_await Fund(store, *a, 10'000);
    CO_ASSERT_OK(funded);
    EXPECT_EQ(*funded, "ok");
    auto moved = co_await Post(store, *a, *b, 2'500);
    CO_ASSERT_OK(moved);
    EXPECT_EQ(*moved, "ok");
    auto entries = co_await Count(store, kCountEntries);
    CO_ASSERT_OK(entries);
    EXPECT_EQ(*entries, 2);

    // More than alice has: refused, nothing written.
    auto over = co_await Post(store, *a, *b, 7'501);
    CO_ASSERT_OK(over);
    EXPECT_EQ(*over, "insufficient_funds");
    auto ab = co_await Balance(store, *a);
    CO_ASSERT_OK(ab);
    EXPECT_EQ(*ab, 7'500);
    auto bb = co_await Balance(store, *b);
    CO_ASSERT_OK(bb);
    EXPECT_EQ(*bb, 2'500);
    auto after = co_await Count(store, kCountEntries);
    CO_ASSERT_OK(after);
    EXPECT_EQ(*after, *entries);

    // Exactly what is left is allowed: the wallet reaches zero, not below.
    auto all = co_await Post(store, *a, *b, 7'500);
    CO_ASSERT_OK(all);
    EXPECT_EQ(*all, "ok");
    auto v = co_await store.Verify();
    CO_ASSERT_OK(v);
    EXPECT_TRUE(VerifyOk(*v)) << json::serialize(*v);
  });
}

TEST_F(PaymentPgTest, TransferBatchDecidesEachItemAndReplaysKeys) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), carol = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    auto c = co_await store.EnsureWallet(carol, "THB");
    CO_ASSERT_OK(c);
    CO_ASSERT_OK(co_await Fund(store, *a, 1'000));

    // A mixed batch: the second item no longer fits after the first; the third does.
    std::vector<TransferItem> batch = {MakeItem(alice, *a, bob, *b, 600, "k1"),
                                       MakeItem(alice, *a, bob, *b, 600, "k2"),
                                       MakeItem(alice, *a, carol, *c, 300, "k3")};
    auto out = co_await PostBatch(store, batch);
    CO_ASSERT_OK(out);
    EXPECT_EQ((*out)[0].result_code, "ok");
    EXPECT_EQ((*out)[1].result_code, "insufficient_funds");
    EXPECT_EQ((*out)[2].result_code, "ok");
    EXPECT_FALSE((*out)[0].replayed);
    auto ab = co_await Balance(store, *a);
    CO_ASSERT_OK(ab);
    EXPECT_EQ(*ab, 100);
    auto bb = co_await Balance(store, *b);
    CO_ASSERT_OK(bb);
    EXPECT_EQ(*bb, 600);
    auto cb = co_await Balance(store, *c);
    CO_ASSERT_OK(cb);
    EXPECT_EQ(*cb, 300);
    auto transfers = co_await Count(store, kCountTransfers);
    CO_ASSERT_OK(transfers);
    EXPECT_EQ(*transfers, 2);
    auto events = co_await Count(store, kCountEvents);
    CO_ASSERT_OK(events);
    EXPECT_EQ(*events, 2);
    auto ev = co_await store.pool().Query(
        "SELECT payload->>'type', payload->'data'->>'transfer_id' FROM outbox WHERE id = $1::uuid",
        batch[0].event_id);
    CO_ASSERT_OK(ev);
    EXPECT_EQ(ev->Rows(), 1);
    if (ev->Rows() == 1) {
      EXPECT_EQ(ev->GetString(0, 0), "payment.transfer.completed");
      EXPECT_EQ(ev->GetString(0, 1), batch[0].transfer.id);
    }

    // The same keys again: the original answers, no second posting. A fresh
    // transfer id must not leak in: the stored body names the first one.
    std::vector<TransferItem> again = {MakeItem(alice, *a, bob, *b, 600, "k1"),
                                       MakeItem(alice, *a, bob, *b, 600, "k2")};
    auto replay = co_await PostBatch(store, again);
    CO_ASSERT_OK(replay);
    EXPECT_EQ((*replay)[0].result_code, "ok");
    EXPECT_TRUE((*replay)[0].replayed);
    EXPECT_EQ((*replay)[0].snapshot, batch[0].snapshot);
    EXPECT_EQ((*replay)[1].result_code, "insufficient_funds");
    EXPECT_TRUE((*replay)[1].replayed);
    auto ab2 = co_await Balance(store, *a);
    CO_ASSERT_OK(ab2);
    EXPECT_EQ(*ab2, 100);
    auto transfers2 = co_await Count(store, kCountTransfers);
    CO_ASSERT_OK(transfers2);
    EXPECT_EQ(*transfers2, 2);
    auto events2 = co_await Count(store, kCountEvents);
    CO_ASSERT_OK(events2);
    EXPECT_EQ(*events2, 2);

    // The same key for a different request is refused.
    std::vector<TransferItem> reused = {MakeItem(alice, *a, carol, *c, 50, "k1")};
    auto clash = co_await PostBatch(store, reused);
    CO_ASSERT_OK(clash);
    EXPECT_EQ((*clash)[0].result_code, "idempotency_key_reused");
  });
}

TEST_F(PaymentPgTest, VerifyHoldsAfterPostingsAndCatchesADriftedBalance) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    CO_ASSERT_OK(co_await Fund(store, *a, 5'000));
    std::vector<TransferItem> batch = {MakeItem(alice, *a, bob, *b, 1'200, "v1"),
                                       MakeItem(alice, *a, bob, *b, 9'999, "v2"),
                                       MakeItem(bob, *b, alice, *a, 200, "v3")};
    auto out = co_await PostBatch(store, batch);
    CO_ASSERT_OK(out);
    EXPECT_EQ((*out)[1].result_code, "insufficient_funds");

    auto sums = co_await store.pool().Query(
        "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id, currency "
        "HAVING sum(amount) <> 0) s");
    CO_ASSERT_OK(sums);
    EXPECT_EQ(sums->GetInt64(0, 0), 0);
    auto cached = co_await store.pool().Query(
        "SELECT count(*) FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total "
        "FROM postings GROUP BY account_id) p ON p.account_id = a.id "
        "WHERE a.balance <> COALESCE(p.total, 0)");
    CO_ASSERT_OK(cached);
    EXPECT_EQ(cached->GetInt64(0, 0), 0);
    auto v = co_await store.Verify();
    CO_ASSERT_OK(v);
    EXPECT_TRUE(VerifyOk(*v)) << json::serialize(*v);

    // The check can fail: a cached balance that drifts from its postings is caught.
    CO_ASSERT_OK(
        co_await store.pool().Query("UPDATE accounts SET balance = balance + 1 WHERE id = $1", *b));
    auto drifted = co_await store.Verify();
    CO_ASSERT_OK(drifted);
    EXPECT_FALSE(VerifyOk(*drifted));
  });
}

// One Idempotency-Key step in its own transaction.
Task<Result<IdempotencyClaim>> Claim(LedgerStore& store, const std::string& user,
                                     const std::string& key, const std::string& hash) {
  co_return co_await store.pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<IdempotencyClaim>> {
        co_return co_await ClaimIdempotencyKey(c, user, key, hash);
      });
}

// Claims `key` and settles it with `code` and `snapshot` in one transaction.
Task<Result<bool>> ClaimAndSettle(LedgerStore& store, const std::string& user,
                                  const std::string& key, const std::string& code,
                                  const std::string& snapshot,
                                  const std::optional<std::string>& resource) {
  co_return co_await store.pool().Transaction(
      pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
        auto claim = co_await ClaimIdempotencyKey(c, user, key, "hash-1");
        if (!claim) co_return std::move(claim).error();
        if (!claim->claimed) co_return false;
        auto settled = co_await SettleIdempotencyKey(c, user, key, code, snapshot, resource);
        if (!settled) co_return std::move(settled).error();
        co_return true;
      });
}

TEST_F(PaymentPgTest, IdempotencyKeyIsClaimedOnceAndReplaysItsDomainOutcome) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string user = NewUuidV7(), resource = NewUuidV7();
    const std::string snapshot = R"({"id":")" + resource + R"("})";
    auto first = co_await ClaimAndSettle(store, user, "a", "ok", snapshot, resource);
    CO_ASSERT_OK(first);
    EXPECT_TRUE(*first);
    auto stored = co_await store.pool().Query(
        "SELECT result_code, snapshot, resource_id::text FROM idempotency_keys "
        "WHERE user_id = $1 AND key = 'a'",
        user);
    CO_ASSERT_OK(stored);
    CO_ASSERT_TRUE(stored->Rows() == 1);
    EXPECT_EQ(stored->GetString(0, "result_code"), "ok");
    EXPECT_EQ(stored->GetString(0, "resource_id"), resource);

    // The same request again: the stored outcome, byte for byte.
    auto again = co_await Claim(store, user, "a", "hash-1");
    CO_ASSERT_OK(again);
    EXPECT_FALSE(again->claimed);
    EXPECT_EQ(again->result_code, "ok");
    EXPECT_EQ(again->snapshot, snapshot);
    // Another request with the key: refused, nothing stored changes.
    auto other = co_await Claim(store, user, "a", "hash-2");
    CO_ASSERT_OK(other);
    EXPECT_FALSE(other->claimed);
    EXPECT_EQ(other->result_code, "idempotency_key_reused");
    EXPECT_EQ(other->snapshot, "");
    // The same key of another user is another key.
    auto stranger = co_await Claim(store, NewUuidV7(), "a", "hash-2");
    CO_ASSERT_OK(stranger);
    EXPECT_TRUE(stranger->claimed);

    // A domain refusal is stored as its code, without a record.
    auto refused = co_await ClaimAndSettle(store, user, "b", "insufficient_funds", "x", resource);
    CO_ASSERT_OK(refused);
    auto replay = co_await Claim(store, user, "b", "hash-1");
    CO_ASSERT_OK(replay);
    EXPECT_FALSE(replay->claimed);
    EXPECT_EQ(replay->result_code, "insufficient_funds");
    EXPECT_EQ(replay->snapshot, "");

    // A settled key cannot be settled again; a rolled-back claim leaves no key.
    auto twice = co_await store.pool().Transaction(
        pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
          auto s = co_await SettleIdempotencyKey(c, user, "a", "ok", "{}", std::nullopt);
          if (!s) co_return std::move(s).error();
          co_return true;
        });
    EXPECT_FALSE(twice.ok());
    auto rolled_back = co_await store.pool().Transaction(
        pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
          auto claim = co_await ClaimIdempotencyKey(c, user, "c", "hash-1");
          if (!claim) co_return std::move(claim).error();
          co_return Error::InvalidArgument("the request failed after claiming");
        });
    EXPECT_FALSE(rolled_back.ok());
    auto fresh = co_await Claim(store, user, "c", "hash-1");
    CO_ASSERT_OK(fresh);
    EXPECT_TRUE(fresh->claimed);
  });
}

TEST_F(PaymentPgTest, AConcurrentDuplicateWaitsForTheFirstOutcome) {
  Run([&](LedgerStore& store) -> Task<void> {
    const auto ex = co_await asio::this_coro::executor;
    const std::string user = NewUuidV7();
    const std::string snapshot = R"({"first":true})";
    AsyncEvent claimed(ex), finished(ex);
    bool first_ok = false;
    // The first request claims the key and takes its time before settling.
    auto first = [&]() -> Task<void> {
      auto r = co_await store.pool().Transaction(
          pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<bool>> {
            auto claim = co_await ClaimIdempotencyKey(c, user, "dup", "hash-1");
            if (!claim) co_return std::move(claim).error();
            claimed.Set();
            asio::steady_timer pause(ex, std::chrono::milliseconds(300));
            co_await pause.async_wait(asio::use_awaitable);
            auto s = co_await SettleIdempotencyKey(c, user, "dup", "ok", snapshot, std::nullopt);
            if (!s) co_return std::move(s).error();
            co_return claim->claimed;
          });
      first_ok = r.ok() && *r;
      finished.Set();
    };
    asio::co_spawn(ex, first(), asio::detached);
    co_await claimed.Wait();
    const auto start = std::chrono::steady_clock::now();
    auto second = co_await Claim(store, user, "dup", "hash-1");
    const auto waited = std::chrono::steady_clock::now() - start;
    co_await finished.Wait();
    CO_ASSERT_OK(second);
    EXPECT_TRUE(first_ok);
    EXPECT_GE(waited, std::chrono::milliseconds(200));
    EXPECT_FALSE(second->claimed);
    EXPECT_EQ(second->result_code, "ok");
    EXPECT_EQ(second->snapshot, snapshot);
  });
}

TEST_F(PaymentPgTest, ApplyTransferCountsTheDailyLimitAndWritesNothingWhenRefused) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    CO_ASSERT_OK(co_await Fund(store, *a, 5'000));
    auto apply = [&](std::int64_t amount, std::string key) -> Task<Result<std::string>> {
      TransferItem it = MakeItem(alice, *a, bob, *b, amount, key);
      it.daily_limit = 1'000;
      it.monthly_limit = 10'000;
      co_return co_await store.pool().Transaction(
          pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<std::string>> {
            co_return co_await LedgerStore::ApplyTransfer(c, it);
          });
    };
    auto first = co_await apply(600, "d1");
    CO_ASSERT_OK(first);
    EXPECT_EQ(*first, "ok");
    auto second = co_await apply(600, "d2");
    CO_ASSERT_OK(second);
    EXPECT_EQ(*second, "limit_exceeded");
    auto rest = co_await apply(400, "d3");
    CO_ASSERT_OK(rest);
    EXPECT_EQ(*rest, "ok");
    auto ab = co_await Balance(store, *a);
    CO_ASSERT_OK(ab);
    EXPECT_EQ(*ab, 4'000);
    auto transfers = co_await Count(store, kCountTransfers);
    CO_ASSERT_OK(transfers);
    EXPECT_EQ(*transfers, 2);
    auto events = co_await Count(store, kCountEvents);
    CO_ASSERT_OK(events);
    EXPECT_EQ(*events, 2);
  });
}

TEST_F(PaymentPgTest, AnEntryWithLimitsSharesTheTotalsOfTransfers) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    CO_ASSERT_OK(co_await Fund(store, *a, 5'000));
    auto sys = co_await store.System("THB");
    CO_ASSERT_OK(sys);
    const std::int64_t pending = sys->PendingFor(NewUuidV7());
    // A withdrawal hold with the limits, as CreateWithdrawal posts it.
    auto hold = [&](std::int64_t amount) -> Task<Result<std::string>> {
      co_return co_await store.pool().Transaction(
          pg::IsolationLevel::kReadCommitted, [&](pg::Connection& c) -> Task<Result<std::string>> {
            co_return co_await PostEntry(c, NewUuidV7(), "withdrawal", NewUuidV7(), *a, pending,
                                         amount, "THB", NowUnixMs(), OutgoingLimits{1'000, 10'000});
          });
    };
    auto first = co_await hold(700);
    CO_ASSERT_OK(first);
    EXPECT_EQ(*first, "ok");
    // A transfer with the same limits sees the hold in the day's total.
    std::vector<TransferItem> batch = {MakeItem(alice, *a, bob, *b, 400, "w1")};
    batch[0].daily_limit = 1'000;
    batch[0].monthly_limit = 10'000;
    auto out = co_await PostBatch(store, batch);
    CO_ASSERT_OK(out);
    EXPECT_EQ((*out)[0].result_code, "limit_exceeded");
    auto over = co_await hold(301);
    CO_ASSERT_OK(over);
    EXPECT_EQ(*over, "limit_exceeded");
    auto rest = co_await hold(300);
    CO_ASSERT_OK(rest);
    EXPECT_EQ(*rest, "ok");
    auto ab = co_await Balance(store, *a);
    CO_ASSERT_OK(ab);
    EXPECT_EQ(*ab, 4'000);
  });
}

// Account deletion's zero-balance rule (migration 000004): wallets close only empty
// and with nothing pending; a closed wallet takes no money in and its owner gets no
// new wallet; the ledger is untouched and still verifies.
TEST_F(PaymentPgTest, WalletsCloseOnlyEmptyAndThenTakeNoMoney) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    auto a = co_await store.EnsureWallet(alice, "THB");
    CO_ASSERT_OK(a);
    auto b = co_await store.EnsureWallet(bob, "THB");
    CO_ASSERT_OK(b);
    CO_ASSERT_OK(co_await Fund(store, *a, 1'000));

    auto full = co_await store.CloseWallets(alice);
    CO_ASSERT_OK(full);
    EXPECT_EQ(*full, "wallet_not_empty");
    auto entries = co_await Count(store, kCountEntries);
    CO_ASSERT_OK(entries);
    auto moved = co_await Post(store, *a, *b, 1'000);  // still open: alice pays it all out
    CO_ASSERT_OK(moved);
    EXPECT_EQ(*moved, "ok");

    auto closed = co_await store.CloseWallets(alice);
    CO_ASSERT_OK(closed);
    EXPECT_EQ(*closed, "ok");
    auto twice = co_await store.CloseWallets(alice);
    CO_ASSERT_OK(twice);
    EXPECT_EQ(*twice, "ok");

    // Money into the closed wallet: the whole transaction fails, nothing moves.
    auto in = co_await Post(store, *b, *a, 10);
    EXPECT_FALSE(in.ok());
    auto ab = co_await Balance(store, *a);
    CO_ASSERT_OK(ab);
    EXPECT_EQ(*ab, 0);
    auto bb = co_await Balance(store, *b);
    CO_ASSERT_OK(bb);
    EXPECT_EQ(*bb, 1'000);
    // No new wallet for the closed owner, in any currency.
    auto usd = co_await store.EnsureWallet(alice, "USD");
    CO_ASSERT_TRUE(!usd.ok());
    EXPECT_EQ(usd.error().WireCode(), "wallet_closed");
    // The ledger keeps everything and still balances.
    auto after = co_await Count(store, kCountEntries);
    CO_ASSERT_OK(after);
    EXPECT_EQ(*after, *entries + 1);
    auto v = co_await store.Verify();
    CO_ASSERT_OK(v);
    EXPECT_TRUE(VerifyOk(*v)) << json::serialize(*v);
  });
}

TEST_F(PaymentPgTest, WalletsDoNotCloseWhileATopupIsPending) {
  Run([&](LedgerStore& store) -> Task<void> {
    const std::string carol = NewUuidV7();
    auto c = co_await store.EnsureWallet(carol, "THB");
    CO_ASSERT_OK(c);
    const std::string topup = NewUuidV7(), ref = "ref-" + NewUuidV7();
    CO_ASSERT_OK(co_await store.pool().Query(
        "INSERT INTO topups (id, user_id, account_id, amount, currency, method, status, "
        "provider_reference, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3, 500, 'THB', "
        "'promptpay', 'pending', $4, now(), now())",
        topup, carol, *c, ref));
    auto pending = co_await store.CloseWallets(carol);
    CO_ASSERT_OK(pending);
    EXPECT_EQ(*pending, "operation_pending");
    auto open = co_await store.EnsureWallet(carol, "USD");
    EXPECT_TRUE(open.ok()) << "a refused closure changed nothing";
  });
}

// The ledger's append-only tables and the outbox carry their autovacuum settings
// (migration 000005; docs/operations/data-scale.md).
TEST_F(PaymentPgTest, AppendHeavyTablesHaveTheirAutovacuumSettings) {
  Run([&](LedgerStore& store) -> Task<void> {
    auto r = co_await store.pool().Query(
        "SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relkind = 'r' "
        "AND relname IN ('postings', 'journal_entries', 'transfers', 'outbox') ORDER BY relname");
    CO_ASSERT_OK(r);
    CO_ASSERT_TRUE(r->Rows() == 4);
    for (int i = 0; i < r->Rows(); ++i) {
      const std::string name(r->GetString(i, 0)), opts(r->GetString(i, 1));
      const std::vector<std::string> wants =
          name == "outbox" ? std::vector<std::string>{"autovacuum_vacuum_scale_factor=0.01",
                                                      "autovacuum_vacuum_threshold=1000"}
                           : std::vector<std::string>{"autovacuum_vacuum_insert_scale_factor=0.01",
                                                      "autovacuum_vacuum_insert_threshold=100000",
                                                      "autovacuum_analyze_scale_factor=0.01"};
      for (const std::string& want : wants) {
        EXPECT_NE(opts.find(want), std::string::npos) << name << ": " << opts << " lacks " << want;
      }
    }
  });
}

}  // namespace
}  // namespace tchat::payment
