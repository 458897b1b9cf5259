#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <tchat/core/config.hpp>
#include <tchat/core/result.hpp>

#include "media_files.hpp"
#include "service.hpp"
#include "user_limits.hpp"
#include "ws_session.hpp"

namespace tchat::messaging {

// The messaging service's own settings, from the environment (each key read as
// written, then upper-cased; a bad value names the key):
//   messaging_send_batch_max        messages per group commit            [256]
//   messaging_send_lanes            group commits in flight per worker   [1]
//   messaging_send_linger           least time between commits of a worker
//                                   under load ("5ms", "0" never waits)  [5ms]
//   messaging_send_linger_from      commit size that counts as load      [16]
//   messaging_ws_queue_frames       outbound frames per connection       [1024]
//   messaging_ws_queue_bytes        outbound bytes per connection        [4194304]
//   messaging_ws_max_inflight_sends message.send being committed per conn [256]
//   messaging_max_group_members     members of a group                   [1000]
//   messaging_presence_ttl          presence entry life ("60s")          [60s]
//   messaging_redis_prefix          prefix of real-time keys/channels    [tchat:rt:]
//   messaging_rate_messages_per_minute    messages a user sends (0: no limit)   [300]
//   messaging_rate_typing_per_minute      typing frames of a user               [120]
//   messaging_rate_groups_per_hour        groups a user creates                 [30]
//   messaging_rate_ws_connects_per_minute WebSockets a user opens               [30]
//   messaging_rate_searches_per_minute    searches a user makes                 [60]
//   messaging_rate_uploads_per_minute     media uploads of a user               [30]
//   TCHAT_MEDIA_DIR                 the media store's directory          [media, in the
//                                   working directory: the run directory of scripts/start.sh]
//   TCHAT_MEDIA_URL_KEY             key of the signed media URLs (secret, >= 32 characters;
//                                   absent: a random key of this process, with a warning:
//                                   URLs then work only on this replica)
//   messaging_media_max_image_bytes / _voice_bytes / _video_bytes / _file_bytes
//                                   upload limits per kind [16 MiB, 16 MiB, 100 MiB, 100 MiB]
//   messaging_media_quota_bytes     bytes of uploads a user may hold     [1 GiB]
//   messaging_media_unattached_ttl  life of an upload no message carries [24h]
//   messaging_media_url_ttl         life of a signed media URL (<= 1h)   [1h]
//   messaging_media_sweep_interval  time between two sweeps              [10m]
//   messaging_payment_consumer      consume tchat.events.payment         [true]
//   messaging_outbox_relay          relay the outbox to its stream       [true]
struct Config {
  std::size_t send_batch_max = 256;
  std::size_t send_lanes = 1;
  std::chrono::milliseconds send_linger{5};
  std::size_t send_linger_from = 16;
  SessionLimits session;
  ServiceOptions service;
  std::chrono::milliseconds presence_ttl{60000};
  std::string redis_prefix = "tchat:rt:";
  UserLimitsOptions limits;  // its prefix is redis_prefix
  std::string media_dir = "media";
  std::string media_url_key;
  MediaLimits media_limits;
  std::int64_t media_quota_bytes = std::int64_t{1} << 30;
  std::chrono::milliseconds media_unattached_ttl{std::chrono::hours(24)};
  std::chrono::milliseconds media_url_ttl{std::chrono::hours(1)};
  std::chrono::milliseconds media_sweep_interval{std::chrono::minutes(10)};
  bool payment_consumer = true;
  bool outbox_relay = true;
};

Result<Config> LoadConfig(const ConfigReader& reader, const CommonConfig& common);

}  // namespace tchat::messaging
