#include "metrics.hpp"

namespace tchat::notification {

Metrics& Metrics::Get() {
  auto& r = metrics::Registry::Default();
  static Metrics m{
      r.AddCounter("notification_events_consumed_total", "Stream events consumed, by outcome.",
                   {"stream", "type", "outcome"}),
      r.AddCounter("notifications_sent_total", "Notifications accepted by a provider.",
                   {"channel", "provider"}),
      r.AddCounter("notifications_failed_total", "Notification delivery failures, by reason.",
                   {"channel", "reason"}),
      r.AddCounter("notifications_suppressed_total",
                   "Pushes not sent because of a rule or preference.", {"reason"}),
      r.AddCounter("notification_inbox_entries_total", "Inbox entries written.").With({}),
      r.AddHistogram("notification_delivery_latency_seconds",
                     "From the event's occurred_at to the provider's acceptance.", {"channel"},
                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}),
      r.AddGauge("notification_retry_queue_depth", "Deliveries waiting for a retry.").With({}),
      r.AddGauge("notification_queue_depth", "Delivery queue rows by state.", {"state"}),
      r.AddGauge("notification_stream_lag", "Stream entries not yet read by the group.",
                 {"stream"}),
      r.AddGauge("notification_stream_pending", "Stream entries read but not acknowledged.",
                 {"stream"}),
      r.AddCounter("notification_dead_letters_total", "Deliveries moved to the dead-letter table.",
                   {"channel"}),
  };
  return m;
}

}  // namespace tchat::notification
