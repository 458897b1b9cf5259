#!/usr/bin/env bash
# Runs every test of Tchat: installs dependencies, builds build/ and build-asan/,
# starts a private PostgreSQL (127.0.0.1:25432), its streaming read replica
# (25442) and Redis (26379) under .test-run/,
# runs ctest in both build directories, then starts the four services (from
# build/, ports 18081-18084), the payment simulator (18089) and the gateway
# (18080) against them and runs the end-to-end tests (recording their exchanges,
# which are then validated against docs/api/openapi.yaml), the stack tests
# tests/integration/*.sh and the web client's browser test (web/e2e/; screenshots
# in .test-run/artifacts/web/).
# Everything it starts is stopped when it ends, however it ends. Works whether or
# not the local system (scripts/start.sh) is running. Ends with "N passed, M
# failed" (test suites); exit status 1 when any suite failed.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/e2e.sh
source "$TCHAT_ROOT/scripts/lib/e2e.sh"

usage() {
  echo "Usage: $0 [--no-install] [--no-asan] [--no-stack] [--no-containers] [--redis-cluster] [--only REGEX]"
  echo "  --no-install   skip scripts/install-deps.sh"
  echo "  --no-asan      skip the sanitizer build and its ctest run (quicker local runs)"
  echo "  --no-stack     skip the stack tests"
  echo "  --no-containers  skip the container images' suite (scripts/containers.sh test)"
  echo "  --redis-cluster  run the whole stack (every e2e pass) on the Redis Cluster instead of"
  echo "                 the single Redis (default: only the pass 'ctest e2e (Redis Cluster)' does)"
  echo "  --only REGEX   run only the suites whose name matches REGEX (bash =~); the"
  echo "                 others are listed as SKIP and the run does not count as complete"
  echo "  TCHAT_TEST_CTEST_REGEX=R (environment): ctest runs only the tests matching R (-R)"
}

install=1
asan=1
stack=1
containers=1
only=""
redis_cluster="${TCHAT_TEST_REDIS_CLUSTER:-0}"
while (($#)); do
  case "$1" in
    --redis-cluster) redis_cluster=1 ;;
    --no-install) install=0 ;;
    --no-asan) asan=0 ;;
    --no-stack) stack=0 ;;
    --no-containers) containers=0 ;;
    --only)
      [[ $# -ge 2 ]] || { usage >&2; exit 2; }
      only="$2"
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

# The test stack: its own directory and ports, away from the local system's, and
# below Linux's ephemeral range (32768-60999): a port in it can be taken by any
# client connection's local end, and then a private server cannot bind it.
export TCHAT_RUN_DIR="$TCHAT_ROOT/.test-run"
export TCHAT_BUILD_DIR="$TCHAT_ROOT/build"
export TCHAT_PG_PORT=25432 TCHAT_REDIS_PORT=26379
# The Redis Cluster (scripts/lib/redis_cluster.sh): six nodes on 22381-22386, whose
# cluster bus ports (+10000: 32381-32386) stay below Linux's ephemeral range
# (32768-60999), where a client's local end once took 36386 and a node could not start.
export TCHAT_REDIS_CLUSTER_PORT=22381 TCHAT_REDIS_CLUSTER_NODE_TIMEOUT=1000
# The services run on the single Redis unless a pass says otherwise (config.env
# records the choice; an explicit 0 replaces a recorded 1 from an earlier pass).
export TCHAT_REDIS_CLUSTER="${TCHAT_REDIS_CLUSTER:-0}"
export TCHAT_GATEWAY_PORT=18080 TCHAT_AUTH_PORT=18081 TCHAT_MESSAGING_PORT=18082
export TCHAT_PAYMENT_PORT=18083 TCHAT_NOTIFICATION_PORT=18084 TCHAT_PSP_SIM_PORT=18089
export TCHAT_DURABLE=0
# The services read from a streaming replica of the test PostgreSQL (port 25442;
# scripts/lib/pg_replica.sh); TCHAT_PG_REPLICA=0 runs without it.
export TCHAT_PG_REPLICA="${TCHAT_PG_REPLICA:-1}"
# The services' settings the end-to-end tests need (rate limits far above a
# person's, small media quotas, development OTP; scripts/lib/e2e.sh); the
# notification e2e test listens on 18294 and stands in for the push/SMS providers.
tchat::e2e_settings 127.0.0.1:18294
tchat::defaults

# shellcheck source=scripts/lib/postgres.sh
source "$TCHAT_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$TCHAT_ROOT/scripts/lib/pg_replica.sh"
# shellcheck source=scripts/lib/redis.sh
source "$TCHAT_ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$TCHAT_ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$TCHAT_ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/web.sh
source "$TCHAT_ROOT/scripts/lib/web.sh"
# shellcheck source=scripts/lib/psp_sim.sh
source "$TCHAT_ROOT/scripts/lib/psp_sim.sh"

passed=0
failed=0
failed_names=()
skipped=0
results=()
phase="setup"
# Runs one suite (name, then the command) in a subshell, so that a failing helper's
# exit cannot end the whole run. Records the result; never aborts.
suite() {
  local name="$1" start rc=0
  shift
  if [[ -n $only && ! $name =~ $only ]]; then
    skipped=$((skipped + 1))
    results+=("SKIP  $name (--only)")
    return 0
  fi
  start=$SECONDS
  phase="$name"
  echo
  echo "=== $name"
  ("$@") || rc=$?
  if [[ $rc == 0 ]]; then
    passed=$((passed + 1))
    results+=("PASS  $name ($((SECONDS - start))s)")
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    results+=("FAIL  $name ($((SECONDS - start))s, exit $rc)")
  fi
  return 0
}
# Records a suite that could not run.
suite_not_run() {
  failed=$((failed + 1))
  failed_names+=("$1")
  results+=("FAIL  $1 (not run: $2)")
}

stop_test_stack() {
  tchat::services_stop_all >/dev/null 2>&1 || true
  tchat::psp_sim_stop >/dev/null 2>&1 || true
  tchat::nginx_stop >/dev/null 2>&1 || true
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::redis_cluster_stop >/dev/null 2>&1 || true
  tchat::pg_replica_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
}

summary() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $rc != 0 ]]; then suite_not_run "$phase" "the test script stopped (exit $rc)"; fi
  stop_test_stack
  echo
  echo "=== Summary"
  local r
  for r in "${results[@]}"; do echo "  $r"; done
  if ((failed)); then
    echo "  failed: ${failed_names[*]}"
    echo "  logs of the test stack: $TCHAT_RUN_DIR/logs/, PostgreSQL: $(tchat::pg_log)"
  fi
  if ((skipped)); then
    echo "  $skipped suites skipped by --only: this is not a complete run"
  fi
  echo "$passed passed, $failed failed"
  if ((failed)) || [[ $rc != 0 ]]; then exit 1; fi
  exit 0
}
trap summary EXIT
trap 'echo "interrupted"; exit 130' INT TERM

phase="install"
if ((install)); then "$TCHAT_ROOT/scripts/install-deps.sh"; fi
phase="build"

build_ok=0
if "$TCHAT_ROOT/scripts/build.sh"; then build_ok=1; fi
asan_ok=0
if ((asan)) && "$TCHAT_ROOT/scripts/build.sh" --asan; then asan_ok=1; fi
# The web client (web/dist/, served by the gateway); a subshell, as it dies on failure.
web_ok=0
if (tchat::web_build); then web_ok=1; fi

# A fresh test stack: stop leftovers of an earlier run, wipe its data, start.
phase="test servers"
stop_test_stack
tchat::pg_destroy
tchat::pg_replica_destroy
rm -rf "$TCHAT_RUN_DIR"
mkdir -p "$TCHAT_RUN_DIR/logs"
tchat::pg_start
tchat::redis_start
tchat::redis_cluster_start
export TCHAT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$TCHAT_PG_PORT/postgres"
# The replica streams everything the tests create from here on (replica_pgtest
# needs it; without it, that test fails rather than skips).
if [[ "$TCHAT_PG_REPLICA" == 1 ]]; then
  tchat::pg_replica_start
  TCHAT_TEST_PG_REPLICA_URL="$(tchat::pg_replica_url postgres)"
  export TCHAT_TEST_PG_REPLICA_URL
fi
export TCHAT_TEST_REDIS_URL="redis://127.0.0.1:$TCHAT_REDIS_PORT/0"
TCHAT_TEST_REDIS_CLUSTER_URL="$(tchat::redis_cluster_url)"
export TCHAT_TEST_REDIS_CLUSTER_URL
# e2e passes against the single Redis leave out the tests that need the cluster
# (label "cluster"); with --redis-cluster every pass runs on the cluster.
e2e_labels=(-L e2e -LE cluster)
if ((redis_cluster)); then
  export TCHAT_REDIS_CLUSTER=1
  e2e_labels=(-L e2e)
fi

# ctest: unit tests and the tests against PostgreSQL/Redis (labels pg, redis); the
# e2e label needs the running stack and comes later.
ctest_jobs="${TCHAT_TEST_JOBS:-$(nproc)}"
ctest_filter=()
if [[ -n ${TCHAT_TEST_CTEST_REGEX:-} ]]; then ctest_filter=(-R "$TCHAT_TEST_CTEST_REGEX"); fi
if ((build_ok)); then
  suite "ctest (build)" ctest --test-dir "$TCHAT_ROOT/build" "${ctest_filter[@]}" --output-on-failure -j "$ctest_jobs" \
    --timeout 600 -LE e2e
else
  suite_not_run "ctest (build)" "build failed"
fi
if ((asan)); then
  if ((asan_ok)); then
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
      UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
      suite "ctest (build-asan)" ctest --test-dir "$TCHAT_ROOT/build-asan" "${ctest_filter[@]}" --output-on-failure \
      -j "$ctest_jobs" --timeout 900 -LE e2e
  else
    suite_not_run "ctest (build-asan)" "build failed"
  fi
fi

# The stack: services from build/ plus the gateway, then the black-box tests.
# (Explicit returns: errexit does not apply inside a suite's "|| rc=$?" context.)
start_stack() {
  tchat::pg_setup_databases || return 1
  tchat::ensure_secrets || return 1
  tchat::write_service_config || return 1
  tchat::services_start_all || return 1
  # Development payment provider for the web test's top-up; without it only that fails.
  (tchat::psp_sim_start) || tchat::warn "the payment simulator did not start"
  tchat::nginx_start || return 1
  tchat::log "test stack ready: gateway http://127.0.0.1:$TCHAT_GATEWAY_PORT"
}
# The end-to-end tests once more, against the services built with ASan + UBSan
# (build-asan/), then the fuzz run (tests/fuzz/): whole request paths, real
# concurrency and hostile input, which unit tests do not reach, run under the
# sanitizers too. A sanitizer report in a service's log, or
# at its exit, fails the suite.
asan_stack_e2e() {
  local svc log rc=0 found=0
  local -A mark=()
  tchat::services_stop_all || return 1
  for svc in auth messaging payment notification; do
    log="$(tchat::service_log "$svc")"
    mark[$svc]="$(stat -c %s "$log" 2>/dev/null || echo 0)"
  done
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1"
  (TCHAT_BUILD_DIR="$TCHAT_ROOT/build-asan" tchat::services_start_all) || return 1
  TCHAT_TEST_MESSAGING_BIN="$TCHAT_ROOT/build-asan/bin/tchat-messaging" \
    TCHAT_TEST_PAYMENT_BIN="$TCHAT_ROOT/build-asan/bin/tchat-payment" \
    ctest --test-dir "$TCHAT_ROOT/build" "${ctest_filter[@]}" --output-on-failure "${e2e_labels[@]}" --timeout 900 || rc=1
  # Malformed and random input under the sanitizers (tests/integration/15_fuzz.sh).
  python3 "$TCHAT_ROOT/tests/fuzz/http_fuzz.py" --seed "${TCHAT_FUZZ_SEED:-17}" || rc=1
  tchat::services_stop_all || rc=1 # LeakSanitizer reports when a process exits
  for svc in auth messaging payment notification; do
    log="$(tchat::service_log "$svc")"
    if tail -c +"$((mark[$svc] + 1))" "$log" |
      grep -E -A30 "ERROR: (Address|Leak)Sanitizer|runtime error:" >"$TCHAT_RUN_DIR/sanitizer-$svc.txt"; then
      echo "sanitizer report from $svc (see $log):" >&2
      head -n 40 "$TCHAT_RUN_DIR/sanitizer-$svc.txt" >&2
      found=1
    fi
  done
  ((found == 0)) || rc=1
  return "$rc"
}

# The services (build/) on the Redis Cluster, and the end-to-end tests that
# exercise Redis most against them: auth (OTP and sign-in guard scripts, rate
# limits), messaging (fan-out over sharded pub/sub, presence, limits, events),
# payment, notification (its consumers of the event streams, presence lookups),
# and ClusterFailover (kill -9 of a master under load). The node that test kills
# is started again afterwards (it rejoins as a replica). Then, with the services
# stopped (it empties every master and shares the streams' consumer group),
# notification's crash test: its own processes on the cluster, SIGKILL while
# events flow. Skipped when --redis-cluster already ran every pass on the cluster.
cluster_e2e_tests='^(auth_e2e_test|messaging_e2e_test|payment_e2e_test|notification_e2e_test|cluster_failover_e2e_test)$'
redis_cluster_e2e() {
  local rc=0
  tchat::services_stop_all || return 1
  TCHAT_REDIS_CLUSTER=1 tchat::write_service_config || return 1
  (tchat::services_start_all) || return 1
  TCHAT_TEST_REDIS_URL="$TCHAT_TEST_REDIS_CLUSTER_URL" \
    ctest --test-dir "$TCHAT_ROOT/build" -R "${TCHAT_TEST_CTEST_REGEX:-$cluster_e2e_tests}" \
    --output-on-failure -L e2e --timeout 900 || rc=1
  tchat::redis_cluster_start || rc=1
  tchat::services_stop_all || rc=1
  if [[ -z ${TCHAT_TEST_CTEST_REGEX:-} || notification_crash_test =~ $TCHAT_TEST_CTEST_REGEX ]]; then
    TCHAT_TEST_REDIS_URL="$TCHAT_TEST_REDIS_CLUSTER_URL" \
      ctest --test-dir "$TCHAT_ROOT/build" -R '^notification_crash_test$' --output-on-failure --timeout 900 || rc=1
  fi
  return "$rc"
}

if ((stack)); then
  if ((!build_ok)); then
    suite_not_run "stack start" "build failed"
  else
    suite "stack start" start_stack
    if [[ "${failed_names[*]}" != *"stack start"* ]]; then
      # What the end-to-end tests need to reach and inspect the stack.
      tchat::export_e2e_env
      # The services' Redis, which the e2e tests inspect.
      if ((redis_cluster)); then export TCHAT_TEST_REDIS_URL="$TCHAT_TEST_REDIS_CLUSTER_URL"; fi
      # The end-to-end tests' clients record every exchange (HTTP and WebSocket
      # frames) for the contract check against docs/api/openapi.yaml.
      contract_record="$TCHAT_RUN_DIR/artifacts/contract/exchanges.jsonl"
      mkdir -p "$(dirname "$contract_record")"
      suite "ctest e2e (build, running stack)" env TCHAT_CONTRACT_RECORD="$contract_record" \
        ctest --test-dir "$TCHAT_ROOT/build" "${ctest_filter[@]}" --output-on-failure "${e2e_labels[@]}" --timeout 900
      suite "api contract (recorded exchanges)" node "$TCHAT_ROOT/tests/contract/validate_exchanges.mjs" \
        "$contract_record"
      for t in "$TCHAT_ROOT"/tests/integration/[0-9]*.sh; do
        suite "stack: $(basename "$t" .sh)" bash "$t"
      done
      # Two browsers (Debian's Chromium, headless) use the web client end to end.
      if ((web_ok)); then
        suite "web client (playwright)" env TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" \
          node "$TCHAT_ROOT/web/e2e/chat.e2e.mjs"
        # Group management, mutes, payment requests, withdrawals, receipts, password
        # removal, profile photo, account deletion, with axe on every screen
        # (screenshots screens-*, same directory); again in Vietnamese (A on the
        # phone, B on the desktop) and Indonesian (screens-vi-*, screens-id-*).
        suite "web client screens (playwright)" env TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" \
          node "$TCHAT_ROOT/web/e2e/screens.e2e.mjs"
        suite "web client screens, Vietnamese (playwright)" env TCHAT_E2E_LANG=vi \
          TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" node "$TCHAT_ROOT/web/e2e/screens.e2e.mjs"
        suite "web client screens, Indonesian (playwright)" env TCHAT_E2E_LANG=id \
          TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" node "$TCHAT_ROOT/web/e2e/screens.e2e.mjs"
        # The same client in Vietnamese and Indonesian (screenshots lang-*, same directory).
        suite "web client languages (playwright)" env TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" \
          node "$TCHAT_ROOT/web/e2e/languages.e2e.mjs"
        # Attachments: photo, cancelled upload, file download, voice note (media-* screenshots).
        suite "web client media (playwright)" env TCHAT_WEB_ARTIFACTS="$TCHAT_RUN_DIR/artifacts/web" \
          node "$TCHAT_ROOT/web/e2e/media.e2e.mjs"
      else
        suite_not_run "web client (playwright)" "the web client did not build"
        suite_not_run "web client screens (playwright)" "the web client did not build"
        suite_not_run "web client screens, Vietnamese (playwright)" "the web client did not build"
        suite_not_run "web client screens, Indonesian (playwright)" "the web client did not build"
        suite_not_run "web client languages (playwright)" "the web client did not build"
        suite_not_run "web client media (playwright)" "the web client did not build"
      fi
      if ((asan)); then
        if ((asan_ok)); then
          suite "ctest e2e (build-asan services)" asan_stack_e2e
        else
          suite_not_run "ctest e2e (build-asan services)" "build failed"
        fi
      fi
      if ((!redis_cluster)); then
        suite "ctest e2e (Redis Cluster)" redis_cluster_e2e
      fi
    fi
  fi
fi

# The container images (deploy/docker/Dockerfile) built with Debian's Docker
# engine and proved: ldd, uid 10001 and a read-only root filesystem, HEALTHCHECK,
# SIGTERM drains, the end-to-end tests against the four containers behind the
# gateway, docker-compose with the local stand-ins, the Kubernetes overlays'
# images. Its own stack (ports 19032-19094, .containers-run/); needs root (dockerd).
# The images take the programs of build/, compiled above (--from-build-dir): a
# second compile in the Dockerfile's builder stage would add tens of minutes on a
# cold machine; TCHAT_CONTAINERS_FROM_SOURCE=1 runs that one instead.
if ((containers)); then
  if ((build_ok)); then
    stop_test_stack
    containers_from=(--from-build-dir)
    if [[ "${TCHAT_CONTAINERS_FROM_SOURCE:-0}" == 1 ]]; then containers_from=(); fi
    suite "containers" "$TCHAT_ROOT/scripts/containers.sh" test "${containers_from[@]}"
  else
    suite_not_run "containers" "build failed"
  fi
fi
