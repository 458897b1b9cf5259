#include "messaging_config.hpp"

namespace tchat::messaging {

Result<MessagingConfig> LoadMessagingConfig(const ConfigReader& r) {
  MessagingConfig c;
  auto batch = r.Int("messaging_send_batch_max", 256, 1, 10000);
  if (!batch) return std::move(batch).error();
  c.send_batch_max = static_cast<std::size_t>(*batch);
  auto lanes = r.Int("messaging_send_lanes", 1, 1, 64);
  if (!lanes) return std::move(lanes).error();
  c.send_lanes = static_cast<std::size_t>(*lanes);
  auto linger = r.Duration("messaging_send_linger", std::chrono::milliseconds(5));
  if (!linger) return std::move(linger).error();
  if (*linger > std::chrono::seconds(1)) {
    return Error::InvalidArgument("config messaging_send_linger: at most 1s");
  }
  c.send_linger = *linger;
  auto linger_from = r.Int("messaging_send_linger_from", 16, 1, 10000);
  if (!linger_from) return std::move(linger_from).error();
  c.send_linger_from = static_cast<std::size_t>(*linger_from);
  auto frames = r.Int("messaging_ws_queue_frames", 1024, 8, 1'000'000);
  if (!frames) return std::move(frames).error();
  c.session.max_queued_frames = static_cast<std::size_t>(*frames);
  auto bytes = r.Int("messaging_ws_queue_bytes", 4 << 20, 64 << 10, std::int64_t{1} << 32);
  if (!bytes) return std::move(bytes).error();
  c.session.max_queued_bytes = static_cast<std::size_t>(*bytes);
  auto inflight = r.Int("messaging_ws_max_inflight_sends", 256, 1, 100000);
  if (!inflight) return std::move(inflight).error();
  c.session.max_inflight_sends = static_cast<int>(*inflight);
  auto members = r.Int("messaging_max_group_members", 1000, 2, 100000);
  if (!members) return std::move(members).error();
  c.service.max_group_members = static_cast<std::size_t>(*members);
  auto ttl = r.Duration("messaging_presence_ttl", std::chrono::seconds(60));
  if (!ttl) return std::move(ttl).error();
  if (*ttl < std::chrono::seconds(3)) {
    return Error::InvalidArgument("config messaging_presence_ttl: must be at least 3s");
  }
  c.presence_ttl = *ttl;
  auto prefix = r.String("messaging_redis_prefix", "tchat:rt:");
  if (!prefix) return std::move(prefix).error();
  c.redis_prefix = std::move(*prefix);
  auto consumer = r.Bool("messaging_payment_consumer", true);
  if (!consumer) return std::move(consumer).error();
  c.payment_consumer = *consumer;
  auto relay = r.Bool("messaging_outbox_relay", true);
  if (!relay) return std::move(relay).error();
  c.outbox_relay = *relay;
  return c;
}

}  // namespace tchat::messaging
