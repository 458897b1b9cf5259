#pragma once

// Group commit: items submitted on any worker are committed in batches on their
// home worker, so that one commit (one transaction, one round trip, one WAL
// flush) covers many of them. Messaging sends and payment transfers use it; the
// service gives the batch function (its SQL) and maps the outcomes.
//
// - Home: each item has a home worker (hooks.home; the first when unset). An
//   item submitted on another worker is handed to its home, and its answer is
//   handed back, so one home's rows are only locked by that home's batches.
// - Batches: at home, items queue; a batch takes up to max_batch of them, in
//   arrival order. Up to max_inflight batches run side by side; an item whose
//   conflict keys (hooks.keys: rows its commit locks) a batch in flight holds
//   waits for a later batch, so batches never wait for each other's locks and
//   items with the same key commit in arrival order. With batches in flight a
//   new one starts only when min_fill items are ready (each commit has a fixed
//   cost). A lone item on an idle home is committed at once.
// - Linger: after a batch of at least linger_from items (load), with nothing in
//   flight, the next batch waits up to `linger` for its senders to come back:
//   until linger_target items are ready (a full batch, or with
//   linger_return_percent the items already queued plus that share of the batch
//   just done). The linger counts from the end of that batch, or with
//   linger_from_last_start from its start (a least time between commits).
// - Fallback: a batch that fails as a whole (an error, or an outcome count that
//   does not match) is committed again one item at a time, when
//   hooks.retry_alone says the error allows it (always when unset), so that one
//   bad item fails alone; otherwise every item gets the batch's error.
// - Answers: each item is answered exactly once, on the worker it was submitted
//   on, in batch order (hooks.order sorts a batch first, e.g. into lock order).
//   A home's `settled` hook then sees the batch (for metrics and follow-ups).
//   When a worker's io_context is torn down with a batch in flight, its items
//   are not answered (their waiters are torn down with them).
//
// Thread-safety: Submit from any worker, on that worker's executor (`from`);
// the per-home state is only touched on its home's executor.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/error.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat {

struct GroupCommitOptions {
  std::string name = "group commit";  // for the log: "<name> batch failed; ..."
  std::size_t max_batch = 64;
  int max_inflight = 1;                 // batches of one home committing at once
  std::size_t min_fill = 1;             // with batches in flight, a new one needs this many ready
  std::chrono::microseconds linger{0};  // 0: never linger
  std::size_t linger_from = 1;          // a batch this large means load
  bool linger_from_last_start = false;
  int linger_return_percent = 0;  // 0: linger until a full batch is ready
};

template <typename Item, typename Outcome>
class GroupCommit {
 public:
  using Answer = std::function<void(Result<Outcome>)>;
  // Commits `items` together: one outcome per item, in order, or an error for the
  // batch as a whole. It may move from an item only into the outcome it returns.
  using CommitFn = std::function<Task<Result<std::vector<Outcome>>>(std::span<Item>)>;
  struct Report {
    std::span<const Item> items;               // in commit order
    std::span<const Result<Outcome>> answers;  // empty: the batch failed as a whole
    std::chrono::steady_clock::duration took;  // the commit with its fallback
  };
  using SettledFn = std::function<void(const Report&)>;
  using Keys = std::array<std::uint64_t, 2>;  // use the same key twice for one

  struct Home {
    boost::asio::any_io_executor executor;
    CommitFn commit;
    SettledFn settled;  // optional; runs on the home after the batch's answers
  };
  struct Hooks {
    std::function<std::size_t(const Item&)> home;         // taken modulo the number of homes
    std::function<Keys(const Item&)> keys;                // only consulted with max_inflight > 1
    std::function<bool(const Item&, const Item&)> order;  // stable sort of a batch
    std::function<bool(const Error&)> retry_alone;
  };

  GroupCommit(std::vector<Home> homes, GroupCommitOptions options, Hooks hooks = {}) {
    options.max_batch = std::max<std::size_t>(1, options.max_batch);
    options.max_inflight = std::max(1, options.max_inflight);
    options.min_fill = std::clamp<std::size_t>(options.min_fill, 1, options.max_batch);
    auto shared = std::make_shared<const Shared>(Shared{std::move(options), std::move(hooks)});
    shards_.reserve(homes.size());
    for (Home& h : homes) shards_.push_back(std::make_shared<Shard>(std::move(h), shared));
  }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues `item`; `answer` runs exactly once, on `from` (the caller's executor).
  void Submit(const boost::asio::any_io_executor& from, Item item, Answer answer) {
    std::size_t h = 0;
    if (shards_.size() > 1 && shards_.front()->hooks().home) {
      h = shards_.front()->hooks().home(item) % shards_.size();
    }
    const std::shared_ptr<Shard>& shard = shards_[h];
    if (shard->executor() == from) {
      shard->Add(std::move(item), std::move(answer));
      return;
    }
    boost::asio::post(shard->executor(), [shard, back = from, item = std::move(item),
                                          answer = std::move(answer)]() mutable {
      shard->Add(std::move(item), [back, answer = std::move(answer)](Result<Outcome> r) mutable {
        boost::asio::post(back, [answer = std::move(answer), r = std::move(r)]() mutable {
          answer(std::move(r));
        });
      });
    });
  }

  // Submit from a coroutine and wait for the answer.
  Task<Result<Outcome>> Commit(Item item) {
    const auto here = co_await boost::asio::this_coro::executor;
    AsyncEvent done(here);
    std::optional<Result<Outcome>> answer;
    Submit(here, std::move(item), [&answer, &done](Result<Outcome> r) {
      answer.emplace(std::move(r));
      done.Set();
    });
    co_await done.Wait();
    co_return std::move(*answer);
  }

  // Items queued at home `h` (not yet in a batch); on that home's executor.
  std::size_t queued(std::size_t h) const { return shards_[h]->queued(); }

 private:
  struct Shared {
    GroupCommitOptions options;
    Hooks hooks;
  };
  struct Entry {
    Item item;
    Keys keys;
    Answer answer;
  };

  class Shard : public std::enable_shared_from_this<Shard> {
   public:
    Shard(Home home, std::shared_ptr<const Shared> shared)
        : home_(std::move(home)), shared_(std::move(shared)), linger_(home_.executor) {}

    const boost::asio::any_io_executor& executor() const { return home_.executor; }
    const Hooks& hooks() const { return shared_->hooks; }
    std::size_t queued() const { return queue_.size(); }

    void Add(Item item, Answer answer) {
      Keys keys{};
      if (Tracks()) keys = shared_->hooks.keys(item);
      queue_.push_back(Entry{std::move(item), keys, std::move(answer)});
      Pump();
    }

   private:
    const GroupCommitOptions& opt() const { return shared_->options; }
    bool Tracks() const { return opt().max_inflight > 1 && shared_->hooks.keys != nullptr; }
    bool Busy(const Keys& k) const { return busy_.count(k[0]) != 0 || busy_.count(k[1]) != 0; }

    // Starts every batch that may start now.
    void Pump() {
      while (inflight_ < opt().max_inflight && !queue_.empty()) {
        // Which queued items could go now: none of their keys is held by a
        // batch in flight (in arrival order, up to max_batch).
        std::vector<std::size_t> ready;
        std::size_t n = std::min(queue_.size(), opt().max_batch);
        if (!busy_.empty()) {
          for (std::size_t i = 0; i < queue_.size() && ready.size() < opt().max_batch; ++i) {
            if (!Busy(queue_[i].keys)) ready.push_back(i);
          }
          n = ready.size();
        }
        if (n == 0) return;  // everything waits for a batch in flight
        if (n < opt().min_fill && inflight_ > 0) return;
        if (inflight_ == 0 && n < linger_target_ && !linger_done_) {
          StartLinger();
          return;
        }
        linger_done_ = false;
        linger_target_ = 0;
        if (lingering_) {
          lingering_ = false;
          linger_.cancel();
        }
        std::vector<Entry> batch = Take(n, ready);
        if (Tracks()) Hold(batch, 1);
        ++inflight_;
        boost::asio::co_spawn(home_.executor, Run(this->shared_from_this(), std::move(batch)),
                              boost::asio::detached);
      }
    }

    // The first n of the queue, or the `ready` positions when some are busy.
    std::vector<Entry> Take(std::size_t n, const std::vector<std::size_t>& ready) {
      std::vector<Entry> batch;
      batch.reserve(n);
      if (ready.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        return batch;
      }
      std::deque<Entry> waiting;
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
      return batch;
    }

    void Hold(const std::vector<Entry>& batch, int delta) {
      for (const Entry& e : batch) {
        for (std::uint64_t k : e.keys) {
          auto [it, added] = busy_.try_emplace(k, 0);
          if ((it->second += delta) <= 0) busy_.erase(it);
        }
      }
    }

    void StartLinger() {
      if (lingering_) return;
      lingering_ = true;
      if (opt().linger_from_last_start) {
        linger_.expires_at(last_start_ + opt().linger);
      } else {
        linger_.expires_after(opt().linger);
      }
      linger_.async_wait(
          [self = this->shared_from_this(), gen = ++linger_gen_](boost::system::error_code ec) {
            if (ec || !self->lingering_ || gen != self->linger_gen_) return;  // a batch started
            self->lingering_ = false;
            self->linger_done_ = true;  // the next Pump starts whatever is ready
            self->Pump();
          });
    }

    static Task<void> Run(std::shared_ptr<Shard> self, std::vector<Entry> batch) {
      const auto started = std::chrono::steady_clock::now();
      {
        // Also when the frame is torn down: the keys and the slot are given back.
        struct Release {
          Shard* s;
          std::vector<Entry>* batch;
          ~Release() {
            if (s->Tracks()) s->Hold(*batch, -1);
            --s->inflight_;
          }
        } release{self.get(), &batch};
        co_await self->RunBatch(batch, started);
      }
      // Its senders get their answers now and, under load, most come back soon.
      const GroupCommitOptions& o = self->opt();
      if (o.linger.count() > 0 && batch.size() >= o.linger_from) {
        self->linger_target_ =
            o.linger_return_percent <= 0
                ? o.max_batch
                : std::min(
                      o.max_batch,
                      self->queue_.size() +
                          batch.size() * static_cast<std::size_t>(o.linger_return_percent) / 100);
        self->last_start_ = started;
      }
      self->Pump();
    }

    static Task<Result<std::vector<Outcome>>> TryCommit(const CommitFn& commit,
                                                        std::span<Item> items) {
      try {
        auto t = commit(items);
        auto r = co_await std::move(t);
        if (r && r->size() != items.size()) {
          co_return Error::Internal("batch answered " + std::to_string(r->size()) + " of " +
                                    std::to_string(items.size()) + " items");
        }
        co_return std::move(r);
      } catch (const std::exception& e) {
        co_return Error::Internal(std::string("batch commit failed: ") + e.what());
      }
    }

    void Deliver(Answer& answer, Result<Outcome>& r) {
      if (home_.settled) {
        answer(r);  // the settled hook sees it too
      } else {
        answer(std::move(r));
      }
    }

    Task<void> RunBatch(std::vector<Entry>& batch, std::chrono::steady_clock::time_point t0) {
      if (shared_->hooks.order) {
        std::stable_sort(batch.begin(), batch.end(), [this](const Entry& a, const Entry& b) {
          return shared_->hooks.order(a.item, b.item);
        });
      }
      std::vector<Item> items;
      items.reserve(batch.size());
      for (Entry& e : batch) items.push_back(std::move(e.item));
      auto whole = TryCommit(home_.commit, std::span<Item>(items));
      auto r = co_await std::move(whole);
      std::vector<Result<Outcome>> answers;
      answers.reserve(items.size());
      if (r) {
        for (Outcome& o : *r) answers.emplace_back(std::move(o));
        for (std::size_t i = 0; i < batch.size(); ++i) Deliver(batch[i].answer, answers[i]);
      } else if (items.size() > 1 &&
                 (!shared_->hooks.retry_alone || shared_->hooks.retry_alone(r.error()))) {
        log::Warn(opt().name + " batch failed; committing its items one by one",
                  {{"size", items.size()}, {"error", r.error().message}});
        for (std::size_t i = 0; i < items.size(); ++i) {
          auto single = TryCommit(home_.commit, std::span<Item>(&items[i], 1));
          auto one = co_await std::move(single);
          if (one) {
            answers.emplace_back(std::move(one->front()));
          } else {
            answers.emplace_back(std::move(one).error());
          }
          Deliver(batch[i].answer, answers.back());
        }
      } else {
        for (Entry& e : batch) e.answer(r.error());
        answers.clear();
      }
      if (home_.settled) {
        home_.settled(Report{items, answers, std::chrono::steady_clock::now() - t0});
      }
    }

    Home home_;
    std::shared_ptr<const Shared> shared_;
    boost::asio::steady_timer linger_;
    bool lingering_ = false;
    bool linger_done_ = false;
    std::uint64_t linger_gen_ = 0;
    std::size_t linger_target_ = 0;  // items worth waiting for when idle
    std::chrono::steady_clock::time_point last_start_;
    int inflight_ = 0;
    std::deque<Entry> queue_;
    std::unordered_map<std::uint64_t, int> busy_;  // key → batches in flight holding it
  };

  std::vector<std::shared_ptr<Shard>> shards_;
};

}  // namespace tchat
