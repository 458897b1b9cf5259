#!/usr/bin/env bash
# Benchmark: a Tchat service's GET /health against nginx answering `return 200`
# with a body of the same size — the floor of what an HTTP server on this machine
# can do. Both get the same worker count (2), the same wrk load (threads,
# connections, duration) on loopback, in alternating rounds; prints requests/s of
# every run, the median ratio service/nginx and wrk's latency percentiles.
# Not a test: nothing is asserted. Bounded: about (rounds*2 + 2) * duration.
#
# Usage: bench/health_bench.sh [--rounds N] [--duration SECONDS] [--connections N]
#                              [--threads N] [--service NAME]
# Needs build/bin/tchat-<service> (scripts/build.sh), nginx and wrk.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

rounds=3
duration=10
connections=64
wrk_threads=2
service=auth
workers=2
NGINX_PORT="${TCHAT_BENCH_NGINX_PORT:-18090}"
SERVICE_PORT="${TCHAT_BENCH_SERVICE_PORT:-18096}"

usage() { sed -n '9,11p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --threads) wrk_threads="$2"; shift ;;
    --service) service="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$rounds" "$duration" "$connections" "$wrk_threads"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || tchat::die "not a positive integer: $n"
done
((duration <= 120 && rounds <= 10)) || tchat::die "keep it bounded: --duration <= 120, --rounds <= 10"

bin="${TCHAT_BUILD_DIR:-$ROOT/build}/bin/tchat-$service"
[[ -x "$bin" ]] || tchat::die "$bin not found (scripts/build.sh)"
for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || tchat::die "$tool not found (scripts/install-deps.sh)"
done
for port in "$NGINX_PORT" "$SERVICE_PORT"; do
  if tchat::port_open "$port"; then tchat::die "port $port is in use"; fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/tchat-bench.XXXXXX")"
chmod 755 "$work"
service_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then kill -TERM "$service_pid" 2>/dev/null || true; fi
  if [[ -s "$work/nginx.pid" ]]; then kill -QUIT "$(<"$work/nginx.pid")" 2>/dev/null || true; fi
  if [[ -n "$service_pid" ]]; then tchat::wait_until 20 tchat::_pid_gone "$service_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The service, with a database, Redis and auth (payment's TCHAT_AUTH_URL) that are not
# there: /health never touches them.
env -u JWKS_URL DATABASE_URL="postgres://tchat@127.0.0.1:1/tchat_$service" REDIS_URL="redis://127.0.0.1:1" \
  TCHAT_AUTH_URL="http://127.0.0.1:1" PORT="$SERVICE_PORT" TCHAT_THREADS="$workers" \
  LOG_LEVEL=warn "$bin" >"$work/service.log" 2>&1 </dev/null &
service_pid=$!
health_ok() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVICE_PORT/health")" == 200 ]]; }
tchat::wait_until 15 health_ok || { tail -n 20 "$work/service.log" >&2; tchat::die "tchat-$service did not start"; }

# nginx answering a body as long as the service's /health answer.
body="$(curl -s "http://127.0.0.1:$SERVICE_PORT/health")"
nginx_body="$(printf '%*s' "${#body}" '' | tr ' ' 'x')"
mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;
    location / { default_type application/json; return 200 '$nginx_body'; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work/" -e "$work/nginx-error.log"
tchat::wait_until 10 tchat::port_open "$NGINX_PORT" || tchat::die "nginx did not start"

# One wrk run; prints "rps p50 p75 p90 p99" (latencies as wrk prints them).
run_wrk() {
  local out
  out="$(wrk -t "$wrk_threads" -c "$connections" -d "${2}s" --latency "$1")"
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "non-2xx answers from $1:" >&2
    echo "$out" >&2
    return 1
  fi
  awk '
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "75%" { p75 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
    END { printf "%s %s %s %s %s\n", rps, p50, p75, p90, p99 }' <<<"$out"
}

nginx_url="http://127.0.0.1:$NGINX_PORT/health"
service_url="http://127.0.0.1:$SERVICE_PORT/health"
echo "health_bench: tchat-$service vs nginx, $workers workers each; wrk -t$wrk_threads -c$connections -d${duration}s, $rounds rounds, $(nproc) cores"
echo "warming up..."
run_wrk "$nginx_url" 2 >/dev/null
run_wrk "$service_url" 2 >/dev/null

nginx_rps=()
service_rps=()
printf '%-7s %-14s %12s %9s %9s %9s %9s\n' round target "requests/s" p50 p75 p90 p99
for ((r = 1; r <= rounds; r++)); do
  for target in nginx "tchat-$service"; do
    if [[ "$target" == nginx ]]; then url="$nginx_url"; else url="$service_url"; fi
    read -r rps p50 p75 p90 p99 < <(run_wrk "$url" "$duration")
    printf '%-7s %-14s %12s %9s %9s %9s %9s\n' "$r" "$target" "$rps" "$p50" "$p75" "$p90" "$p99"
    if [[ "$target" == nginx ]]; then nginx_rps+=("$rps"); else service_rps+=("$rps"); fi
  done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_nginx="$(median "${nginx_rps[@]}")"
m_service="$(median "${service_rps[@]}")"
echo
echo "median requests/s: nginx $m_nginx, tchat-$service $m_service"
awk -v s="$m_service" -v n="$m_nginx" -v name="tchat-$service" \
  'BEGIN { printf "ratio %s/nginx: %.2f\n", name, s / n }'
