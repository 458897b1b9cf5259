# shellcheck shell=bash
# A second, private copy of the local system for the operations tests (disaster
# recovery, deployments): they destroy and restart things, so they never touch
# the test stack the other tests use. Its PostgreSQL, Redis and services run on
# the test stack's ports + OPS_PORT_OFFSET (100), its files live under
# $TCHAT_RUN_DIR/<name>. Source after lib.sh; then ops_stack_start NAME.
# Defines the API helpers the tests use to fill it with data.

# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

OPS_PORT_OFFSET="${OPS_PORT_OFFSET:-100}"

# Points every TCHAT_* variable at the private stack $1 and starts it: PostgreSQL,
# Redis, migrated databases, secrets, the four services (ready).
ops_stack_start() {
  local name="$1"
  export TCHAT_RUN_DIR="$TCHAT_RUN_DIR/$name"
  export TCHAT_PG_PORT=$((TCHAT_PG_PORT + OPS_PORT_OFFSET))
  export TCHAT_REDIS_PORT=$((TCHAT_REDIS_PORT + OPS_PORT_OFFSET))
  export TCHAT_AUTH_PORT=$((TCHAT_AUTH_PORT + OPS_PORT_OFFSET))
  export TCHAT_MESSAGING_PORT=$((TCHAT_MESSAGING_PORT + OPS_PORT_OFFSET))
  export TCHAT_PAYMENT_PORT=$((TCHAT_PAYMENT_PORT + OPS_PORT_OFFSET))
  export TCHAT_NOTIFICATION_PORT=$((TCHAT_NOTIFICATION_PORT + OPS_PORT_OFFSET))
  export TCHAT_GATEWAY_PORT=$((TCHAT_GATEWAY_PORT + OPS_PORT_OFFSET))
  export TCHAT_DEV_OTP=1 TCHAT_DURABLE=0
  # The services must not inherit the test stack's database and Redis addresses,
  # nor its provider sink (nobody listens there during these tests: deliveries
  # would be retried and the notification queue would change under the drill's
  # before/after comparison); the log providers deliver at once.
  unset REDIS_URL DATABASE_URL TCHAT_PUSH_WEBHOOK_URL TCHAT_SMS_WEBHOOK_URL
  # Its media store is its own (TCHAT_RUN_DIR/media).
  unset TCHAT_MEDIA_DIR
  # No read replica runs beside a private stack.
  unset TCHAT_PG_REPLICA DATABASE_REPLICA_URL
  local port
  for port in "$TCHAT_PG_PORT" "$TCHAT_REDIS_PORT" "$TCHAT_AUTH_PORT" "$TCHAT_MESSAGING_PORT" \
    "$TCHAT_PAYMENT_PORT" "$TCHAT_NOTIFICATION_PORT"; do
    if tchat::port_open "$port"; then
      echo "FAIL: port $port (private stack $name) is taken"
      return 1
    fi
  done
  ops_stack_stop
  tchat::pg_destroy
  rm -rf "$TCHAT_RUN_DIR"
  mkdir -p "$TCHAT_RUN_DIR/logs"
  chmod 755 "$TCHAT_RUN_DIR"
  # In subshells: these die (exit) on failure, and the reason must reach the output.
  local log="$TCHAT_RUN_DIR/logs/setup.log"
  (tchat::pg_start) >"$log" 2>&1 ||
    { echo "FAIL: private PostgreSQL did not start:"; tail -n 5 "$log"; return 1; }
  (tchat::redis_start) >"$log" 2>&1 ||
    { echo "FAIL: private Redis did not start:"; tail -n 5 "$log"; return 1; }
  (tchat::pg_setup_databases) >"$log" 2>&1 ||
    { echo "FAIL: migrations failed:"; tail -n 5 "$log"; return 1; }
  tchat::ensure_secrets >"$TCHAT_RUN_DIR/logs/secrets.log" 2>&1 ||
    { echo "FAIL: secrets of the private stack:"; cat "$TCHAT_RUN_DIR/logs/secrets.log"; return 1; }
  tchat::write_service_config || { echo "FAIL: service configuration"; return 1; }
  tchat::services_start_all >"$TCHAT_RUN_DIR/logs/start.log" 2>&1 || { echo "FAIL: private services did not start:"; tail -n 15 "$TCHAT_RUN_DIR/logs/start.log"; return 1; }
  ops_load_secrets
}

# Stops everything of the private stack (safe to call twice).
ops_stack_stop() {
  tchat::services_stop_all >/dev/null 2>&1 || true
  # Services a deployment test left running under another pid file.
  local pidfile pid
  for pidfile in "$TCHAT_RUN_DIR"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(<"$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && tchat::live_pid "$pidfile" tchat- >/dev/null; then
      tchat::terminate_pid "$pid" 25 >/dev/null 2>&1 || true
    fi
  done
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
}

ops_load_secrets() {
  # shellcheck disable=SC1091
  source "$TCHAT_RUN_DIR/secrets.env"
}

svc_url() { echo "http://127.0.0.1:$(tchat::service_port "$1")"; }

# api METHOD SERVICE PATH [TOKEN] [BODY] [extra curl args...]: prints the body,
# then the status on a line of its own.
api() {
  local method="$1" svc="$2" path="$3" token="${4:-}" body="${5:-}"
  shift 5 || shift $#
  local args=(-s -m 10 -X "$method" -w '\n%{http_code}' -H 'Content-Type: application/json')
  [[ -z "$token" ]] || args+=(-H "Authorization: Bearer $token")
  [[ -z "$body" ]] || args+=(--data "$body")
  curl "${args[@]}" "$@" "$(svc_url "$svc")$path"
}
# Body and status of an api answer.
body_of() { sed '$d' <<<"$1"; }
status_of() { tail -n1 <<<"$1"; }

# Signs in phone $1 with the development OTP; prints the token response.
signin() {
  local code
  code="$(body_of "$(api POST auth /v1/auth/otp/request "" "{\"phone\":\"$1\"}")" | jq -r .dev_code)"
  body_of "$(api POST auth /v1/auth/otp/verify "" "{\"phone\":\"$1\",\"code\":\"$code\"}")"
}

# Tops up user (token $1) with amount $2 of currency $3 through the PSP webhook,
# as the payment provider would. Prints the webhook's HTTP status.
topup() {
  local token="$1" amount="$2" currency="$3" method ref body t sig
  case "$currency" in
    THB) method=promptpay ;;
    SGD) method=paynow ;;
    *) method=gcash ;;
  esac
  ref="$(body_of "$(api POST payment /v1/topups "$token" \
    "{\"amount\":$amount,\"currency\":\"$currency\",\"method\":\"$method\"}")" | jq -r .provider_reference)"
  body="{\"id\":\"evt-$ref\",\"type\":\"topup.succeeded\",\"reference\":\"$ref\",\"amount\":$amount,\"currency\":\"$currency\"}"
  t="$(date +%s)"
  sig="$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$TCHAT_PSP_WEBHOOK_SECRET" -hex | awk '{print $NF}')"
  status_of "$(api POST payment /v1/webhooks/psp "" "$body" -H "Tchat-Signature: t=$t,v1=$sig")"
}

# Prints the fingerprint of the private stack's data (scripts/data-fingerprint.sh),
# leaving out Redis keys that expire within two minutes.
fingerprint() {
  "$ROOT/scripts/data-fingerprint.sh" --local --min-ttl 120
}

# Waits until two fingerprints 1 s apart agree (events relayed and consumed), then
# prints the last one.
quiet_fingerprint() {
  local a b i
  a="$(fingerprint)"
  for i in $(seq 1 20); do
    sleep 1
    b="$(fingerprint)"
    if [[ "$a" == "$b" ]]; then
      printf '%s\n' "$b"
      return 0
    fi
    a="$b"
    : "$i"
  done
  return 1
}
