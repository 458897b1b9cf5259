#include "metrics.hpp"

namespace tchat::messaging {

Metrics& Metrics::Get() {
  static Metrics m = [] {
    auto& r = metrics::Registry::Default();
    Metrics x{};
    x.messages_appended =
        &r.AddCounter("messaging_messages_appended_total", "Messages stored (not duplicates).")
             .With(std::vector<std::string>{});
    x.send_batches =
        &r.AddCounter("messaging_send_batches_total", "Group commits of message sends.")
             .With(std::vector<std::string>{});
    x.send_batch_size = &r.AddHistogram("messaging_send_batch_size", "Messages per group commit.",
                                        {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
                             .With(std::vector<std::string>{});
    x.send_commit_seconds = &r.AddHistogram("messaging_send_commit_seconds",
                                            "Duration of one group commit in seconds.", {})
                                 .With(std::vector<std::string>{});
    x.ws_connections = &r.AddGauge("messaging_ws_connections", "Open WebSocket connections.")
                            .With(std::vector<std::string>{});
    x.frames_sent =
        &r.AddCounter("messaging_ws_frames_sent_total", "WebSocket frames written to clients.")
             .With(std::vector<std::string>{});
    x.slow_consumer_disconnects =
        &r.AddCounter("messaging_ws_slow_consumer_disconnects_total",
                      "Connections dropped because their outbound queue was full.")
             .With(std::vector<std::string>{});
    x.fanout_published =
        &r.AddCounter("messaging_fanout_published_total", "Events published to Redis for fan-out.")
             .With(std::vector<std::string>{});
    x.fanout_publish_errors = &r.AddCounter("messaging_fanout_publish_errors_total",
                                            "Fan-out events lost because Redis failed.")
                                   .With(std::vector<std::string>{});
    x.fanout_deliveries = &r.AddCounter("messaging_fanout_deliveries_total",
                                        "Events queued to local WebSocket connections.")
                               .With(std::vector<std::string>{});
    x.payment_events =
        &r.AddCounter("messaging_payment_events_total", "Payment events turned into chat messages.")
             .With(std::vector<std::string>{});
    x.rate_limited =
        &r.AddCounter("messaging_rate_limited_total", "Actions refused by a per-user rate limit.")
             .With(std::vector<std::string>{});
    x.ws_credential_closes =
        &r.AddCounter("messaging_ws_credential_closes_total",
                      "WebSockets closed because their token expired or session was revoked.")
             .With(std::vector<std::string>{});
    return x;
  }();
  return m;
}

}  // namespace tchat::messaging
