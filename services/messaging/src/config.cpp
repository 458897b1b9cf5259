#include "config.hpp"

namespace tchat::messaging {

namespace {

void LoadMediaConfig(const ConfigReader& r, ConfigLoader& load, Config& c) {
  load.Read(c.media_dir, r.String("TCHAT_MEDIA_DIR", "media"));
  load.Require(!c.media_dir.empty(), "TCHAT_MEDIA_DIR", "must not be empty");
  load.Read(c.media_url_key, r.String("TCHAT_MEDIA_URL_KEY", ""));
  load.Require(c.media_url_key.empty() || c.media_url_key.size() >= 32, "TCHAT_MEDIA_URL_KEY",
               "must be at least 32 characters");
  constexpr std::int64_t kMax = std::int64_t{1} << 40;
  load.Read(c.media_limits.image, r.Int("messaging_media_max_image_bytes", 16 << 20, 1024, kMax));
  load.Read(c.media_limits.voice, r.Int("messaging_media_max_voice_bytes", 16 << 20, 1024, kMax));
  load.Read(c.media_limits.video, r.Int("messaging_media_max_video_bytes", 100 << 20, 1024, kMax));
  load.Read(c.media_limits.file, r.Int("messaging_media_max_file_bytes", 100 << 20, 1024, kMax));
  load.Read(c.media_quota_bytes,
            r.Int("messaging_media_quota_bytes", std::int64_t{1} << 30, 0, std::int64_t{1} << 50));
  load.Read(c.media_unattached_ttl,
            r.Duration("messaging_media_unattached_ttl", std::chrono::hours(24)));
  load.Require(c.media_unattached_ttl >= std::chrono::seconds(1), "messaging_media_unattached_ttl",
               "must be at least 1s");
  load.Read(c.media_url_ttl, r.Duration("messaging_media_url_ttl", std::chrono::hours(1)));
  load.Require(
      c.media_url_ttl >= std::chrono::seconds(10) && c.media_url_ttl <= std::chrono::hours(1),
      "messaging_media_url_ttl", "must be between 10s and 1h");
  load.Read(c.media_sweep_interval,
            r.Duration("messaging_media_sweep_interval", std::chrono::minutes(10)));
  load.Require(c.media_sweep_interval >= std::chrono::milliseconds(100),
               "messaging_media_sweep_interval", "must be at least 100ms");
}

}  // namespace

Result<Config> LoadConfig(const ConfigReader& r, const CommonConfig& /*common*/) {
  Config c;
  ConfigLoader load;
  load.Read(c.send_batch_max, r.Int("messaging_send_batch_max", 256, 1, 10000));
  load.Read(c.send_lanes, r.Int("messaging_send_lanes", 1, 1, 64));
  load.Read(c.send_linger, r.Duration("messaging_send_linger", std::chrono::milliseconds(5)));
  load.Require(c.send_linger <= std::chrono::seconds(1), "messaging_send_linger", "at most 1s");
  load.Read(c.send_linger_from, r.Int("messaging_send_linger_from", 16, 1, 10000));
  load.Read(c.session.max_queued_frames, r.Int("messaging_ws_queue_frames", 1024, 8, 1'000'000));
  load.Read(c.session.max_queued_bytes,
            r.Int("messaging_ws_queue_bytes", 4 << 20, 64 << 10, std::int64_t{1} << 32));
  load.Read(c.session.max_inflight_sends, r.Int("messaging_ws_max_inflight_sends", 256, 1, 100000));
  load.Read(c.service.max_group_members, r.Int("messaging_max_group_members", 1000, 2, 100000));
  load.Read(c.presence_ttl, r.Duration("messaging_presence_ttl", std::chrono::seconds(60)));
  load.Require(c.presence_ttl >= std::chrono::seconds(3), "messaging_presence_ttl",
               "must be at least 3s");
  load.Read(c.redis_prefix, r.String("messaging_redis_prefix", "tchat:rt:"));
  load.Read(c.limits.messages.count,
            r.Int("messaging_rate_messages_per_minute", 300, 0, 1'000'000'000));
  load.Read(c.limits.typing.count,
            r.Int("messaging_rate_typing_per_minute", 120, 0, 1'000'000'000));
  load.Read(c.limits.groups.count, r.Int("messaging_rate_groups_per_hour", 30, 0, 1'000'000'000));
  load.Read(c.limits.connections.count,
            r.Int("messaging_rate_ws_connects_per_minute", 30, 0, 1'000'000'000));
  load.Read(c.limits.searches.count,
            r.Int("messaging_rate_searches_per_minute", 60, 0, 1'000'000'000));
  load.Read(c.limits.uploads.count,
            r.Int("messaging_rate_uploads_per_minute", 30, 0, 1'000'000'000));
  c.limits.prefix = c.redis_prefix;
  LoadMediaConfig(r, load, c);
  load.Read(c.payment_consumer, r.Bool("messaging_payment_consumer", true));
  load.Read(c.outbox_relay, r.Bool("messaging_outbox_relay", true));
  return std::move(load).Finish(std::move(c));
}

}  // namespace tchat::messaging
