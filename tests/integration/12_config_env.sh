#!/usr/bin/env bash
# .run/config.env holds every setting the services were started with, so that a
# later script in another shell starts them the same way: on a private copy of
# the local system started with non-default settings (the runbook's ConfigMap
# keys among them), config.env records them and no secret; blue-green-deploy.sh
# --local run from a clean environment restarts messaging with them (its
# /proc/<pid>/environ), and so do stop.sh + start.sh from a clean environment.
# Also: every setting key the services' C++ reads is one config.env records.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else; the
# cleanup runs from a trap.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/ops_stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/ops_stack.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/psp_sim.sh
source "$ROOT/scripts/lib/psp_sim.sh"

S="$ROOT/scripts"

# --- The keys the C++ reads (string literals handed to the configuration reader)
# are all settings config.env records, except the per-service and secret ones, the
# addresses of the stack's own parts (always written: JWKS_URL, TCHAT_*_URL), and
# TCHAT_CONTRACT_RECORD, which only the end-to-end tests' clients read (the core
# exchange recorder: a test setting, not a service's).
not_recorded=" PORT DATABASE_URL DATABASE_REPLICA_URL REDIS_URL JWKS_URL TCHAT_AUTH_URL TCHAT_MESSAGING_URL TCHAT_PAYMENT_URL TCHAT_NOTIFICATION_URL TCHAT_JWT_KEY_FILE TCHAT_CONTRACT_RECORD ${TCHAT_SECRET_SETTINGS[*]} "
mapfile -t keys < <(
  grep -rhoE '(\.(String|Int|Bool|Duration|Raw)\(|(Seconds|Millis)\(r, |ReadLimit\(reader, |getenv\()"[A-Za-z0-9_]+' \
    "$ROOT/core/src" "$ROOT/services" --include='*.cpp' --exclude='*test*' |
    sed -E 's/.*"//' | sort -u
)
missing=()
for key in "${keys[@]}"; do
  [[ "$not_recorded" == *" $key "* ]] && continue
  # A key built at run time ("PAYMENT_DAILY_LIMIT_" + currency) stands for its family.
  [[ "$key" == *_ ]] && key="${key}THB"
  tchat::is_service_setting "$key" || missing+=("$key")
done
if ((${#keys[@]} > 50)) && ((${#missing[@]} == 0)); then
  pass "each of the ${#keys[@]} keys the services read is recorded in config.env when set"
else
  fail "keys the services read that config.env would not record (TCHAT_SERVICE_SETTINGS, scripts/lib/services.sh): ${missing[*]:-} (${#keys[@]} keys found)"
fi

# --- A private stack started with non-default settings.
cleanup() {
  tchat::nginx_stop >/dev/null 2>&1 || true
  tchat::psp_sim_stop >/dev/null 2>&1 || true
  ops_stack_stop
}
trap cleanup EXIT
declare -A want=([db_max_open_conns]=7 [redis_pool_size]=9 [http_client_timeout]=20s
  [messaging_send_lanes]=2 [NOTIFICATION_BATCH_SIZE]=50)
for key in "${!want[@]}"; do export "$key=${want[$key]}"; done
ops_stack_start config-env || exit 1
for key in "${!want[@]}"; do unset "$key"; done
pass "private stack started with ${!want[*]} (run dir $TCHAT_RUN_DIR)"
config="$(tchat::config_file)"

recorded() { grep -qxF "$1=$2" "$config"; }
for key in "${!want[@]}"; do
  recorded "$key" "${want[$key]}" && pass "config.env records $key=${want[$key]}" ||
    fail "config.env lacks $key=${want[$key]}: $(grep -v '^#' "$config" | tr '\n' ' ')"
done
leaks=()
while IFS='=' read -r name value; do
  [[ -n "$value" && "$name" != \#* ]] || continue
  if grep -qF -- "$value" "$config" || grep -q "^$name=" "$config"; then leaks+=("$name"); fi
done <"$(tchat::secrets_file)"
((${#leaks[@]} == 0)) && pass "no secret in config.env" || fail "secrets in config.env: ${leaks[*]}"
[[ "$(stat -c %a "$(tchat::secrets_file)")" == 600 ]] && pass "secrets.env is mode 600" ||
  fail "secrets.env is mode $(stat -c %a "$(tchat::secrets_file)")"

# The environment of a fresh shell: where the system is, nothing about its settings.
clean=(env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 TCHAT_DURABLE=0
  TCHAT_RUN_DIR="$TCHAT_RUN_DIR" TCHAT_BUILD_DIR="$TCHAT_BUILD_DIR"
  TCHAT_PG_PORT="$TCHAT_PG_PORT" TCHAT_REDIS_PORT="$TCHAT_REDIS_PORT"
  TCHAT_GATEWAY_PORT="$TCHAT_GATEWAY_PORT" TCHAT_AUTH_PORT="$TCHAT_AUTH_PORT"
  TCHAT_MESSAGING_PORT="$TCHAT_MESSAGING_PORT" TCHAT_PAYMENT_PORT="$TCHAT_PAYMENT_PORT"
  TCHAT_NOTIFICATION_PORT="$TCHAT_NOTIFICATION_PORT"
  TCHAT_PSP_SIM_PORT=$((${TCHAT_PSP_SIM_PORT:-18089} + OPS_PORT_OFFSET)))

# Succeeds when the running service $1 got every wanted setting; else says which not.
environ_of() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null; }
check_environ() {
  local svc="$1" how="$2" pid env key bad=()
  if ! pid="$(tchat::live_pid "$(tchat::service_pidfile "$svc")" "tchat-$svc")"; then
    fail "$how: $svc is not running"
    return
  fi
  env="$(environ_of "$pid")"
  for key in "${!want[@]}"; do grep -qxF "$key=${want[$key]}" <<<"$env" || bad+=("$key"); done
  ((${#bad[@]} == 0)) && pass "$how: $svc (pid $pid) runs with ${!want[*]}" ||
    fail "$how: $svc (pid $pid) lacks ${bad[*]}; its settings: $(grep -E '^(db|redis|http|messaging|NOTIFICATION)_' <<<"$env" | tr '\n' ' ')"
}

# --- A deployment from a fresh shell. A stray setting in that shell's environment
# does not reach the service either: config.env is what services start with.
before="$(tchat::live_pid "$(tchat::service_pidfile messaging)" tchat-messaging || echo none)"
rc=0
out="$("${clean[@]}" db_max_open_conns=99 "$S/blue-green-deploy.sh" --local messaging-service \
  "$TCHAT_BUILD_DIR/bin/tchat-messaging" 2>&1)" || rc=$?
after="$(tchat::live_pid "$(tchat::service_pidfile messaging)" tchat-messaging || echo none)"
if [[ $rc == 0 && "$after" != none && "$after" != "$before" ]]; then
  pass "blue-green-deploy.sh --local from a clean shell restarted messaging (pid $before → $after)"
else
  fail "blue-green-deploy.sh from a clean shell: rc=$rc pid $before → $after"
  indent <<<"$out"
fi
check_environ messaging "after blue-green-deploy.sh"

# --- stop.sh, then start.sh, each from a fresh shell.
rc=0
out="$("${clean[@]}" "$S/stop.sh" --services-only 2>&1 &&
  "${clean[@]}" "$S/start.sh" --no-install --no-build 2>&1)" || rc=$?
if [[ $rc == 0 ]]; then
  pass "stop.sh --services-only and start.sh --no-build from clean shells"
else
  fail "stop.sh + start.sh from clean shells: rc=$rc"
  tail -n 20 <<<"$out" | indent
fi
for key in "${!want[@]}"; do
  recorded "$key" "${want[$key]}" || fail "start.sh from a clean shell dropped $key from config.env"
done
check_environ auth "after stop.sh + start.sh"
check_environ notification "after stop.sh + start.sh"

# The environment still wins over what config.env holds.
rc=0
out="$("${clean[@]}" db_max_open_conns=11 "$S/start.sh" --no-install --no-build 2>&1)" || rc=$?
want[db_max_open_conns]=11
[[ $rc == 0 ]] && recorded db_max_open_conns 11 && pass "start.sh db_max_open_conns=11 replaces the recorded 7" ||
  fail "start.sh with db_max_open_conns=11: rc=$rc, config.env: $(grep db_max_open_conns "$config" || echo none)"
check_environ payment "after start.sh db_max_open_conns=11"
finish
