#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

#include "ledger_store.hpp"

namespace tchat::payment {

// Group commit for transfers, one per process. Transfers submitted on any worker
// are handed to the batcher's home worker (worker 0) and posted to PostgreSQL in
// batches: one transaction, one round trip and one WAL flush for many transfers.
//
// Batches are formed around the accounts they lock. A queued transfer can go unless
// one of its accounts belongs to a batch still in flight (it would only wait for
// that batch's row locks and commit); then it waits and goes with the next batch
// that can take it. A new batch starts at once when none is running (so a lone
// transfer never waits), and otherwise once min_fill transfers are ready (a batch
// has a fixed cost: small ones are not worth starting while others run) — up to
// max_inflight side by side. When nothing runs but the last batch was large, the
// batcher lingers (at most `linger`) until most of that batch's clients have sent
// their next transfers, instead of starting a small batch the others would queue
// behind. So with accounts
// spread out several batches run concurrently, while transfers on a hot account (a popular
// merchant, a shared wallet) gather behind the batch holding it and commit together in the next
// one: one lock acquisition and one commit for many of them instead of one each, in a consistent
// order, with no deadlocks.
//
// Failure handling: a deadlock or serialization failure retries the batch; a lost
// connection retries it once (every item carries its idempotency key, so a batch
// that did commit answers with replays); any other error retries the items one by
// one so that one bad item fails alone.
//
// Threading: Submit may be called from a coroutine on any worker; everything else
// runs on the home executor. Shared ownership keeps it alive while batches run.
class TransferBatcher : public std::enable_shared_from_this<TransferBatcher> {
 public:
  // `store` belongs to the home worker, whose executor is `home`.
  TransferBatcher(boost::asio::any_io_executor home, std::shared_ptr<LedgerStore> store,
                  int max_size, int max_inflight, int min_fill, std::chrono::microseconds linger);
  TransferBatcher(const TransferBatcher&) = delete;
  TransferBatcher& operator=(const TransferBatcher&) = delete;

  // Posts one transfer (with its idempotency key) and returns the database's answer
  // for it, on the caller's executor.
  Task<Result<PostOutcome>> Submit(TransferItem item);

 private:
  struct Pending {
    Pending(TransferItem i, boost::asio::any_io_executor ex)
        : item(std::move(i)), done(std::move(ex)) {}
    TransferItem item;
    std::string json;  // TransferItemJson at its position in the current batch
    std::optional<Result<PostOutcome>> result;
    AsyncEvent done;  // set once result is final
  };
  using Batch = std::vector<std::shared_ptr<Pending>>;

  // On the home executor.
  Task<std::optional<Result<PostOutcome>>> SubmitHere(TransferItem item);
  void Pump();
  void StartLinger();
  bool Busy(std::int64_t account) const { return busy_.count(account) != 0; }
  void Hold(const Batch& batch);
  void Release(const Batch& batch);
  static Task<void> Run(std::shared_ptr<TransferBatcher> self, Batch batch);
  Task<void> RunBatch(Batch& batch);
  static void Deliver(Pending& p, PostOutcome outcome);
  Task<Result<std::vector<PostOutcome>>> Post(const Batch& batch);

  boost::asio::any_io_executor home_;
  boost::asio::steady_timer linger_;
  std::chrono::microseconds linger_time_;
  bool lingering_ = false;
  bool linger_done_ = false;
  std::size_t linger_target_ = 0;  // transfers worth waiting for when idle
  std::shared_ptr<LedgerStore> store_;
  std::size_t max_size_;
  int max_inflight_;
  std::size_t min_fill_;
  int inflight_ = 0;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::unordered_map<std::int64_t, int> busy_;  // account → batches in flight holding it
};

}  // namespace tchat::payment
