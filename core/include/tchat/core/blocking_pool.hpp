#pragma once

// A small pool of threads for blocking work (file writes and fsync, image
// decoding) that must not run on a worker's event loop. Run() posts the work to
// the pool and resumes the calling coroutine on its own executor with the
// result. At most `max_queue` calls are in flight at once: more are refused with
// kUnavailable rather than queued without bound.
#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat {

class BlockingPool {
 public:
  // threads 0: one per core.
  explicit BlockingPool(int threads, int max_queue = 256)
      : pool_(static_cast<std::size_t>(
            threads > 0 ? threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))),
        max_queue_(max_queue) {}
  ~BlockingPool() { pool_.join(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs fn on the pool. (Callers build fn as a named local before co_await:
  // GCC 12 mishandles lambda temporaries with init-captures in co_await.)
  template <typename T>
  Task<Result<T>> Run(std::function<Result<T>()> fn) {
    if (in_flight_.fetch_add(1) >= max_queue_) {
      in_flight_.fetch_sub(1);
      co_return Error::Unavailable("too much blocking work in progress; try again shortly");
    }
    auto initiation = [this, fn = std::move(fn)](auto handler) mutable {
      // Keep the caller's event loop alive until the answer is back.
      auto caller = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
      boost::asio::post(pool_, [handler = std::move(handler), fn = std::move(fn),
                                caller = std::move(caller)]() mutable {
        Result<T> out = Error::Internal("blocking work threw");
        try {
          out = fn();
        } catch (const std::exception& e) {
          out = Error::Internal(std::string("blocking work threw: ") + e.what());
        }
        boost::asio::post(caller, [handler = std::move(handler), out = std::move(out)]() mutable {
          std::move(handler)(std::move(out));
        });
      });
    };
    Result<T> r =
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Result<T>)>(
            std::move(initiation), boost::asio::use_awaitable);
    in_flight_.fetch_sub(1);
    co_return r;
  }

 private:
  boost::asio::thread_pool pool_;
  int max_queue_;
  std::atomic<int> in_flight_{0};
};

}  // namespace tchat
