#include <algorithm>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>

namespace tchat::events {

namespace asio = boost::asio;

namespace {

// One result row per event: a row of type 'batch' holds a JSON array of whole
// envelopes (a producer's group commit) and yields each of them in order.
constexpr std::string_view kSelectSql =
    "SELECT o.id::text, o.stream, coalesce(e.value ->> 'id', o.id::text), "
    "coalesce(e.value ->> 'type', o.type), coalesce(e.value::text, o.payload::text) "
    "FROM (SELECT id, stream, type, payload, created_at FROM outbox "
    "WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) o "
    "LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN o.type = 'batch' THEN o.payload END) "
    "WITH ORDINALITY AS e(value, n) ON true "
    "ORDER BY o.created_at, o.id, e.n";
constexpr std::string_view kMarkSql =
    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])";
constexpr std::string_view kCleanupSql =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at IS NOT NULL "
    "AND published_at < now() - $1::interval LIMIT 10000)";

}  // namespace

std::shared_ptr<OutboxRelay> OutboxRelay::Create(asio::any_io_executor executor,
                                                 OutboxRelayOptions options) {
  return std::shared_ptr<OutboxRelay>(new OutboxRelay(std::move(executor), std::move(options)));
}

OutboxRelay::OutboxRelay(asio::any_io_executor executor, OutboxRelayOptions options)
    : executor_(executor), options_(std::move(options)), timer_(executor) {
  auto& reg = metrics::Registry::Default();
  published_ = &reg.AddCounter("outbox_events_published_total",
                               "Outbox events relayed to their Redis stream.", {"service"})
                    .With({options_.service});
  errors_ =
      &reg.AddCounter("outbox_relay_errors_total",
                      "Failed outbox relay batches (Redis or PostgreSQL unavailable).", {"service"})
           .With({options_.service});
  options_.batch_size = std::max<std::size_t>(1, options_.batch_size);
}

Task<Result<std::size_t>> OutboxRelay::RelayOnce(pg::Pool& pool, redis::RedisClient& redis) {
  const std::string max_len = std::to_string(options_.stream_max_len);
  const auto batch_size = static_cast<std::int64_t>(options_.batch_size);
  // A named lambda: GCC 12 mishandles lambda temporaries inside co_await.
  auto relay_batch = [&](pg::Connection& c) -> Task<Result<std::size_t>> {
    // The mark need not wait for the WAL flush: if the server loses it in a crash,
    // the rows are sent again, which at-least-once delivery allows; every relay
    // pass would otherwise pay a disk flush of its own.
    std::vector<pg::Statement> first;
    first.push_back(pg::Statement::Of("SET LOCAL synchronous_commit TO off"));
    first.push_back(pg::Statement::Of(kSelectSql, batch_size));
    auto selected = co_await c.Pipeline(std::move(first));
    if (!selected) co_return std::move(selected).error();
    const pg::PgResult& rows = selected->back();
    const int n = rows.Rows();
    if (n == 0) co_return std::size_t{0};
    redis::RedisBatch batch;
    for (int i = 0; i < n; ++i) {
      batch.Add("XADD", rows.GetString(i, 1), "MAXLEN", "~", max_len, "*", "id",
                rows.GetString(i, 2), "type", rows.GetString(i, 3), "event", rows.GetString(i, 4));
    }
    auto replies = co_await redis.Pipeline(batch);
    if (!replies) co_return std::move(replies).error();
    // A row is published when every event in it was added (rows of one outbox
    // row are adjacent); a refused one keeps its whole row queued, and consumers
    // de-duplicate the events that were added twice.
    std::string ids = "{";
    std::size_t rows_done = 0;
    std::size_t sent = 0;
    std::size_t refused = 0;
    std::string first_error;
    for (int i = 0; i < n;) {
      const std::string_view row_id = rows.GetString(i, 0);
      int end = i;
      bool all_added = true;
      for (; end < n && rows.GetString(end, 0) == row_id; ++end) {
        const auto& reply = (*replies)[static_cast<std::size_t>(end)];
        if (reply.IsError()) {
          if (first_error.empty()) first_error = reply.str;
          all_added = false;
        }
      }
      const auto events = static_cast<std::size_t>(end - i);
      if (all_added) {
        if (rows_done++ > 0) ids += ',';
        ids += row_id;
        sent += events;
      } else {
        refused += events;
      }
      i = end;
    }
    ids += '}';
    if (rows_done == 0) co_return Error::Unavailable("XADD failed: " + first_error);
    auto marked = co_await c.Query(kMarkSql, ids);
    if (!marked) co_return std::move(marked).error();
    if (!first_error.empty()) {
      log::Warn("outbox: some events were refused by Redis and stay queued",
                {{"refused", static_cast<std::int64_t>(refused)}, {"error", first_error}});
    }
    co_return sent;
  };
  auto r = co_await pool.Transaction(pg::IsolationLevel::kReadCommitted, relay_batch);
  if (r) {
    published_->Inc(static_cast<double>(*r));
    published_total_.fetch_add(*r);
  }
  co_return r;
}

Task<Result<std::int64_t>> OutboxRelay::Cleanup(pg::Pool& pool) {
  const std::string age = std::to_string(options_.retention.count()) + " milliseconds";
  auto r = co_await pool.Query(kCleanupSql, age);
  if (!r) co_return std::move(r).error();
  co_return r->AffectedRows();
}

void OutboxRelay::Wake() {
  if (wake_.exchange(true)) return;  // a wake-up is already pending
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_.cancel();
  });
}

void OutboxRelay::Stop() {
  stopped_.store(true);
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_.cancel();
  });
}

Task<void> OutboxRelay::Run(pg::Pool& pool, redis::RedisClient& redis) {
  auto self = shared_from_this();  // the loop keeps the relay alive
  using Clock = std::chrono::steady_clock;
  auto backoff = options_.retry_min;
  bool failing = false;
  auto next_cleanup = Clock::now();
  while (!stopped_.load()) {
    wake_.store(false);
    auto r = co_await RelayOnce(pool, redis);
    if (stopped_.load()) break;
    if (!r) {
      errors_->Inc();
      if (!failing) {
        log::Warn("outbox relay failing; events stay in the outbox until it recovers",
                  {{"error", r.error().message}});
      }
      failing = true;
      // Back off for the whole period: wake-ups while failing would only hammer
      // the dependency that is down.
      const auto until = Clock::now() + backoff;
      backoff = std::min(backoff * 2, options_.retry_max);
      while (!stopped_.load() && Clock::now() < until) {
        timer_.expires_at(until);
        (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    if (failing) log::Info("outbox relay recovered");
    failing = false;
    backoff = options_.retry_min;
    if (*r == options_.batch_size) continue;  // more are probably waiting

    if (options_.retention.count() > 0 && Clock::now() >= next_cleanup) {
      next_cleanup = Clock::now() + options_.cleanup_interval;
      auto cleaned = co_await Cleanup(pool);
      if (!cleaned) {
        log::Warn("outbox cleanup failed", {{"error", cleaned.error().message}});
      } else if (*cleaned > 0) {
        log::Debug("outbox cleanup", {{"deleted", *cleaned}});
      }
    }
    if (wake_.load()) continue;  // woken while relaying
    timer_.expires_after(options_.poll_interval);
    (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tchat::events
