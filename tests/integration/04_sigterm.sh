#!/usr/bin/env bash
# (e) SIGTERM: a second instance of each service (its own port, the test stack's
# databases), once ready, exits with status 0 within the 20 s shutdown deadline.
# Also checks that everything it logged is JSON lines.
# shellcheck disable=SC2317 # functions called through tchat::wait_until and traps
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/redis.sh
source "$ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

DEADLINE=20
declare -A pids ports
logdir="$TCHAT_RUN_DIR/logs/sigterm-test"
mkdir -p "$logdir"

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

port=$((TCHAT_GATEWAY_PORT + 11))
for svc in "${TCHAT_SERVICES[@]}"; do
  while tchat::port_open "$port"; do port=$((port + 1)); done
  ports[$svc]=$port
  (
    set -a
    # shellcheck disable=SC1091
    source "$TCHAT_RUN_DIR/config.env"
    # shellcheck disable=SC1091
    source "$TCHAT_RUN_DIR/secrets.env"
    set +a
    PORT="$port" DATABASE_URL="$(tchat::pg_url "tchat_$svc")" \
      exec "$TCHAT_BUILD_DIR/bin/tchat-$svc" >"$logdir/$svc.log" 2>&1 </dev/null
  ) &
  pids[$svc]=$!
  port=$((port + 1))
done

for svc in "${TCHAT_SERVICES[@]}"; do
  if tchat::wait_until 30 tchat::_ready "${ports[$svc]}"; then
    pass "$svc instance ready on ${ports[$svc]}"
  else
    fail "$svc instance not ready on ${ports[$svc]}: $(tail -n 5 "$logdir/$svc.log")"
  fi
done

for svc in "${TCHAT_SERVICES[@]}"; do
  pid="${pids[$svc]}"
  start=$SECONDS
  kill -TERM "$pid"
  if tchat::wait_until $((DEADLINE + 5)) tchat::_pid_gone "$pid"; then
    rc=0
    wait "$pid" || rc=$?
    elapsed=$((SECONDS - start))
    if [[ $rc == 0 ]] && ((elapsed <= DEADLINE)); then
      pass "$svc exits 0 after SIGTERM (${elapsed}s)"
    else
      fail "$svc after SIGTERM: exit status $rc after ${elapsed}s"
    fi
  else
    fail "$svc still running $((DEADLINE + 5))s after SIGTERM"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  unset "pids[$svc]"

  if [[ -s "$logdir/$svc.log" ]] && jq -e . "$logdir/$svc.log" >/dev/null 2>&1; then
    pass "$svc logged JSON lines only"
  else
    fail "$svc log is not JSON lines: $(grep -v '^{' "$logdir/$svc.log" | head -n 3)"
  fi
done
finish
