#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/redis/options.hpp>

#include "conn.hpp"

namespace tchat::redis {
namespace detail {

namespace asio = boost::asio;

// Grow the pool once the least loaded connection has this many commands in
// flight: pipelining makes one connection go a long way.
constexpr std::size_t kGrowAt = 16;

// PING through `target` (a Pool or a Cluster: anything with Exec), answered within
// `deadline` or DeadlineExceeded. The PING runs on in the background when the
// deadline passes; `target` is kept alive by it.
template <typename Target>
Task<Status> PingWithin(asio::any_io_executor executor, std::shared_ptr<Target> target,
                        std::chrono::milliseconds deadline) {
  struct State {
    explicit State(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    std::optional<Status> result;
  };
  auto state = std::make_shared<State>(executor);
  state->timer.expires_after(deadline);
  asio::co_spawn(
      executor,
      [target = std::move(target), state]() -> Task<void> {
        const std::array<std::string_view, 1> ping{"PING"};
        auto reply = co_await target->Exec(ping);
        state->result = reply ? Ok() : Status(std::move(reply).error());
        state->timer.cancel();
      },
      asio::detached);
  if (!state->result) co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (state->result) co_return *state->result;
  co_return Error::DeadlineExceeded("redis PING took longer than " +
                                    std::to_string(deadline.count()) + "ms");
}

// The state behind RedisClient, shared with the background coroutines (dials,
// Ping) so that they never outlive what they touch.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(asio::any_io_executor executor, RedisOptions options)
      : Pool(executor, options, ParseRedisUrl(options.url)) {}
  // A pool to one node of a cluster.
  Pool(asio::any_io_executor executor, RedisOptions options, Result<RedisEndpoint> endpoint)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        errors_(&ConnectionErrors(options_.service)),
        client_name_(ClientName(options_.service, "")) {
    options_.pool_size = std::max(1, options_.pool_size);
    options_.min_idle = std::clamp(options_.min_idle, 0, options_.pool_size);
  }

  Task<Result<RedisReply>> Exec(RedisArgs args) {
    Conn* conn = Pick();
    if (conn == nullptr) {
      auto acquired = co_await Acquire();
      if (!acquired) co_return std::move(acquired).error();
      conn = acquired->get();
    }
    co_return co_await conn->Exec(args);
  }

  Task<Result<std::vector<RedisReply>>> ExecPipeline(const RedisBatch& batch) {
    Conn* conn = Pick();
    if (conn == nullptr) {
      auto acquired = co_await Acquire();
      if (!acquired) co_return std::move(acquired).error();
      conn = acquired->get();
    }
    co_return co_await conn->ExecPipeline(batch);
  }

  Task<Result<std::shared_ptr<Conn>>> DialDedicated() {
    if (!endpoint_) co_return endpoint_.error();
    auto self = shared_from_this();
    co_return co_await Conn::Dial(executor_, options_, *endpoint_, client_name_, errors_);
  }

  Task<Status> Warmup() {
    if (!endpoint_) co_return endpoint_.error();
    auto self = shared_from_this();
    while (!shut_ && OpenCount() < static_cast<std::size_t>(std::max(1, options_.min_idle))) {
      ++dialing_;
      Status s = co_await Grow();
      if (!s) co_return s;
    }
    co_return Ok();
  }

  Task<Status> Ping(std::chrono::milliseconds deadline) {
    return PingWithin(executor_, shared_from_this(), deadline);
  }

  void Shutdown() {
    shut_ = true;
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& c : conns) c->Close();
    WakeDialWaiters();
  }

  std::size_t OpenCount() const {
    return static_cast<std::size_t>(
        std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->open(); }));
  }
  std::size_t InFlight() const {
    std::size_t n = 0;
    for (const auto& c : conns_) n += c->in_flight();
    return n;
  }

 private:
  // The least loaded open connection, or nullptr. Drops closed connections and
  // starts a background dial when the pool is busy or below min_idle.
  Conn* Pick() {
    Conn* best = nullptr;
    bool saw_closed = false;
    for (const auto& c : conns_) {
      if (!c->open()) {
        saw_closed = true;
        continue;
      }
      if (best == nullptr || c->in_flight() < best->in_flight()) {
        best = c.get();
        if (best->in_flight() == 0) break;
      }
    }
    if (saw_closed) std::erase_if(conns_, [](const auto& c) { return !c->open(); });
    if (best != nullptr && dialing_ == 0 && !shut_ &&
        conns_.size() < static_cast<std::size_t>(options_.pool_size) &&
        (best->in_flight() >= kGrowAt ||
         conns_.size() < static_cast<std::size_t>(options_.min_idle))) {
      ++dialing_;  // now, not when the coroutine starts: one background dial at a time
      asio::co_spawn(
          executor_, [self = shared_from_this()]() -> Task<void> { (void)co_await self->Grow(); },
          asio::detached);
    }
    return best;
  }

  // Slow path when no connection is open: dial, or wait for the dial under way.
  Task<Result<std::shared_ptr<Conn>>> Acquire() {
    if (!endpoint_) co_return endpoint_.error();
    auto self = shared_from_this();
    for (;;) {
      if (shut_) co_return Error::Unavailable("redis client closed");
      if (Conn* c = Pick()) co_return c->shared_from_this();
      if (dialing_ > 0) {
        Waiter waiter;
        dial_waiters_.push_back(&waiter);
        co_await Suspend(waiter);
        if (shut_) co_return Error::Unavailable("redis client closed");
        if (Conn* c = Pick()) co_return c->shared_from_this();
        co_return last_dial_error_.value_or(Error::Unavailable("redis unavailable"));
      }
      ++dialing_;
      Status s = co_await Grow();
      if (!s) co_return std::move(s).error();
    }
  }

  // Dials one more pooled connection and wakes whoever waits for a dial. The
  // caller has counted it in dialing_.
  Task<Status> Grow() {
    auto dialed = co_await Conn::Dial(executor_, options_, *endpoint_, client_name_, errors_);
    --dialing_;
    Status status;
    if (dialed) {
      if (down_) log::Info("redis reachable again");
      down_ = false;
      last_dial_error_.reset();
      if (shut_) {
        (*dialed)->Close();
      } else {
        conns_.push_back(std::move(*dialed));
      }
    } else {
      if (!down_) log::Warn("redis dial failed", {{"error", dialed.error().message}});
      down_ = true;
      last_dial_error_ = dialed.error();
      status = std::move(dialed).error();
    }
    WakeDialWaiters();
    co_return status;
  }

  void WakeDialWaiters() {
    auto waiters = std::move(dial_waiters_);
    dial_waiters_.clear();
    for (Waiter* w : waiters) w->Wake();
  }

  asio::any_io_executor executor_;
  RedisOptions options_;
  Result<RedisEndpoint> endpoint_;
  metrics::Counter* errors_;
  std::string client_name_;
  std::vector<std::shared_ptr<Conn>> conns_;
  int dialing_ = 0;
  bool shut_ = false;
  bool down_ = false;
  std::optional<Error> last_dial_error_;
  std::vector<Waiter*> dial_waiters_;
};

}  // namespace detail

}  // namespace tchat::redis
