# shellcheck shell=bash
# deploy/docker-compose.yml with the local stand-ins (deploy/docker-compose.local.yml)
# under Debian's docker-compose 1.29: up, a sign-in, a message and a transfer
# through the gateway (nginx on the host, in front of the published ports), down.
# Requires common.sh, docker.sh, containers.sh, services.sh (tchat::seal_keypair),
# nginx.sh; the service ports TCHAT_*_PORT are the ports compose publishes.

TCHAT_COMPOSE_PROJECT="${TCHAT_COMPOSE_PROJECT:-tchat-ctest}"
TCHAT_LOCAL_IMAGES=(postgres:15-debian redis:7-debian prometheus:2.42-debian)

# docker-compose with only --env-file's variables and the ports: a variable of the
# caller's environment would win over the env file (compose's precedence).
tchat::compose() {
  tchat::as_root env -i PATH="$PATH" HOME="${HOME:-/root}" TCHAT_AUTH_PORT="$TCHAT_AUTH_PORT" TCHAT_MESSAGING_PORT="$TCHAT_MESSAGING_PORT" \
    TCHAT_PAYMENT_PORT="$TCHAT_PAYMENT_PORT" TCHAT_NOTIFICATION_PORT="$TCHAT_NOTIFICATION_PORT" \
    TCHAT_PROMETHEUS_PORT="$((TCHAT_GATEWAY_PORT + 10))" \
    "$TCHAT_DOCKER_COMPOSE" --project-name "$TCHAT_COMPOSE_PROJECT" --env-file "$TCHAT_RUN_DIR/compose.env" \
    -f "$TCHAT_ROOT/deploy/docker-compose.yml" -f "$TCHAT_ROOT/deploy/docker-compose.local.yml" "$@"
}

# Takes the project down with its volumes (nothing of it is kept).
tchat::compose_down() {
  [[ -r "$TCHAT_RUN_DIR/compose.env" ]] || return 0
  tchat::compose down --volumes --remove-orphans --timeout 30
}

# Builds the stand-ins tchat-local/* (deploy/docker/local/) on the host network.
tchat::local_images_build() {
  local image name
  for image in "${TCHAT_LOCAL_IMAGES[@]}"; do
    name="${image%%:*}"
    DOCKER_BUILDKIT=1 tchat::docker build --network host --progress plain \
      -f "$TCHAT_ROOT/deploy/docker/local/$name.Dockerfile" -t "tchat-local/$image" "$TCHAT_ROOT" \
      >"$TCHAT_RUN_DIR/logs/docker-build-local-$name.log" 2>&1 || {
      tail -n 30 "$TCHAT_RUN_DIR/logs/docker-build-local-$name.log" >&2
      return 1
    }
  done
}

# The secrets compose requires, fresh for this run (mode 600, never printed).
tchat::_compose_env() {
  (
    umask 077
    local k
    for k in POSTGRES_PASSWORD TCHAT_ADMIN_TOKEN TCHAT_PSP_WEBHOOK_SECRET TCHAT_OTP_PEPPER TCHAT_MEDIA_URL_KEY; do
      echo "$k=$(openssl rand -hex 24)"
    done
    tchat::seal_keypair
    # Sign-in codes in the answers, for this test's users; the services listen on
    # the compose network, so the second switch too.
    echo "TCHAT_DEV_OTP=1"
    echo "TCHAT_DEV_OTP_ALLOW_NETWORK=1"
  ) >"$TCHAT_RUN_DIR/compose.env"
}

tchat::_compose_service_state() {
  local id
  id="$(tchat::compose ps -q "$1" 2>/dev/null)"
  [[ -n "$id" ]] || return 1
  tchat::docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id"
}
# Ready: migrate ran to exit 0, every service container healthy (its
# HEALTHCHECK: /health/ready) and answering /health/ready on its published port.
tchat::_compose_all_ready() {
  [[ "$(tchat::_compose_service_state migrate)" == "exited 0 "* ]] || return 1
  local svc
  for svc in "${TCHAT_SERVICES[@]}"; do
    [[ "$(tchat::_compose_service_state "$svc")" == "running 0 healthy" ]] || return 1
    tchat::_ready "$(tchat::service_port "$svc")" || return 1
  done
}

# An API call through the gateway: METHOD PATH TOKEN BODY [curl args]; prints the
# body, then the status on a line of its own.
tchat::_gw() {
  local method="$1" path="$2" token="$3" body="$4"
  shift 4
  local args=(-s -m 10 -X "$method" -w '\n%{http_code}' -H 'Content-Type: application/json')
  [[ -z "$token" ]] || args+=(-H "Authorization: Bearer $token")
  [[ -z "$body" ]] || args+=(--data "$body")
  curl "${args[@]}" "$@" "http://127.0.0.1:$TCHAT_GATEWAY_PORT$path"
}
tchat::_body() { sed '$d' <<<"$1"; }
tchat::_status() { tail -n1 <<<"$1"; }

# Signs phone $1 in (development OTP); prints "user_id token".
tchat::_compose_signin() {
  local code answer
  code="$(tchat::_body "$(tchat::_gw POST /v1/auth/otp/request "" "{\"phone\":\"$1\"}")" | jq -r .dev_code)"
  answer="$(tchat::_body "$(tchat::_gw POST /v1/auth/otp/verify "" "{\"phone\":\"$1\",\"code\":\"$code\"}")")"
  jq -er '"\(.user.id) \(.access_token)"' <<<"$answer"
}

# The platform in use: two users sign in, one sends the other a message, is
# topped up through the PSP webhook and sends a transfer, which the other's
# wallet shows. Fails on the first step that does not do what it should.
tchat::_compose_use() {
  local a b a_tok b_id b_tok r conv ref body t sig
  a="+6681$(printf '%07d' $((RANDOM * 32768 % 10000000)))"
  b="+6682$(printf '%07d' $((RANDOM * 32768 % 10000000)))"
  read -r _ a_tok < <(tchat::_compose_signin "$a") || { echo "sign-in of $a failed" >&2; return 1; }
  read -r b_id b_tok < <(tchat::_compose_signin "$b") || { echo "sign-in of $b failed" >&2; return 1; }
  echo "  signed in two users through the gateway"
  r="$(tchat::_gw POST /v1/conversations "$a_tok" "{\"type\":\"direct\",\"member_ids\":[\"$b_id\"]}")"
  conv="$(tchat::_body "$r" | jq -r .id)"
  [[ "$(tchat::_status "$r")" == 201 ]] || { echo "conversation: $r" >&2; return 1; }
  r="$(tchat::_gw POST "/v1/conversations/$conv/messages" "$a_tok" \
    '{"client_msg_id":"compose-1","type":"text","body":"hello from compose"}')"
  [[ "$(tchat::_status "$r")" == 201 ]] || { echo "message: $r" >&2; return 1; }
  r="$(tchat::_gw GET "/v1/conversations/$conv/messages" "$b_tok" "")"
  tchat::_body "$r" | grep -q 'hello from compose' || { echo "the message did not arrive: $r" >&2; return 1; }
  echo "  a message sent and read back by the other user"
  ref="$(tchat::_body "$(tchat::_gw POST /v1/topups "$a_tok" '{"amount":50000,"currency":"THB","method":"promptpay"}')" |
    jq -r .provider_reference)"
  body="{\"id\":\"evt-$ref\",\"type\":\"topup.succeeded\",\"reference\":\"$ref\",\"amount\":50000,\"currency\":\"THB\"}"
  t="$(date +%s)"
  sig="$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$TCHAT_PSP_WEBHOOK_SECRET" -hex | awk '{print $NF}')"
  r="$(tchat::_gw POST /v1/webhooks/psp "" "$body" -H "Tchat-Signature: t=$t,v1=$sig")"
  [[ "$(tchat::_status "$r")" == 200 ]] || { echo "top-up webhook: $r" >&2; return 1; }
  r="$(tchat::_gw POST /v1/transfers "$a_tok" "{\"to_user_id\":\"$b_id\",\"amount\":12500,\"currency\":\"THB\"}" \
    -H "Idempotency-Key: compose-transfer-$RANDOM$RANDOM")"
  [[ "$(tchat::_status "$r")" == 201 ]] || { echo "transfer: $r" >&2; return 1; }
  r="$(tchat::_gw GET /v1/wallets "$b_tok" "")"
  [[ "$(tchat::_body "$r" | jq -r '.wallets[] | select(.currency=="THB") | .balance')" == 12500 ]] ||
    { echo "the receiver's wallet: $r" >&2; return 1; }
  echo "  a top-up (PSP webhook) and a transfer of 125.00 THB, in the receiver's wallet"
}

# The whole compose test; prints the time from `up` to all ready.
tchat::compose_test() {
  local rc=0 start
  mkdir -p "$TCHAT_RUN_DIR/logs"
  tchat::local_images_build || return 1
  tchat::_compose_env
  tchat::compose_down >/dev/null 2>&1 || true
  start=$SECONDS
  tchat::compose up -d >"$TCHAT_RUN_DIR/logs/compose-up.log" 2>&1 || {
    tail -n 30 "$TCHAT_RUN_DIR/logs/compose-up.log" >&2
    tchat::compose_down >/dev/null 2>&1 || true
    return 1
  }
  if tchat::wait_until 240 tchat::_compose_all_ready; then
    echo "  docker-compose up to all ready: $((SECONDS - start)) s"
    set -a
    # shellcheck disable=SC1091
    source "$TCHAT_RUN_DIR/compose.env"
    set +a
    if tchat::nginx_start; then
      tchat::_compose_use || rc=1
      tchat::nginx_stop
    else
      rc=1
    fi
  else
    echo "not ready after 240 s:" >&2
    local svc
    for svc in postgres redis migrate "${TCHAT_SERVICES[@]}"; do
      echo "  $svc: $(tchat::_compose_service_state "$svc")" >&2
    done
    tchat::compose logs --tail 20 >&2 || true
    rc=1
  fi
  tchat::compose logs --no-color >"$TCHAT_RUN_DIR/logs/compose.log" 2>&1 || true
  tchat::compose_down >/dev/null 2>&1 || { echo "docker-compose down failed" >&2; rc=1; }
  return "$rc"
}
