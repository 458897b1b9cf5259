#include "settings.hpp"

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

#define NTF_READ(dest, expr)                                \
  do {                                                      \
    auto ntf_r_ = (expr);                                   \
    if (!ntf_r_) return std::move(ntf_r_).error();          \
    dest = static_cast<decltype(dest)>(std::move(*ntf_r_)); \
  } while (0)

Result<Settings> LoadSettings(const ConfigReader& r, const CommonConfig& common) {
  Settings s;
  NTF_READ(s.group, r.String("NOTIFICATION_GROUP", s.group));
  NTF_READ(s.consumer, r.String("NOTIFICATION_CONSUMER", DefaultConsumer()));
  NTF_READ(s.batch_size, r.Int("NOTIFICATION_BATCH_SIZE", s.batch_size, 1, 10000));
  NTF_READ(s.block, r.Duration("NOTIFICATION_BLOCK", s.block));
  NTF_READ(s.claim_min_idle, r.Duration("NOTIFICATION_CLAIM_MIN_IDLE", s.claim_min_idle));
  NTF_READ(s.claim_interval, r.Duration("NOTIFICATION_CLAIM_INTERVAL", s.claim_interval));
  NTF_READ(s.presence_prefix, r.String("NOTIFICATION_PRESENCE_PREFIX", s.presence_prefix));
  NTF_READ(s.collapse_window, r.Duration("NOTIFICATION_COLLAPSE_WINDOW", s.collapse_window));
  NTF_READ(s.send_lease, r.Duration("NOTIFICATION_SEND_LEASE", s.send_lease));
  NTF_READ(s.poll_interval, r.Duration("NOTIFICATION_POLL_INTERVAL", s.poll_interval));
  NTF_READ(s.retry_base, r.Duration("NOTIFICATION_RETRY_BASE", s.retry_base));
  NTF_READ(s.retry_max, r.Duration("NOTIFICATION_RETRY_MAX", s.retry_max));
  NTF_READ(s.max_attempts, r.Int("NOTIFICATION_MAX_ATTEMPTS", s.max_attempts, 1, 100));
  NTF_READ(s.max_in_flight, r.Int("NOTIFICATION_MAX_IN_FLIGHT", s.max_in_flight, 1, 100000));
  NTF_READ(s.delivery_group, r.Int("NOTIFICATION_DELIVERY_GROUP", s.delivery_group, 1, 100000));
  NTF_READ(s.provider_timeout, r.Duration("NOTIFICATION_PROVIDER_TIMEOUT", s.provider_timeout));
  std::chrono::milliseconds age{};
  NTF_READ(age, r.Duration("NOTIFICATION_MAX_PUSH_AGE", s.max_push_age));
  s.max_push_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  NTF_READ(age, r.Duration("NOTIFICATION_DEDUPE_RETENTION", s.dedupe_retention));
  s.dedupe_retention = std::chrono::duration_cast<std::chrono::seconds>(age);
  NTF_READ(s.push_provider, r.String("NOTIFICATION_PUSH_PROVIDER", s.push_provider));
  NTF_READ(s.sms_provider, r.String("NOTIFICATION_SMS_PROVIDER", s.sms_provider));
  NTF_READ(s.fcm_project_id, r.String("FCM_PROJECT_ID", ""));
  NTF_READ(s.fcm_credentials_file, r.String("FCM_CREDENTIALS_FILE", ""));
  NTF_READ(s.fcm_endpoint, r.String("FCM_ENDPOINT", s.fcm_endpoint));
  NTF_READ(s.apns_key_file, r.String("APNS_KEY_FILE", ""));
  NTF_READ(s.apns_key_id, r.String("APNS_KEY_ID", ""));
  NTF_READ(s.apns_team_id, r.String("APNS_TEAM_ID", ""));
  NTF_READ(s.apns_topic, r.String("APNS_TOPIC", ""));
  s.push_webhook_url = common.push_webhook_url;
  s.sms_webhook_url = common.sms_webhook_url;

  auto bad = [](std::string_view key, std::string_view why) {
    return Error::InvalidArgument("config " + std::string(key) + ": " + std::string(why));
  };
  if (s.consumer.empty() || s.consumer.size() > 200) {
    return bad("NOTIFICATION_CONSUMER", "must be 1-200 characters");
  }
  if (s.push_provider != "auto" && s.push_provider != "webhook" && s.push_provider != "fcm" &&
      s.push_provider != "log") {
    return bad("NOTIFICATION_PUSH_PROVIDER", "must be auto, webhook, fcm or log");
  }
  if (s.sms_provider != "auto" && s.sms_provider != "webhook" && s.sms_provider != "log") {
    return bad("NOTIFICATION_SMS_PROVIDER", "must be auto, webhook or log");
  }
  if (s.push_provider == "webhook" && s.push_webhook_url.empty()) {
    return bad("TCHAT_PUSH_WEBHOOK_URL", "required when NOTIFICATION_PUSH_PROVIDER=webhook");
  }
  if (s.sms_provider == "webhook" && s.sms_webhook_url.empty()) {
    return bad("TCHAT_SMS_WEBHOOK_URL", "required when NOTIFICATION_SMS_PROVIDER=webhook");
  }
  if (s.push_provider == "fcm" && (s.fcm_project_id.empty() || s.fcm_credentials_file.empty())) {
    return bad("FCM_PROJECT_ID", "FCM_PROJECT_ID and FCM_CREDENTIALS_FILE are required for fcm");
  }
  // A sender starts a request only while provider_timeout + 2 s of its lease remain.
  if (s.send_lease < s.provider_timeout + std::chrono::seconds(3)) {
    return bad("NOTIFICATION_SEND_LEASE", "must be at least NOTIFICATION_PROVIDER_TIMEOUT + 3s");
  }
  if (s.retry_base.count() <= 0 || s.retry_max < s.retry_base) {
    return bad("NOTIFICATION_RETRY_MAX", "must be at least NOTIFICATION_RETRY_BASE (> 0)");
  }
  if (s.claim_min_idle.count() <= 0) return bad("NOTIFICATION_CLAIM_MIN_IDLE", "must be > 0");
  if (s.poll_interval.count() <= 0) return bad("NOTIFICATION_POLL_INTERVAL", "must be > 0");
  if (s.block.count() <= 0) return bad("NOTIFICATION_BLOCK", "must be > 0");
  return s;
}

#undef NTF_READ

}  // namespace tchat::notification
