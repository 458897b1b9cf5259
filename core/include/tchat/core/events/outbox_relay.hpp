#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tchat/core/metrics.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

namespace tchat::pg {
class Pool;
}
namespace tchat::redis {
class RedisClient;
}

namespace tchat::events {

struct OutboxRelayOptions {
  std::string service = "unknown";  // metric label
  // Rows moved per transaction.
  std::size_t batch_size = 200;
  // How often the outbox is polled when nobody wakes the relay (events committed
  // by other replicas, or left behind by a crash).
  std::chrono::milliseconds poll_interval{250};
  // Wake-ups that come sooner than this after the previous pass began wait for
  // it: under a steady stream of commits the relay makes at most one pass per
  // interval instead of one per commit (each pass is a transaction and a Redis
  // round trip), and events wait at most this long for it.
  std::chrono::milliseconds min_interval{5};
  // Back-off after a failure (Redis or PostgreSQL down), doubling up to the max.
  std::chrono::milliseconds retry_min{200};
  std::chrono::milliseconds retry_max{5000};
  // XADD ... MAXLEN ~ stream_max_len.
  std::int64_t stream_max_len = 100'000;
  // Published rows older than this are deleted; zero keeps them for ever.
  std::chrono::milliseconds retention = std::chrono::hours(24);
  std::chrono::milliseconds cleanup_interval = std::chrono::minutes(1);
};

// Moves committed outbox rows to their Redis streams (docs/ARCHITECTURE.md, events): in one
// transaction it locks a batch of unpublished rows (FOR UPDATE SKIP LOCKED, so
// several replicas relay side by side without sending a row twice), XADDs them
// in one pipeline and marks them published. A row of type "batch" carries a JSON
// array of envelopes (one producer transaction's events, written as one row) and
// becomes one stream entry per envelope, with that envelope's id and type. When
// Redis is down the transaction rolls back and the rows wait for the next try:
// delivery is at least once (a crash between XADD and COMMIT re-sends), so
// consumers de-duplicate by event id.
//
// One relay per process, running on one worker's executor (the one given to
// Create). Run() and the Relay/Cleanup calls run there, with that worker's pool
// and Redis client. Wake() and Stop() may be called from any thread.
//
// Metrics: outbox_events_published_total{service}, outbox_relay_errors_total{service}.
class OutboxRelay : public std::enable_shared_from_this<OutboxRelay> {
 public:
  static std::shared_ptr<OutboxRelay> Create(boost::asio::any_io_executor executor,
                                             OutboxRelayOptions options);

  // Relays until Stop(). Wakes on Wake(), on every poll_interval, and at once
  // again after a full batch.
  Task<void> Run(pg::Pool& pool, redis::RedisClient& redis);

  // One batch: returns how many rows were published. Errors leave the rows for
  // a later try.
  Task<Result<std::size_t>> RelayOnce(pg::Pool& pool, redis::RedisClient& redis);
  // Deletes published rows older than the retention; returns how many.
  Task<Result<std::int64_t>> Cleanup(pg::Pool& pool);

  // Events were committed: relay soon. Any thread; cheap when already pending.
  void Wake();
  // Ends Run() soon. Any thread.
  void Stop();

  std::uint64_t published() const { return published_total_.load(); }

 private:
  OutboxRelay(boost::asio::any_io_executor executor, OutboxRelayOptions options);

  boost::asio::any_io_executor executor_;
  OutboxRelayOptions options_;
  boost::asio::steady_timer timer_;  // Run's sleep; cancelled to wake it
  std::atomic<bool> wake_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> published_total_{0};
  bool last_full_ = false;  // the last pass took batch_size rows
  metrics::Counter* published_;
  metrics::Counter* errors_;
};

namespace detail {
// The elements of a JSON array, as slices of `text` in order (without the
// whitespace around them), or nullopt when `text` is not one array with
// balanced brackets, closed strings and one element between each two commas.
// Scalars inside are not checked: the database checked the text on the way in. The relay publishes
// a batch row's envelopes as the producer wrote them, without a round trip through a DOM.
std::optional<std::vector<std::string_view>> SplitJsonArray(std::string_view text);
// The id and type of an envelope that begins {"id":"…","type":"…" with no
// escapes in either (how producers write them), without parsing the rest;
// nullopt for any other shape, which the relay then parses whole.
std::optional<std::pair<std::string_view, std::string_view>> EnvelopeHead(std::string_view env);
}  // namespace detail

}  // namespace tchat::events
