#!/usr/bin/env bash
# The PostgreSQL read replica (docs/operations/read-replica.md) under load: while
# three clients read their conversation list, wallet history and notification
# inbox through the gateway, stopping the replica fails no request and turns
# db_replica_available to 0 on every reading service, whose reads go to the
# primary; starting it again makes them read from it again
# (db_reads_total{target="replica"} grows).
# shellcheck disable=SC2317 # functions called through tchat::wait_until and traps
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$ROOT/scripts/lib/pg_replica.sh"

READ_SERVICES=(messaging payment)
metrics_url() { echo "http://127.0.0.1:$(tchat::service_port "$1")/metrics"; }
# Value of db_replica_available of service $1 (empty when absent).
available() {
  { curl -s -m 5 "$(metrics_url "$1")" || true; } | awk '$1 ~ /^db_replica_available\{/ { v = $NF } END { print v }'
}
# db_reads_total of service $1 with target $2.
reads_of() {
  { curl -s -m 5 "$(metrics_url "$1")" || true; } |
    awk -v t="target=\"$2\"" '$1 ~ /^db_reads_total\{/ && index($1, t) { s += $NF } END { printf "%.0f\n", s + 0 }'
}
all_available() {
  local svc
  for svc in "${READ_SERVICES[@]}"; do [[ "$(available "$svc")" == "$1" ]] || return 1; done
}

trap 'touch "${work:-/nonexistent}/stop" 2>/dev/null || true; tchat::pg_replica_running || tchat::pg_replica_start >/dev/null 2>&1 || true' EXIT
# An earlier test (disaster recovery) may have re-created the primary: start
# clones the replica again when it belongs to another cluster.
tchat::pg_replica_start >/dev/null 2>&1 || { fail "the replica does not start"; finish; }
if tchat::wait_until 15 all_available 1; then
  pass "every reading service uses the replica (db_replica_available 1)"
else
  fail "db_replica_available: $(for s in "${READ_SERVICES[@]}"; do echo -n "$s=$(available "$s") "; done)"
fi

# A user and a token (development OTP).
gw="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
phone="+6681$(printf '%07d' $((RANDOM * 32768 % 10000000 + RANDOM % 1000)))"
code="$(curl -s -m 10 -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\"}" "$gw/v1/auth/otp/request" | jq -r .dev_code)"
token="$(curl -s -m 10 -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\",\"code\":\"$code\"}" \
  "$gw/v1/auth/otp/verify" | jq -r .access_token)"
if [[ -n "$token" && "$token" != null ]]; then pass "signed in $phone"; else fail "no token for $phone"; finish; fi

work="$(mktemp -d)"
# Only pages after the first (a cursor) read from the replica; these cursors lie
# beyond every row: a position in the year 2100, just below the largest posting id (the largest means no cursor).
far="4102444800000000_00000000-0000-7000-8000-000000000000"
far_id=9223372036854775806
# Load: 3 loops of the three replica-eligible reads until $work/stop exists;
# every status is appended to $work/status.<n>.
load() {
  local n="$1" path
  while [[ ! -e "$work/stop" ]]; do
    for path in "/v1/conversations?cursor=$far" "/v1/transactions?cursor=$far_id"; do
      curl -s -o /dev/null -m 10 -w '%{http_code}\n' -H "Authorization: Bearer $token" "$gw$path" \
        >>"$work/status.$n" || echo "curl-failed" >>"$work/status.$n"
    done
  done
}
for n in 1 2 3; do load "$n" & done
sleep 2
declare -A primary_before
for svc in "${READ_SERVICES[@]}"; do primary_before[$svc]="$(reads_of "$svc" primary)"; done
stopped_at=$SECONDS
tchat::pg_replica_stop >/dev/null 2>&1 || fail "scripts/lib/pg_replica.sh could not stop the replica"
if tchat::wait_until 5 all_available 0; then
  pass "db_replica_available 0 on every service within 5 s of the replica stopping ($((SECONDS - stopped_at))s)"
else
  fail "db_replica_available after the stop: $(for s in "${READ_SERVICES[@]}"; do echo -n "$s=$(available "$s") "; done)"
fi
sleep 2
for svc in "${READ_SERVICES[@]}"; do
  now="$(reads_of "$svc" primary)"
  if ((now > primary_before[$svc])); then
    pass "$svc reads on the primary while the replica is down (${primary_before[$svc]} → $now)"
  else
    fail "$svc db_reads_total{target=primary} did not grow (${primary_before[$svc]} → $now)"
  fi
done

tchat::pg_replica_start >/dev/null 2>&1 || fail "the replica did not start again"
declare -A replica_before
for svc in "${READ_SERVICES[@]}"; do replica_before[$svc]="$(reads_of "$svc" replica)"; done
if tchat::wait_until 15 all_available 1; then
  pass "db_replica_available back to 1 on every service"
else
  fail "db_replica_available after the restart: $(for s in "${READ_SERVICES[@]}"; do echo -n "$s=$(available "$s") "; done)"
fi
sleep 2
touch "$work/stop"
wait
for svc in "${READ_SERVICES[@]}"; do
  now="$(reads_of "$svc" replica)"
  if ((now > replica_before[$svc])); then
    pass "$svc reads from the replica again (${replica_before[$svc]} → $now)"
  else
    fail "$svc db_reads_total{target=replica} did not grow after the restart (${replica_before[$svc]} → $now)"
  fi
done

total="$(cat "$work"/status.* | wc -l)"
bad="$(cat "$work"/status.* | grep -cv '^200$' || true)"
if ((total > 30 && bad == 0)); then
  pass "$total reads under load, none failed across the replica's stop and start"
else
  fail "$bad of $total reads failed: $(cat "$work"/status.* | sort | uniq -c | tr '\n' ' ')"
fi
rm -rf "$work"
finish
