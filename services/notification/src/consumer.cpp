#include "consumer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/async.hpp>
#include <tchat/core/log.hpp>
#include <tchat/core/redis/reader_connection.hpp>

#include "delivery_store.hpp"
#include "event_store.hpp"
#include "metrics.hpp"

namespace tchat::notification {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Sleeps `total` in short steps so that shutdown is not held up.
Task<void> SleepUnless(std::chrono::milliseconds total, const std::function<bool()>& stopping) {
  const auto end = std::chrono::steady_clock::now() + total;
  while (!stopping() && std::chrono::steady_clock::now() < end) {
    co_await Sleep(std::min<std::chrono::milliseconds>(
        200ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                   end - std::chrono::steady_clock::now())));
  }
}

// Field `name` of a RESP2 map reply (flat array of key, value).
const redis::RedisReply* MapField(const redis::RedisReply& map, std::string_view name) {
  if (!map.IsArray()) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return &map.elements[i + 1];
  }
  return nullptr;
}

}  // namespace

StreamConsumers::StreamConsumers(redis::RedisClient& redis, EventProcessor& processor,
                                 Dispatcher& dispatcher, const Config& settings, int worker_index)
    : redis_(redis),
      processor_(processor),
      dispatcher_(dispatcher),
      settings_(settings),
      consumer_(settings.consumer + "-w" + std::to_string(worker_index)) {}

Task<void> StreamConsumers::Ack(const std::string& stream, const std::vector<std::string>& ids) {
  if (ids.empty()) co_return;
  std::vector<std::string_view> views(ids.begin(), ids.end());
  auto r = co_await redis::XAck(redis_, stream, settings_.group, views);
  if (!r) {
    // Left pending: redelivered later and recognised by its event id.
    log::Warn("XACK failed", {{"stream", stream}, {"error", r.error().message}});
  }
}

Task<bool> StreamConsumers::Handle(const std::string& stream,
                                   std::vector<redis::StreamEntry> entries) {
  if (entries.empty()) co_return true;
  auto r = co_await processor_.Process(stream, entries);
  if (!r) {
    if (r.error().code == ErrorCode::kInvalidArgument) {
      if (entries.size() > 1) {
        // The database refused something in the batch: find the culprit alone.
        bool all = true;
        for (auto& e : entries) {
          std::vector<redis::StreamEntry> one;
          one.push_back(std::move(e));
          all = co_await Handle(stream, std::move(one)) && all;
        }
        co_return all;
      }
      auto st = co_await processor_.RecordPoison(stream, entries.front(), r.error().message);
      if (!st) co_return false;
      const std::vector<std::string> ids{entries.front().id};
      co_await Ack(stream, ids);
      co_return true;
    }
    log::Warn("event batch failed; will retry",
              {{"stream", stream}, {"entries", entries.size()}, {"error", r.error().message}});
    co_return false;
  }
  co_await Ack(stream, r->ack_ids);
  if (r->has_waiting) {
    dispatcher_.Wake(std::chrono::steady_clock::now() + settings_.collapse_window + 5ms);
  }
  if (!r->send_now.empty()) {
    // Back-pressure: do not read faster than the providers accept.
    while (dispatcher_.in_flight() >= settings_.max_in_flight) co_await Sleep(2ms);
    dispatcher_.Dispatch(std::move(r->send_now));
  }
  co_return true;
}

Task<void> StreamConsumers::Run(const std::string& stream, std::function<bool()> stopping) {
  redis::ReaderConnection reader(redis_, "stream consumer " + stream, stopping);
  bool read_pending = true;  // own pending entries first (a restart, a failed batch)
  bool group_ready = false;
  while (!stopping()) {
    redis::RedisConnection* conn = co_await reader.Get();
    if (conn == nullptr) continue;
    if (!group_ready) {
      // "0": a new group starts at the beginning of the stream, so that events
      // written before the first start are not lost.
      auto st = co_await redis::XGroupCreate(*conn, stream, settings_.group, "0");
      if (!st) {
        log::Warn("XGROUP CREATE failed", {{"stream", stream}, {"error", st.error().message}});
        co_await SleepUnless(1s, stopping);
        continue;
      }
      group_ready = true;
    }
    std::optional<std::chrono::milliseconds> block;
    if (!read_pending) block = settings_.block;
    auto entries = co_await redis::XReadGroup(*conn, stream, settings_.group, consumer_,
                                              static_cast<std::size_t>(settings_.batch_size), block,
                                              read_pending ? "0" : ">");
    if (!entries) {
      if (redis::IsRedisError(entries.error(), "NOGROUP")) {
        group_ready = false;
        continue;
      }
      co_await reader.Failed(entries.error());
      continue;
    }
    if (read_pending && entries->empty()) {
      read_pending = false;
      continue;
    }
    const bool ok = co_await Handle(stream, std::move(*entries));
    if (!ok) {
      read_pending = true;
      co_await SleepUnless(1s, stopping);
    }
  }
}

Task<void> StreamConsumers::ClaimLoop(std::function<bool()> stopping) {
  while (!stopping()) {
    co_await SleepUnless(settings_.claim_interval, stopping);
    if (stopping()) break;
    for (const std::string& stream : ConsumedStreams()) {
      std::string start = "0-0";
      for (int rounds = 0; rounds < 100 && !stopping(); ++rounds) {
        auto r = co_await redis::XAutoClaim(redis_, stream, settings_.group, consumer_,
                                            settings_.claim_min_idle, start,
                                            static_cast<std::size_t>(settings_.batch_size));
        if (!r) {
          if (!redis::IsRedisError(r.error(), "NOGROUP")) {
            log::Warn("XAUTOCLAIM failed", {{"stream", stream}, {"error", r.error().message}});
          }
          break;
        }
        if (!r->deleted_ids.empty()) co_await Ack(stream, r->deleted_ids);
        if (!r->entries.empty()) {
          log::Info("claimed pending entries of an idle consumer",
                    {{"stream", stream}, {"entries", r->entries.size()}});
          // A failure leaves them pending on this consumer; its own read loop
          // only re-reads its pending after a failure of its own, so the next
          // claim round (min idle) takes them again.
          (void)co_await Handle(stream, std::move(r->entries));
        }
        start = r->next_id;
        if (start == "0-0") break;
      }
    }
  }
}

Task<void> StreamConsumers::MaintenanceLoop(pg::Pool& pool, std::function<bool()> stopping) {
  Metrics& m = Metrics::Get();
  auto last_prune = std::chrono::steady_clock::now();
  auto last_cleanup = std::chrono::steady_clock::now();
  while (!stopping()) {
    for (const std::string& stream : ConsumedStreams()) {
      auto info = co_await redis_.Command("XINFO", "GROUPS", stream);
      if (!info || !info->IsArray()) continue;
      for (const auto& g : info->elements) {
        const auto* name = MapField(g, "name");
        if (name == nullptr || name->str != settings_.group) continue;
        if (const auto* lag = MapField(g, "lag"); lag != nullptr && lag->IsInteger()) {
          m.stream_lag.With({stream}).Set(static_cast<double>(lag->integer));
        }
        if (const auto* p = MapField(g, "pending"); p != nullptr && p->IsInteger()) {
          m.stream_pending.With({stream}).Set(static_cast<double>(p->integer));
        }
      }
    }
    if (auto depth = co_await CountQueuedDeliveries(pool)) {
      const auto retry = static_cast<double>(depth->retry);
      m.queue_depth.With({"waiting"}).Set(static_cast<double>(depth->waiting));
      m.queue_depth.With({"sending"}).Set(static_cast<double>(depth->sending));
      m.queue_depth.With({"retry"}).Set(retry);
      m.retry_depth.Set(retry);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_prune > 10min) {
      last_prune = now;
      const double secs = static_cast<double>(settings_.dedupe_retention.count());
      auto pruned = co_await PruneProcessedEvents(pool, secs);
      if (pruned && *pruned > 0) log::Info("pruned processed_events", {{"rows", *pruned}});
    }
    if (now - last_cleanup > 5min) {
      last_cleanup = now;
      // Consumers of dead processes with nothing pending are forgotten after an hour.
      for (const std::string& stream : ConsumedStreams()) {
        auto cs = co_await redis_.Command("XINFO", "CONSUMERS", stream, settings_.group);
        if (!cs || !cs->IsArray()) continue;
        for (const auto& c : cs->elements) {
          const auto* name = MapField(c, "name");
          const auto* pending = MapField(c, "pending");
          const auto* idle = MapField(c, "idle");
          if (name == nullptr || pending == nullptr || idle == nullptr) continue;
          if (pending->integer == 0 && idle->integer > 3600 * 1000) {
            (void)co_await redis_.Command("XGROUP", "DELCONSUMER", stream, settings_.group,
                                          name->str);
          }
        }
      }
    }
    co_await SleepUnless(5s, stopping);
  }
}

}  // namespace tchat::notification
