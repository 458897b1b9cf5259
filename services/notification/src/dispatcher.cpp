#include "dispatcher.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <tchat/core/log.hpp>
#include <tchat/core/pg/array.hpp>
#include <tchat/core/uuid.hpp>

#include "delivery_store.hpp"
#include "metrics.hpp"

namespace tchat::notification {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::chrono::milliseconds RetryDelay(int attempt, std::chrono::milliseconds base,
                                     std::chrono::milliseconds max,
                                     std::optional<std::chrono::seconds> retry_after,
                                     std::minstd_rand& rng) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const double exp = static_cast<double>(base.count()) * static_cast<double>(1LL << shift);
  const auto capped = static_cast<std::int64_t>(std::min(exp, static_cast<double>(max.count())));
  const std::int64_t half = capped / 2;
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(half, 0));
  std::chrono::milliseconds d(capped - half + jitter(rng));
  if (retry_after) d = std::max<std::chrono::milliseconds>(d, *retry_after);
  return d;
}

struct Dispatcher::Target {
  std::size_t row = 0;
  std::string device_id;
  std::string platform;
  PushMessage push;
  SmsMessage sms;
  bool is_sms = false;
  std::string provider;
  SendResult result;
  bool skipped = false;  // not sent: the row's lease was running out
};

Dispatcher::Dispatcher(asio::any_io_executor ex, pg::Pool& pool, PushRouter& push, SmsProvider& sms,
                       const Config& settings)
    : ex_(ex),
      pool_(pool),
      push_(push),
      sms_(sms),
      settings_(settings),
      limiter_(ex, settings.max_in_flight),
      alarm_(ex),
      writer_(ex, pool),
      rng_(std::random_device{}()) {}

Task<void> Dispatcher::SendOne(Target& t, WaitGroup& wg) {
  try {
    if (t.is_sms) {
      t.provider = std::string(sms_.name());
      t.result = co_await sms_.Send(t.sms);
    } else {
      PushProvider& p = push_.For(t.platform);
      t.provider = std::string(p.name());
      t.result = co_await p.Send(t.push);
    }
  } catch (const std::exception& e) {
    t.result = SendResult{Outcome::kRetryable, std::string("exception: ") + e.what(), {}};
  }
  --in_flight_;
  limiter_.Release();
  wg.Done();
}

// One Deliver call: its rows, rendered once each, one target per device (or
// SMS), and per row what is left to retry or to dead-letter once the targets
// have been sent. Lives in Deliver's frame: targets point into `pushes` and
// `smses`, which are sized once.
struct Dispatcher::Group {
  struct RowState {
    std::vector<std::string> retry_devices;
    std::string retry_error;
    std::optional<std::chrono::seconds> retry_after;
    bool retry_sms = false;
    bool dropped = false;
  };
  // A dead letter: (row, device id, platform, error).
  struct Dead {
    std::size_t row;
    std::string device_id;
    std::string platform;
    std::string error;
  };

  std::vector<QueuedDelivery> rows;
  std::vector<RenderedPush> pushes;
  std::vector<RenderedSms> smses;
  std::vector<Target> targets;
  std::vector<RowState> state;
  std::vector<Dead> dead;
  std::vector<std::string> unregistered;  // device ids

  explicit Group(std::vector<QueuedDelivery> r) : rows(std::move(r)) {}

  // 1. The users of push rows that do not carry their devices (sorted, once
  // each); AttachDevices gives those rows their devices (DevicesOfUsers).
  std::vector<std::string> UsersWithoutDevices() const {
    std::vector<std::string> users;
    for (const auto& r : rows) {
      if (r.channel == "push" && !r.devices) users.push_back(r.user_id);
    }
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    return users;
  }

  void AttachDevices(std::vector<Device> devices) {
    std::unordered_map<std::string, std::vector<Device>> by_user;
    for (Device& d : devices) {
      std::string user = d.user_id;
      by_user[user].push_back(std::move(d));
    }
    for (auto& r : rows) {
      if (r.channel != "push" || r.devices) continue;
      std::vector<Device> devs = by_user[r.user_id];
      if (r.device_ids) {
        std::unordered_set<std::string> want(r.device_ids->begin(), r.device_ids->end());
        std::erase_if(devs, [&](const Device& d) { return !want.contains(d.id); });
      }
      r.devices = std::move(devs);
    }
  }

  // 2. Renders each row once and makes its targets; rows with nothing to send
  // (expired SMS, no device) are dropped, unrenderable ones dead-lettered.
  void Render(Metrics& metrics, const SealedBoxOpener& opener) {
    pushes.resize(rows.size());
    smses.resize(rows.size());
    state.resize(rows.size());
    const auto now = std::chrono::system_clock::now();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QueuedDelivery& r = rows[i];
      if (r.channel == "sms") {
        RenderSmsRow(i, now, metrics, opener);
        continue;
      }
      pushes[i] = RenderPush(r.payload, std::max(1, r.msg_count));
      if (!r.devices || r.devices->empty()) {
        metrics.failed.With({"push", "no_device"}).Inc();
        state[i].dropped = true;
        continue;
      }
      for (const Device& d : *r.devices) {
        Target t;
        t.row = i;
        t.device_id = d.id;
        t.platform = d.platform;
        t.push = PushMessage{r.id + "." + d.id, d.id,       r.user_id, d.platform,
                             d.token,           r.event_id, &pushes[i]};
        targets.push_back(std::move(t));
      }
    }
  }

  void RenderSmsRow(std::size_t i, std::chrono::system_clock::time_point now, Metrics& metrics,
                    const SealedBoxOpener& opener) {
    const QueuedDelivery& r = rows[i];
    auto s = RenderSms(r.payload, opener);
    if (!s) {
      dead.push_back({i, "", "", "render: " + s.error().message});
      return;
    }
    if (s->expires_at && *s->expires_at <= now) {
      metrics.failed.With({"sms", "expired"}).Inc();
      state[i].dropped = true;
      return;
    }
    smses[i] = std::move(*s);
    Target t;
    t.row = i;
    t.is_sms = true;
    t.sms = SmsMessage{r.id, r.event_id, &smses[i]};
    targets.push_back(std::move(t));
  }

  // 4. What each target's answer means for its row.
  void TakeOutcomes(Metrics& metrics) {
    const auto sent_at = std::chrono::system_clock::now();
    for (const Target& t : targets) {
      const std::string channel = t.is_sms ? "sms" : "push";
      RowState& rs = state[t.row];
      if (t.skipped) {
        Retry(rs, t);
        continue;
      }
      switch (t.result.outcome) {
        case Outcome::kDelivered: {
          metrics.sent.With({channel, t.provider}).Inc();
          auto event_at = t.is_sms ? smses[t.row].event_at : pushes[t.row].event_at;
          if (event_at) {
            metrics.latency.With({channel}).Observe(
                std::chrono::duration<double>(sent_at - *event_at).count());
          }
          break;
        }
        case Outcome::kRetryable:
          metrics.failed.With({channel, "retryable"}).Inc();
          Retry(rs, t);
          rs.retry_error = t.result.error.empty() ? "retryable" : t.result.error;
          if (t.result.retry_after &&
              (!rs.retry_after || *t.result.retry_after > *rs.retry_after)) {
            rs.retry_after = t.result.retry_after;
          }
          break;
        case Outcome::kPermanent:
          metrics.failed.With({channel, "permanent"}).Inc();
          dead.push_back({t.row, t.device_id, t.platform, t.result.error});
          break;
        case Outcome::kUnregistered:
          metrics.failed.With({channel, "unregistered"}).Inc();
          if (!t.is_sms) {
            unregistered.push_back(t.device_id);
          } else {
            dead.push_back({t.row, "", "", t.result.error});
          }
          break;
      }
    }
  }

  static void Retry(RowState& rs, const Target& t) {
    if (t.is_sms) {
      rs.retry_sms = true;
    } else {
      rs.retry_devices.push_back(t.device_id);
    }
  }

  // 5. The rows' records: finished rows deleted, retries rescheduled (with
  // backoff), exhausted ones dead-lettered.
  void RecordRows(DeliveryOutcomes& out, const Config& settings, std::minstd_rand& rng) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const QueuedDelivery& r = rows[i];
      const RowState& rs = state[i];
      const bool retry = rs.retry_sms || !rs.retry_devices.empty();
      if (!retry) {
        out.done.Add(r.id);
        continue;
      }
      // Only targets that were skipped (lease): no attempt was made.
      const bool attempted = !rs.retry_error.empty();
      const int attempt = r.attempts + (attempted ? 1 : 0);
      if (attempted && attempt >= settings.max_attempts) {
        DeadLetterRetries(i);
        out.done.Add(r.id);
        continue;
      }
      const auto delay = attempted ? RetryDelay(attempt, settings.retry_base, settings.retry_max,
                                                rs.retry_after, rng)
                                   : std::chrono::milliseconds(0);
      out.retry_id.Add(r.id);
      out.retry_inc.Add(attempted ? "1" : "0");
      if (rs.retry_sms) {
        out.retry_devices.AddNull();
      } else {
        out.retry_devices.Add(pg::ToArray(rs.retry_devices));
      }
      out.retry_ms.Add(std::to_string(delay.count()));
      out.retry_error.Add(
          TruncateUtf8(attempted ? rs.retry_error : "lease ran out before sending", 500));
    }
  }

  // Row i's targets left to retry after its last attempt become dead letters.
  void DeadLetterRetries(std::size_t i) {
    const QueuedDelivery& r = rows[i];
    const RowState& rs = state[i];
    if (rs.retry_sms) {
      dead.push_back({i, "", "", "retries exhausted: " + rs.retry_error});
    }
    for (const auto& d : rs.retry_devices) {
      std::string platform;
      for (const auto& dev : *r.devices) {
        if (dev.id == d) platform = dev.platform;
      }
      dead.push_back({i, d, platform, "retries exhausted: " + rs.retry_error});
    }
  }

  void RecordDead(DeliveryOutcomes& out, Metrics& metrics) const {
    for (const Dead& d : dead) {
      const QueuedDelivery& r = rows[d.row];
      json::object payload = r.payload;
      payload["count"] = r.msg_count;
      out.dead_id.Add(NewUuidV7());
      out.dead_channel.Add(r.channel);
      out.dead_user.Add(r.user_id);
      out.dead_device.Add(d.device_id);
      out.dead_platform.Add(d.platform);
      out.dead_payload.Add(ToJson(payload));
      out.dead_attempts.Add(std::to_string(r.attempts + 1));
      out.dead_error.Add(TruncateUtf8(d.error.empty() ? "failed" : d.error, 500));
      out.dead_event.Add(r.event_id);
      metrics.dead_letters.With({r.channel}).Inc();
      metrics.failed.With({r.channel, "dead_letter"}).Inc();
    }
  }

  void RecordUnregistered(DeliveryOutcomes& out) const {
    for (const auto& id : unregistered) out.unregistered.Add(id);
    if (!unregistered.empty()) {
      log::Info("devices removed: provider says unregistered",
                {{"count", static_cast<std::int64_t>(unregistered.size())}});
    }
  }
};

Task<void> Dispatcher::Deliver(std::vector<QueuedDelivery> rows) {
  Metrics& metrics = Metrics::Get();
  if (rows.empty()) co_return;
  active_.fetch_add(1, std::memory_order_relaxed);
  struct Done {
    std::atomic<int>& n;
    ~Done() { n.fetch_sub(1, std::memory_order_relaxed); }
  } done_guard{active_};
  Group g(std::move(rows));
  // 1. Devices of push rows that do not carry them.
  if (const std::vector<std::string> users = g.UsersWithoutDevices(); !users.empty()) {
    auto res = co_await DevicesOfUsers(pool_, users);
    if (!res) {
      log::Warn("delivery: cannot load devices; rows stay leased",
                {{"error", res.error().message}, {"rows", g.rows.size()}});
      co_return;
    }
    g.AttachDevices(std::move(*res));
  }

  // 2. Render once per row, one target per device.
  g.Render(metrics, *settings_.otp_opener);

  // 3. Send everything, at most max_in_flight at once on this worker.
  {
    WaitGroup wg(ex_);
    // Only send while the lease leaves time for the answer and the record;
    // otherwise the row goes back unsent (someone else may claim it then).
    const auto margin = settings_.provider_timeout + std::chrono::seconds(2);
    for (Target& t : g.targets) {
      if (std::chrono::steady_clock::now() + margin > g.rows[t.row].lease_until) {
        t.skipped = true;
        continue;
      }
      if (!limiter_.TryAcquire()) co_await limiter_.Acquire();
      if (std::chrono::steady_clock::now() + margin > g.rows[t.row].lease_until) {
        limiter_.Release();
        t.skipped = true;
        continue;
      }
      ++in_flight_;
      wg.Add();
      asio::co_spawn(ex_, SendOne(t, wg), asio::detached);
    }
    co_await wg.Wait();
  }

  // 4. Outcomes.
  g.TakeOutcomes(metrics);

  // 5. Record: delete finished rows, reschedule retries, dead-letter the rest.
  DeliveryOutcomes out;
  g.RecordRows(out, settings_, rng_);
  g.RecordDead(out, metrics);
  g.RecordUnregistered(out);
  if (out.empty()) co_return;
  // Written together with other groups' outcomes (one write in flight per worker).
  Status w = co_await writer_.Write(std::move(out));
  if (!w) {
    // The rows stay leased: after the lease they are sent again (at least once).
    log::Error("delivery: cannot record outcomes", {{"error", w.error().message}});
  }
}

void Dispatcher::Dispatch(std::vector<QueuedDelivery> rows) {
  const auto group_size = static_cast<std::size_t>(settings_.delivery_group);
  std::vector<QueuedDelivery> group;
  std::size_t targets = 0;
  for (auto& r : rows) {
    targets += r.devices ? std::max<std::size_t>(1, r.devices->size()) : 1;
    group.push_back(std::move(r));
    if (targets >= group_size) {
      asio::co_spawn(ex_, Deliver(std::move(group)), asio::detached);
      group = {};
      targets = 0;
    }
  }
  if (!group.empty()) asio::co_spawn(ex_, Deliver(std::move(group)), asio::detached);
}

Task<Result<std::vector<QueuedDelivery>>> Dispatcher::ClaimDue(int limit) {
  const auto lease_from = std::chrono::steady_clock::now();
  auto r =
      co_await ClaimDueDeliveries(pool_, limit, static_cast<double>(settings_.send_lease.count()));
  if (!r) co_return std::move(r).error();
  for (QueuedDelivery& q : *r) q.lease_until = lease_from + settings_.send_lease;
  co_return std::move(*r);
}

Task<void> Dispatcher::PollLoop(std::function<bool()> stopping) {
  constexpr int kClaimBatch = 200;
  auto last_error_log = std::chrono::steady_clock::time_point{};
  while (!stopping()) {
    // Leave room for the consumers' own sends before claiming more.
    if (in_flight_ > settings_.max_in_flight / 2) {
      co_await alarm_.WaitUntil(std::chrono::steady_clock::now() + 20ms);
      continue;
    }
    auto claimed = co_await ClaimDue(kClaimBatch);
    if (!claimed) {
      if (std::chrono::steady_clock::now() - last_error_log > 10s) {
        log::Warn("delivery poller: claim failed", {{"error", claimed.error().message}});
        last_error_log = std::chrono::steady_clock::now();
      }
      co_await alarm_.WaitUntil(std::chrono::steady_clock::now() + settings_.poll_interval);
      continue;
    }
    const bool full = static_cast<int>(claimed->size()) == kClaimBatch;
    if (!claimed->empty()) {
      Dispatch(std::move(*claimed));
    }
    if (!full) {
      co_await alarm_.WaitUntil(std::chrono::steady_clock::now() + settings_.poll_interval);
    }
  }
}

}  // namespace tchat::notification
