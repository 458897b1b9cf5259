#pragma once

#include <tchat/core/metrics.hpp>

namespace tchat::messaging {

// The service's own series (registered once, process-wide; lock-free to update).
struct Metrics {
  metrics::Counter* messages_appended;          // messaging_messages_appended_total
  metrics::Counter* send_batches;               // messaging_send_batches_total
  metrics::Histogram* send_batch_size;          // messaging_send_batch_size
  metrics::Histogram* send_commit_seconds;      // messaging_send_commit_seconds
  metrics::Gauge* ws_connections;               // messaging_ws_connections
  metrics::Counter* frames_sent;                // messaging_ws_frames_sent_total
  metrics::Counter* slow_consumer_disconnects;  // messaging_ws_slow_consumer_disconnects_total
  metrics::Counter* fanout_published;           // messaging_fanout_published_total
  metrics::Counter* fanout_publish_errors;      // messaging_fanout_publish_errors_total
  metrics::Counter* fanout_deliveries;          // messaging_fanout_deliveries_total
  metrics::Counter* payment_events;             // messaging_payment_events_total
  metrics::Counter* rate_limited;               // messaging_rate_limited_total
  metrics::Counter* ws_credential_closes;       // messaging_ws_credential_closes_total

  static Metrics& Get();
};

}  // namespace tchat::messaging
