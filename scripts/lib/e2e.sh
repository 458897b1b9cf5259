# shellcheck shell=bash
# What the end-to-end tests (ctest label e2e, tests/e2e/support/env.hpp) need to
# reach and inspect a running stack: scripts/test.sh's stack (services from
# build/) and scripts/containers.sh's (the same services in their images).
# Requires common.sh, postgres.sh, services.sh; the stack's secrets.env written.

# Exports the TCHAT_TEST_* variables for the stack of $TCHAT_RUN_DIR. Optional:
# $1 the auth log file (default: the service log of scripts/lib/services.sh).
tchat::export_e2e_env() {
  set -a
  # shellcheck disable=SC1090
  source "$(tchat::secrets_file)"
  set +a
  export TCHAT_TEST_ADMIN_TOKEN="$TCHAT_ADMIN_TOKEN" TCHAT_TEST_PSP_WEBHOOK_SECRET="$TCHAT_PSP_WEBHOOK_SECRET"
  # The OTP sealing pair: tests publish sealed OTP events and start notification replicas.
  export TCHAT_TEST_NOTIFICATION_SEAL_KEY="$TCHAT_NOTIFICATION_SEAL_KEY"
  export TCHAT_TEST_NOTIFICATION_SEAL_PUBLIC_KEY="$TCHAT_NOTIFICATION_SEAL_PUBLIC_KEY"
  export TCHAT_TEST_GATEWAY_URL="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
  export TCHAT_TEST_JWT_KEY_FILE TCHAT_TEST_AUTH_LOG
  TCHAT_TEST_JWT_KEY_FILE="$(tchat::jwt_key_file)"
  TCHAT_TEST_AUTH_LOG="${1:-$(tchat::service_log auth)}"
  export TCHAT_TEST_AUTH_URL TCHAT_TEST_MESSAGING_URL TCHAT_TEST_PAYMENT_URL TCHAT_TEST_NOTIFICATION_URL
  TCHAT_TEST_AUTH_URL="http://127.0.0.1:$(tchat::service_port auth)"
  TCHAT_TEST_MESSAGING_URL="http://127.0.0.1:$(tchat::service_port messaging)"
  TCHAT_TEST_PAYMENT_URL="http://127.0.0.1:$(tchat::service_port payment)"
  TCHAT_TEST_NOTIFICATION_URL="http://127.0.0.1:$(tchat::service_port notification)"
  # Tests that start replicas of their own run these binaries.
  export TCHAT_TEST_MESSAGING_BIN="$TCHAT_BUILD_DIR/bin/tchat-messaging"
  export TCHAT_TEST_PAYMENT_BIN="$TCHAT_BUILD_DIR/bin/tchat-payment"
  export TCHAT_TEST_MESSAGING_DATABASE_URL TCHAT_TEST_PAYMENT_DATABASE_URL
  TCHAT_TEST_MESSAGING_DATABASE_URL="$(tchat::pg_url tchat_messaging)"
  TCHAT_TEST_PAYMENT_DATABASE_URL="$(tchat::pg_url tchat_payment)"
}

# Exports the services' settings the end-to-end tests need (before config.env is
# written); $1 is host:port where the notification tests' sink listens, standing
# in for the push and SMS providers.
tchat::e2e_settings() {
  export TCHAT_DEV_OTP=1 TCHAT_DEBUG_ENDPOINTS=1 LOG_LEVEL="${LOG_LEVEL:-info}"
  # The payment stress tests move money between a few users far faster than a person
  # (default 120 a minute); the rate-limit e2e test runs its own instance with a low limit.
  export PAYMENT_RATE_LIMIT_PER_USER_PER_MINUTE=100000000
  # Likewise the messaging e2e and web tests send, type, create groups and connect
  # far faster than a person; replicas_e2e_test.cpp runs replicas with low limits.
  export messaging_rate_messages_per_minute=100000000 messaging_rate_typing_per_minute=100000000
  export messaging_rate_groups_per_hour=100000000 messaging_rate_ws_connects_per_minute=100000000
  # Searches: low enough for search_e2e_test.cpp to reach it with a user of its own.
  export messaging_rate_searches_per_minute=200
  # Small enough for tests/e2e/messaging/media_e2e_test.cpp to reach them.
  export messaging_media_quota_bytes=$((24 << 20)) messaging_rate_uploads_per_minute=60
  export TCHAT_TEST_NOTIFICATION_SINK="$1"
  export TCHAT_PUSH_WEBHOOK_URL="http://$TCHAT_TEST_NOTIFICATION_SINK/push"
  export TCHAT_SMS_WEBHOOK_URL="http://$TCHAT_TEST_NOTIFICATION_SINK/sms"
}
