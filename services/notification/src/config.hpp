#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <tchat/core/config.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/sealed_box.hpp>

namespace tchat::notification {

// The service's own configuration (environment variables; durations as "250ms",
// "3s", "5m"). A bad value stops start-up with a message naming the key.
struct Config {
  // Streams and consumer group (docs/ARCHITECTURE.md, events).
  std::string group = "notification";               // NOTIFICATION_GROUP
  std::string consumer;                             // NOTIFICATION_CONSUMER [hostname-pid]
  int batch_size = 256;                             // NOTIFICATION_BATCH_SIZE
  std::chrono::milliseconds block{1000};            // NOTIFICATION_BLOCK
  std::chrono::milliseconds claim_min_idle{60000};  // NOTIFICATION_CLAIM_MIN_IDLE
  std::chrono::milliseconds claim_interval{10000};  // NOTIFICATION_CLAIM_INTERVAL
  // Presence written by messaging: a sorted set <prefix><user id> whose members
  // are scored with their expiry (Unix ms); online ⇔ a member not yet expired.
  std::string presence_prefix = "tchat:rt:presence:";  // NOTIFICATION_PRESENCE_PREFIX
  // Delivery.
  std::chrono::milliseconds collapse_window{1000};  // NOTIFICATION_COLLAPSE_WINDOW (0: off)
  std::chrono::milliseconds send_lease{60000};      // NOTIFICATION_SEND_LEASE
  std::chrono::milliseconds poll_interval{500};     // NOTIFICATION_POLL_INTERVAL
  std::chrono::milliseconds retry_base{1000};       // NOTIFICATION_RETRY_BASE
  std::chrono::milliseconds retry_max{600000};      // NOTIFICATION_RETRY_MAX
  int max_attempts = 10;                            // NOTIFICATION_MAX_ATTEMPTS
  int max_in_flight = 1024;                         // NOTIFICATION_MAX_IN_FLIGHT (per worker)
  // Provider requests whose outcomes are recorded together (one DELETE/UPDATE):
  // larger groups cost fewer writes, smaller ones leave less sent-but-unrecorded
  // work to re-send after a crash.
  int delivery_group = 64;                            // NOTIFICATION_DELIVERY_GROUP
  std::chrono::milliseconds provider_timeout{10000};  // NOTIFICATION_PROVIDER_TIMEOUT
  std::chrono::seconds max_push_age{86400};           // NOTIFICATION_MAX_PUSH_AGE
  std::chrono::seconds dedupe_retention{7 * 86400};   // NOTIFICATION_DEDUPE_RETENTION
  // Providers: "auto" picks webhook when its URL is set, else FCM/APNs when
  // configured, else log.
  std::string push_provider = "auto";  // NOTIFICATION_PUSH_PROVIDER: auto|webhook|fcm|log
  std::string sms_provider = "auto";   // NOTIFICATION_SMS_PROVIDER: auto|webhook|log
  std::string push_webhook_url;        // TCHAT_PUSH_WEBHOOK_URL (CommonConfig)
  std::string sms_webhook_url;         // TCHAT_SMS_WEBHOOK_URL
  // FCM HTTP v1.
  std::string fcm_project_id;        // FCM_PROJECT_ID
  std::string fcm_credentials_file;  // FCM_CREDENTIALS_FILE (service-account JSON)
  std::string fcm_endpoint = "https://fcm.googleapis.com";  // FCM_ENDPOINT
  // APNs (request building only; see apns.hpp).
  std::string apns_key_file;  // APNS_KEY_FILE (.p8)
  std::string apns_key_id;    // APNS_KEY_ID
  std::string apns_team_id;   // APNS_TEAM_ID
  std::string apns_topic;     // APNS_TOPIC (bundle id)
  // TCHAT_NOTIFICATION_SEAL_KEY (required, a secret of this service only): the
  // X25519 private key, 64 hex digits, that opens the OTP codes auth seals to its
  // public half (TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY, auth's setting).
  std::shared_ptr<const SealedBoxOpener> otp_opener;
};

Result<Config> LoadConfig(const ConfigReader& reader, const CommonConfig& common);

}  // namespace tchat::notification
