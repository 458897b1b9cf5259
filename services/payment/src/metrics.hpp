#pragma once

#include <array>
#include <string_view>

#include <tchat/core/metrics.hpp>

namespace tchat::payment {

// The payment service's own series in the process-wide registry. Registered once
// (Get() is thread-safe); every member is lock-free or takes the family's shared
// lock, so any worker may use it.
//
//   payment_transfers_total{kind,result}            transfers by outcome
//   payment_transfer_amount_minor_total{currency}   completed amounts, minor units
//   payment_idempotent_replays_total                answers served from a stored key
//   payment_webhook_rejections_total{reason}        refused provider webhooks
//   payment_webhook_events_total{type,outcome}      accepted webhooks by effect
//   payment_transfer_batch_size                     transfers per database batch
//   payment_rate_limited_total{route}               money requests refused with 429
//   payment_rate_limit_errors_total                 money requests admitted unchecked
//                                                   because Redis failed (fail open)
//   payment_user_lookups_total{result}              counterparty checks (UserDirectory):
//                                                   cached, found, not_found, refused,
//                                                   unavailable
class Metrics {
 public:
  static Metrics& Get();

  void Transfer(std::string_view kind, std::string_view result);
  void Amount(std::string_view currency, std::int64_t minor_units);
  void Replay() { replays_.Inc(); }
  void WebhookRejected(std::string_view reason);
  void WebhookEvent(std::string_view type, std::string_view outcome);
  void BatchSize(std::size_t n) { batch_size_.Observe(static_cast<double>(n)); }
  // The refusal counter of one route template; the reference stays valid for
  // the life of the process (callers may keep it).
  metrics::Counter& RateLimited(std::string_view route);
  void RateLimitError() { rate_limit_errors_.Inc(); }
  enum class Lookup { kCached, kFound, kNotFound, kRefused, kUnavailable };
  // A counterparty check's result (no lookup of the series: on every transfer).
  void UserLookup(Lookup result) { user_lookups_[static_cast<std::size_t>(result)]->Inc(); }

 private:
  Metrics();

  metrics::CounterFamily& transfers_;
  metrics::CounterFamily& amounts_;
  metrics::Counter& replays_;
  metrics::CounterFamily& rejections_;
  metrics::CounterFamily& events_;
  metrics::Histogram& batch_size_;
  metrics::CounterFamily& rate_limited_;
  metrics::Counter& rate_limit_errors_;
  std::array<metrics::Counter*, 5> user_lookups_{};  // by Lookup
};

}  // namespace tchat::payment
