#include "config.hpp"

#include <sodium.h>
#include <unistd.h>

namespace tchat::notification {

namespace {

std::string DefaultConsumer() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string h = host[0] != '\0' ? host : "notification";
  return h + "-" + std::to_string(getpid());
}

}  // namespace

Result<Config> LoadConfig(const ConfigReader& r, const CommonConfig& common) {
  Config s;
  ConfigLoader load;
  load.Read(s.group, r.String("NOTIFICATION_GROUP", s.group));
  load.Read(s.consumer, r.String("NOTIFICATION_CONSUMER", DefaultConsumer()));
  load.Read(s.batch_size, r.Int("NOTIFICATION_BATCH_SIZE", s.batch_size, 1, 10000));
  load.Read(s.block, r.Duration("NOTIFICATION_BLOCK", s.block));
  load.Read(s.claim_min_idle, r.Duration("NOTIFICATION_CLAIM_MIN_IDLE", s.claim_min_idle));
  load.Read(s.claim_interval, r.Duration("NOTIFICATION_CLAIM_INTERVAL", s.claim_interval));
  load.Read(s.presence_prefix, r.String("NOTIFICATION_PRESENCE_PREFIX", s.presence_prefix));
  load.Read(s.collapse_window, r.Duration("NOTIFICATION_COLLAPSE_WINDOW", s.collapse_window));
  load.Read(s.send_lease, r.Duration("NOTIFICATION_SEND_LEASE", s.send_lease));
  load.Read(s.poll_interval, r.Duration("NOTIFICATION_POLL_INTERVAL", s.poll_interval));
  load.Read(s.retry_base, r.Duration("NOTIFICATION_RETRY_BASE", s.retry_base));
  load.Read(s.retry_max, r.Duration("NOTIFICATION_RETRY_MAX", s.retry_max));
  load.Read(s.max_attempts, r.Int("NOTIFICATION_MAX_ATTEMPTS", s.max_attempts, 1, 100));
  load.Read(s.max_in_flight, r.Int("NOTIFICATION_MAX_IN_FLIGHT", s.max_in_flight, 1, 100000));
  load.Read(s.delivery_group, r.Int("NOTIFICATION_DELIVERY_GROUP", s.delivery_group, 1, 100000));
  load.Read(s.provider_timeout, r.Duration("NOTIFICATION_PROVIDER_TIMEOUT", s.provider_timeout));
  load.Read(s.max_push_age, r.Duration("NOTIFICATION_MAX_PUSH_AGE", s.max_push_age));
  load.Read(s.dedupe_retention, r.Duration("NOTIFICATION_DEDUPE_RETENTION", s.dedupe_retention));
  load.Read(s.push_provider, r.String("NOTIFICATION_PUSH_PROVIDER", s.push_provider));
  load.Read(s.sms_provider, r.String("NOTIFICATION_SMS_PROVIDER", s.sms_provider));
  load.Read(s.fcm_project_id, r.String("FCM_PROJECT_ID", ""));
  load.Read(s.fcm_credentials_file, r.String("FCM_CREDENTIALS_FILE", ""));
  load.Read(s.fcm_endpoint, r.String("FCM_ENDPOINT", s.fcm_endpoint));
  load.Read(s.apns_key_file, r.String("APNS_KEY_FILE", ""));
  load.Read(s.apns_key_id, r.String("APNS_KEY_ID", ""));
  load.Read(s.apns_team_id, r.String("APNS_TEAM_ID", ""));
  load.Read(s.apns_topic, r.String("APNS_TOPIC", ""));
  s.push_webhook_url = common.push_webhook_url;
  s.sms_webhook_url = common.sms_webhook_url;

  load.Require(!s.consumer.empty() && s.consumer.size() <= 200, "NOTIFICATION_CONSUMER",
               "must be 1-200 characters");
  load.Require(s.push_provider == "auto" || s.push_provider == "webhook" ||
                   s.push_provider == "fcm" || s.push_provider == "log",
               "NOTIFICATION_PUSH_PROVIDER", "must be auto, webhook, fcm or log");
  load.Require(s.sms_provider == "auto" || s.sms_provider == "webhook" || s.sms_provider == "log",
               "NOTIFICATION_SMS_PROVIDER", "must be auto, webhook or log");
  load.Require(s.push_provider != "webhook" || !s.push_webhook_url.empty(),
               "TCHAT_PUSH_WEBHOOK_URL", "required when NOTIFICATION_PUSH_PROVIDER=webhook");
  load.Require(s.sms_provider != "webhook" || !s.sms_webhook_url.empty(), "TCHAT_SMS_WEBHOOK_URL",
               "required when NOTIFICATION_SMS_PROVIDER=webhook");
  load.Require(
      s.push_provider != "fcm" || (!s.fcm_project_id.empty() && !s.fcm_credentials_file.empty()),
      "FCM_PROJECT_ID", "FCM_PROJECT_ID and FCM_CREDENTIALS_FILE are required for fcm");
  // A sender starts a request only while provider_timeout + 2 s of its lease remain.
  load.Require(s.send_lease >= s.provider_timeout + std::chrono::seconds(3),
               "NOTIFICATION_SEND_LEASE", "must be at least NOTIFICATION_PROVIDER_TIMEOUT + 3s");
  load.Require(s.retry_base.count() > 0 && s.retry_max >= s.retry_base, "NOTIFICATION_RETRY_MAX",
               "must be at least NOTIFICATION_RETRY_BASE (> 0)");
  load.Require(s.claim_min_idle.count() > 0, "NOTIFICATION_CLAIM_MIN_IDLE", "must be > 0");
  load.Require(s.poll_interval.count() > 0, "NOTIFICATION_POLL_INTERVAL", "must be > 0");
  load.Require(s.block.count() > 0, "NOTIFICATION_BLOCK", "must be > 0");
  std::string seal_key;
  load.Read(seal_key, r.String("TCHAT_NOTIFICATION_SEAL_KEY", ""));
  if (load.ok()) {
    auto opener = SealedBoxOpener::FromSecretKeyHex(seal_key);
    sodium_memzero(seal_key.data(), seal_key.size());
    load.Require(static_cast<bool>(opener), "TCHAT_NOTIFICATION_SEAL_KEY",
                 "required: the 64-hex-digit X25519 key that opens OTP codes (scripts/start.sh "
                 "generates one in secrets.env)");
    if (opener) s.otp_opener = std::make_shared<const SealedBoxOpener>(std::move(*opener));
  }
  return std::move(load).Finish(std::move(s));
}

}  // namespace tchat::notification
