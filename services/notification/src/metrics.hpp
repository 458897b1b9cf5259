#pragma once

#include <tchat/core/metrics.hpp>

namespace tchat::notification {

// The service's own series, registered once in the default registry and shared
// by every worker (the series are lock-free to update).
struct Metrics {
  // notification_events_consumed_total{stream,type,outcome}
  //   outcome: processed, duplicate, ignored, poison
  metrics::CounterFamily& events;
  // notifications_sent_total{channel,provider}
  metrics::CounterFamily& sent;
  // notifications_failed_total{channel,reason}: retryable, permanent, unregistered,
  //   expired, no_device, dead_letter
  metrics::CounterFamily& failed;
  // notifications_suppressed_total{reason}: online, muted, push_disabled, quiet_hours, ...
  metrics::CounterFamily& suppressed;
  // notification_inbox_entries_total
  metrics::Counter& inbox;
  // notification_delivery_latency_seconds{channel}: event occurred_at → provider accepted
  metrics::HistogramFamily& latency;
  // notification_retry_queue_depth: deliveries waiting for a retry
  metrics::Gauge& retry_depth;
  // notification_queue_depth{state}: every row of the delivery queue by state
  metrics::GaugeFamily& queue_depth;
  // notification_stream_lag{stream}: entries not yet delivered to the group;
  // notification_stream_pending{stream}: delivered, not yet acknowledged.
  metrics::GaugeFamily& stream_lag;
  metrics::GaugeFamily& stream_pending;
  // notification_dead_letters_total{channel}
  metrics::CounterFamily& dead_letters;

  static Metrics& Get();
};

}  // namespace tchat::notification
