#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <tchat/core/events/outbox_relay.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/pg/pool.hpp>
#include <tchat/core/redis/client.hpp>

namespace tchat::events {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// One row per outbox row; a row of type 'batch' holds a JSON array of whole
// envelopes (a producer's group commit) and is split here into one stream entry
// per envelope. payload::text reads json and jsonb columns alike.
constexpr std::string_view kSelectSql =
    "SELECT id::text, stream, type, payload::text FROM outbox "
    "WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED";
constexpr std::string_view kMarkSql =
    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])";
constexpr std::string_view kCleanupSql =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at IS NOT NULL "
    "AND published_at < now() - $1::interval LIMIT 10000)";

// One stream entry to add: an outbox row, or one envelope of a batch row.
struct Entry {
  int row;
  std::string id;
  std::string type;
  std::string_view event;  // into the query result
};

// The string value of a top-level member of a JSON object, if it is one.
std::optional<std::string> StringMember(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (o == nullptr) return std::nullopt;
  const json::value* m = o->if_contains(key);
  if (m == nullptr || !m->is_string()) return std::nullopt;
  return std::string(m->get_string());
}

// Row `row` of the select (id, stream, type, payload) as stream entries. A batch
// row that is not a JSON array (no producer writes one) goes out whole, as the
// type it has, rather than blocking the outbox.
void AddEntries(const pg::PgResult& rows, int row, std::vector<Entry>& out) {
  const std::string_view row_id = rows.GetString(row, 0);
  const std::string_view type = rows.GetString(row, 2);
  const std::string_view payload = rows.GetString(row, 3);
  std::optional<std::vector<std::string_view>> envelopes;
  if (type == "batch") {
    envelopes = detail::SplitJsonArray(payload);
    if (!envelopes) log::Warn("outbox: batch row is not a JSON array", {{"id", row_id}});
  }
  if (!envelopes) {
    out.push_back(Entry{row, std::string(row_id), std::string(type), payload});
    return;
  }
  for (std::string_view env : *envelopes) {
    if (auto head = detail::EnvelopeHead(env)) {
      out.push_back(Entry{row, std::string(head->first), std::string(head->second), env});
      continue;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(env, ec);
    out.push_back(Entry{row, StringMember(v, "id").value_or(std::string(row_id)),
                        StringMember(v, "type").value_or(std::string(type)), env});
  }
}

}  // namespace

namespace detail {

std::optional<std::pair<std::string_view, std::string_view>> EnvelopeHead(std::string_view env) {
  // A string without escapes at the front of `rest`, after `prefix`.
  const auto take = [&env](std::string_view prefix) -> std::optional<std::string_view> {
    if (!env.starts_with(prefix)) return std::nullopt;
    env.remove_prefix(prefix.size());
    const auto end = env.find_first_of("\"\\");
    if (end == std::string_view::npos || env[end] != '"') return std::nullopt;
    const std::string_view value = env.substr(0, end);
    env.remove_prefix(end + 1);
    return value;
  };
  auto id = take(R"({"id":")");
  if (!id) return std::nullopt;
  auto type = take(R"(,"type":")");
  if (!type) return std::nullopt;
  return std::pair{*id, *type};
}

std::optional<std::vector<std::string_view>> SplitJsonArray(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto skip_space = [&] {
    while (i < n && is_space(text[i])) ++i;
  };
  skip_space();
  if (i == n || text[i] != '[') return std::nullopt;
  ++i;
  std::vector<std::string_view> out;
  skip_space();
  if (i < n && text[i] == ']') {
    ++i;
    skip_space();
    if (i != n) return std::nullopt;
    return out;
  }
  while (true) {
    skip_space();
    const std::size_t start = i;
    int depth = 0;  // brackets opened inside this element
    while (i < n) {
      const char c = text[i];
      if (c == '"') {
        for (++i; i < n && text[i] != '"'; ++i) {
          if (text[i] == '\\') ++i;  // the escaped character cannot end the string
        }
        if (i >= n) return std::nullopt;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          if (c == '}') return std::nullopt;
          break;  // the array's own ']'
        }
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
      ++i;
    }
    if (i == n || depth != 0) return std::nullopt;
    std::size_t end = i;
    while (end > start && is_space(text[end - 1])) --end;
    if (end == start) return std::nullopt;  // "[,", ",,", ",]"
    out.push_back(text.substr(start, end - start));
    if (text[i] == ']') break;
    ++i;  // the comma
  }
  ++i;  // the ']'
  skip_space();
  if (i != n) return std::nullopt;
  return out;
}

}  // namespace detail

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
    last_full_ = static_cast<std::size_t>(n) >= options_.batch_size;
    if (n == 0) co_return std::size_t{0};
    // entries[k] = {row, id, type, event}; a row's entries are adjacent.
    std::vector<Entry> entries;
    entries.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) AddEntries(rows, i, entries);
    redis::RedisBatch batch;
    for (const Entry& e : entries) {
      batch.Add("XADD", rows.GetString(e.row, 1), "MAXLEN", "~", max_len, "*", "id", e.id, "type",
                e.type, "event", e.event);
    }
    std::vector<redis::RedisReply> replies;
    if (!entries.empty()) {
      auto r = co_await redis.Pipeline(batch);
      if (!r) co_return std::move(r).error();
      replies = std::move(*r);
    }
    // A row is published when every event in it was added; a refused one keeps
    // its whole row queued, and consumers de-duplicate the events that were
    // added twice. A batch row with no envelopes is simply marked.
    std::string ids = "{";
    std::size_t rows_done = 0;
    std::size_t sent = 0;
    std::size_t refused = 0;
    std::string first_error;
    std::size_t k = 0;
    for (int i = 0; i < n; ++i) {
      bool all_added = true;
      std::size_t events = 0;
      for (; k < entries.size() && entries[k].row == i; ++k, ++events) {
        const redis::RedisReply& reply = replies[k];
        if (reply.IsError()) {
          if (first_error.empty()) first_error = reply.str;
          all_added = false;
        }
      }
      if (all_added) {
        if (rows_done++ > 0) ids += ',';
        ids += rows.GetString(i, 0);
        sent += events;
      } else {
        refused += events;
      }
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
  auto pass_started = Clock::time_point::min();
  while (!stopped_.load()) {
    if (!last_full_) {
      const auto earliest = pass_started + options_.min_interval;
      while (!stopped_.load() && Clock::now() < earliest) {
        timer_.expires_at(earliest);
        (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    wake_.store(false);
    pass_started = Clock::now();
    last_full_ = false;
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
    if (last_full_) continue;  // more are probably waiting

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
