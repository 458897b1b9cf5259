#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "ledger_store.hpp"

namespace tchat {
template <typename Item, typename Outcome>
class GroupCommit;
}

namespace tchat::payment {

// Group commit for transfers (a tchat::GroupCommit, see group_commit.hpp), one per
// process. Transfers submitted on any worker are handed to the batcher's home
// worker (worker 0) and posted to PostgreSQL in batches: one transaction, one
// round trip and one WAL flush for many transfers.
//
// Batches are formed around the accounts they lock. A queued transfer can go unless
// one of its accounts belongs to a batch still in flight (it would only wait for
// that batch's row locks and commit); then it waits and goes with the next batch
// that can take it. A new batch starts at once when none is running (so a lone
// transfer never waits), and otherwise once min_fill transfers are ready (a batch
// has a fixed cost: small ones are not worth starting while others run) — up to
// max_inflight side by side. When nothing runs but the last batch was large, the
// batcher lingers (at most `linger`) until most (3/4) of that batch's clients have
// sent their next transfers, instead of starting a small batch the others would
// queue behind. So with accounts spread out several batches run concurrently,
// while transfers on a hot account (a popular merchant, a shared wallet) gather
// behind the batch holding it and commit together in the next one: one lock
// acquisition and one commit for many of them instead of one each, in a
// consistent order, with no deadlocks.
//
// Failure handling: a deadlock or serialization failure retries the batch; a lost
// connection retries it once (every item carries its idempotency key, so a batch
// that did commit answers with replays); any other error retries the items one by
// one so that one bad item fails alone.
//
// Threading: Submit may be called from a coroutine on any worker.
class TransferBatcher {
 public:
  // `store` belongs to the home worker, whose executor is `home`.
  TransferBatcher(boost::asio::any_io_executor home, std::shared_ptr<LedgerStore> store,
                  int max_size, int max_inflight, int min_fill, std::chrono::microseconds linger);
  ~TransferBatcher();
  TransferBatcher(const TransferBatcher&) = delete;
  TransferBatcher& operator=(const TransferBatcher&) = delete;

  // Posts one transfer (with its idempotency key) and returns the database's answer
  // for it, on the caller's executor.
  Task<Result<PostOutcome>> Submit(TransferItem item);

 private:
  using Commits = GroupCommit<TransferItem, PostOutcome>;
  // The batch function: on the home worker, with `store`.
  static Task<Result<std::vector<PostOutcome>>> Post(std::shared_ptr<LedgerStore> store,
                                                     std::span<TransferItem> batch);

  std::shared_ptr<Commits> commits_;
};

}  // namespace tchat::payment
