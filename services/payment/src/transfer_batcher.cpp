#include "transfer_batcher.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>

#include "metrics.hpp"

namespace tchat::payment {
namespace {

namespace asio = boost::asio;
constexpr int kConflictRetries = 3;

}  // namespace

TransferBatcher::TransferBatcher(asio::any_io_executor home, std::shared_ptr<LedgerStore> store,
                                 int max_size, int max_inflight, int min_fill,
                                 std::chrono::microseconds linger)
    : home_(home),
      linger_(std::move(home)),
      linger_time_(linger),
      store_(std::move(store)),
      max_size_(static_cast<std::size_t>(std::max(1, max_size))),
      max_inflight_(std::max(1, max_inflight)),
      min_fill_(static_cast<std::size_t>(std::clamp(min_fill, 1, std::max(1, max_size)))) {}

Task<Result<PostOutcome>> TransferBatcher::Submit(TransferItem item) {
  const auto here = co_await asio::this_coro::executor;
  std::optional<Result<PostOutcome>> r;
  if (here == home_) {
    r = co_await SubmitHere(std::move(item));
  } else {
    // Hop to the home worker and back; the item moves with the coroutine (named
    // first: GCC 12 mishandles non-trivial temporaries inside co_await).
    auto there = SubmitHere(std::move(item));
    r = co_await asio::co_spawn(home_, std::move(there), asio::use_awaitable);
  }
  if (!r) co_return Error::Unavailable("transfer was not posted");
  co_return std::move(*r);
}

Task<std::optional<Result<PostOutcome>>> TransferBatcher::SubmitHere(TransferItem item) {
  auto self = shared_from_this();  // alive while this runs, whoever owns it
  auto p = std::make_shared<Pending>(std::move(item), home_);
  queue_.push_back(p);
  Pump();
  co_await p->done.Wait();
  co_return std::move(p->result);
}

void TransferBatcher::Pump() {
  while (inflight_ < max_inflight_ && !queue_.empty()) {
    // Which queued transfers could go now: none of their accounts is held by a
    // batch in flight (FIFO, up to max_size).
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < queue_.size() && ready.size() < max_size_; ++i) {
      const TransferItem& it = queue_[i]->item;
      if (!Busy(it.from_account) && !Busy(it.to_account)) ready.push_back(i);
    }
    if (ready.empty()) return;  // everything waits for a batch in flight
    // A batch has a fixed cost: with others running, a small one is not worth
    // starting; let transfers gather until one of them finishes.
    if (ready.size() < min_fill_ && inflight_ > 0) return;
    // Nothing runs, but the last batch was large: its clients are sending their
    // next transfers right now. Wait a moment (at most the linger time) until most
    // of them are back, rather than start a small batch that the rest would then
    // queue behind. Under light load the last batch was small: no waiting.
    if (inflight_ == 0 && ready.size() < linger_target_ && !linger_done_) {
      StartLinger();
      return;
    }
    linger_done_ = false;
    linger_target_ = 0;
    if (lingering_) {
      lingering_ = false;
      linger_.cancel();
    }
    Batch batch;
    batch.reserve(ready.size());
    std::deque<std::shared_ptr<Pending>> waiting;
    std::size_t next = 0;
    for (std::size_t i = 0; i < queue_.size(); ++i) {
      if (next < ready.size() && ready[next] == i) {
        batch.push_back(std::move(queue_[i]));
        ++next;
      } else {
        waiting.push_back(std::move(queue_[i]));
      }
    }
    queue_.swap(waiting);
    Hold(batch);
    ++inflight_;
    asio::co_spawn(home_, Run(shared_from_this(), std::move(batch)), asio::detached);
  }
}

void TransferBatcher::StartLinger() {
  if (lingering_) return;
  lingering_ = true;
  linger_.expires_after(linger_time_);
  linger_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || !self->lingering_) return;  // cancelled: a batch started meanwhile
    self->lingering_ = false;
    self->linger_done_ = true;  // the next Pump starts whatever is ready
    self->Pump();
  });
}

void TransferBatcher::Hold(const Batch& batch) {
  for (const auto& p : batch) {
    ++busy_[p->item.from_account];
    ++busy_[p->item.to_account];
  }
}

void TransferBatcher::Release(const Batch& batch) {
  for (const auto& p : batch) {
    for (std::int64_t a : {p->item.from_account, p->item.to_account}) {
      auto it = busy_.find(a);
      if (it != busy_.end() && --it->second <= 0) busy_.erase(it);
    }
  }
}

Task<Result<std::vector<PostOutcome>>> TransferBatcher::Post(const Batch& batch) {
  std::vector<const std::string*> items;
  items.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& p = batch[i];
    p->json = TransferItemJson(p->item, i + 1);
    items.push_back(&p->json);
  }
  bool retried_connection = false;
  for (int attempt = 0;; ++attempt) {
    auto r = co_await store_->PostTransfers(items);
    if (r) co_return r;
    const Error& e = r.error();
    if ((e.IsDeadlock() || e.IsSerializationFailure()) && attempt < kConflictRetries) continue;
    if (e.IsUnavailable() && e.sqlstate.empty() && !retried_connection) {
      retried_connection = true;
      continue;
    }
    co_return r;
  }
}

Task<void> TransferBatcher::Run(std::shared_ptr<TransferBatcher> self, Batch batch) {
  // Whatever happens (also when the frame is torn down at shutdown), every waiter
  // is woken and the accounts and the slot are given back; only a normal end
  // starts the next batches.
  struct Finish {
    TransferBatcher* b;
    Batch* batch;
    ~Finish() {
      for (auto& p : *batch) {
        if (!p->result) p->result.emplace(Error::Unavailable("transfer was not posted"));
        p->done.Set();
      }
      b->Release(*batch);
      --b->inflight_;
    }
  };
  {
    Finish finish{self.get(), &batch};
    co_await self->RunBatch(batch);
  }
  // Its clients get their answers now and most will be back shortly: expect them
  // next to the transfers already waiting (see Pump).
  if (batch.size() >= self->min_fill_) {
    self->linger_target_ = std::min(self->max_size_, self->queue_.size() + batch.size() * 3 / 4);
  }
  self->Pump();
}

void TransferBatcher::Deliver(Pending& p, PostOutcome outcome) {
  p.result.emplace(std::move(outcome));
}

Task<void> TransferBatcher::RunBatch(Batch& batch) {
  Metrics::Get().BatchSize(batch.size());
  auto r = co_await Post(batch);
  if (r) {
    for (std::size_t i = 0; i < batch.size(); ++i) Deliver(*batch[i], std::move((*r)[i]));
    co_return;
  }
  if (batch.size() == 1) {
    batch[0]->result.emplace(std::move(r).error());
    co_return;
  }
  log::Warn("transfer batch failed; posting its items one by one",
            {{"size", batch.size()}, {"error", r.error().message}});
  for (auto& p : batch) {
    Batch one{p};
    auto single = co_await Post(one);
    if (single) {
      Deliver(*p, std::move((*single)[0]));
    } else {
      p->result.emplace(std::move(single).error());
    }
    p->done.Set();
  }
}

}  // namespace tchat::payment
