#!/usr/bin/env bash
# The container images (deploy/docker/Dockerfile), built and proved with Debian's
# Docker engine. Installs docker.io, debootstrap and docker-compose when missing,
# starts dockerd (--bridge=none --iptables=false: containers use the host network)
# when none runs and stops it at the end, and makes the base image debian:12 with
# debootstrap when Docker Hub cannot be reached.
#
#   build         builds tchat/{auth,messaging,payment,notification,migrate}:dev (and
#                 :<version>) with the engine's layer and compiler caches; prints
#                 the build time and the image sizes. --from-build-dir: the images
#                 take the programs of the host build $TCHAT_BUILD_DIR (debug
#                 information stripped) instead of compiling them in the builder
#                 stage (scripts/test.sh's suite: build/ is already compiled)
#   test          build, then: ldd inside every image; the four services from their
#                 images (uid 10001, --read-only, tmpfs /tmp, no capabilities) on
#                 the host network against a private PostgreSQL and Redis: ready,
#                 HEALTHCHECK healthy, the end-to-end tests (ctest -L e2e from
#                 $TCHAT_BUILD_DIR) through the gateway (nginx on the host), and
#                 docker stop drains them (exit 0 within the grace period); then
#                 compose-test and the Kubernetes image check
#   compose-test  docker-compose.yml + docker-compose.local.yml up, sign in, a
#                 message and a transfer through the gateway, down
#   clean         removes the images and the compose project (keeps debian:12 and
#                 the build cache)
#
# Ports: a block from TCHAT_CONTAINERS_PORT_BASE [19000]: gateway +80, services
# +81..+84, PostgreSQL +32, Redis +79, the notification test sink +94, Prometheus
# (compose) +90.
# Run directory: TCHAT_CONTAINERS_RUN_DIR [.containers-run]. Needs root (dockerd).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  echo "Usage: $0 build|test|compose-test|clean [--from-build-dir]"
  echo "  TCHAT_CONTAINERS_PORT_BASE=N  ports N+32 (PostgreSQL), N+79 (Redis), N+80..84 (gateway, services)"
}

cmd="${1:-}"
case "$cmd" in
  build | test | compose-test | clean) ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
binaries=build
case "${2:-}" in
  "") ;;
  --from-build-dir) binaries=prebuilt ;;
  *) usage >&2; exit 2 ;;
esac

base="${TCHAT_CONTAINERS_PORT_BASE:-19000}"
if [[ ! "$base" =~ ^[0-9]+$ ]] || ((base < 1024 || base > 65000)); then
  tchat::die "bad TCHAT_CONTAINERS_PORT_BASE: $base"
fi
# Its own stack, whatever the caller's (scripts/test.sh exports its own ports).
export TCHAT_RUN_DIR="${TCHAT_CONTAINERS_RUN_DIR:-$TCHAT_ROOT/.containers-run}"
export TCHAT_BUILD_DIR="${TCHAT_BUILD_DIR:-$TCHAT_ROOT/build}"
export TCHAT_PG_PORT=$((base + 32)) TCHAT_REDIS_PORT=$((base + 79)) TCHAT_GATEWAY_PORT=$((base + 80))
export TCHAT_AUTH_PORT=$((base + 81)) TCHAT_MESSAGING_PORT=$((base + 82))
export TCHAT_PAYMENT_PORT=$((base + 83)) TCHAT_NOTIFICATION_PORT=$((base + 84))
export TCHAT_DURABLE=0 TCHAT_PG_REPLICA=0 TCHAT_REDIS_CLUSTER=0
unset TCHAT_MEDIA_DIR TCHAT_TEST_REDIS_CLUSTER_URL TCHAT_CONTRACT_RECORD
tchat::defaults

for lib in docker postgres redis services nginx e2e containers compose; do
  # shellcheck disable=SC1090
  source "$TCHAT_ROOT/scripts/lib/$lib.sh"
done

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "$cmd" == test || "$cmd" == compose-test ]]; then
    tchat::containers_remove_all
    tchat::compose_down >/dev/null 2>&1 || true
    tchat::nginx_stop >/dev/null 2>&1 || true
    tchat::redis_stop >/dev/null 2>&1 || true
    tchat::pg_stop >/dev/null 2>&1 || true
  fi
  tchat::dockerd_stop
  exit "$rc"
}
trap cleanup EXIT
trap 'echo interrupted; exit 130' INT TERM

setup_engine() {
  mkdir -p "$TCHAT_RUN_DIR/logs"
  tchat::docker_install || tchat::die "cannot install docker.io, debootstrap, docker-compose"
  tchat::dockerd_start
  local start=$SECONDS
  tchat::docker_base_image
  echo "base image $TCHAT_BASE_IMAGE: $((SECONDS - start)) s"
}

build() {
  local start=$SECONDS
  tchat::images_build "$binaries"
  echo "built ${#TCHAT_IMAGES[@]} images in $((SECONDS - start)) s:"
  tchat::images_sizes
}

# Every check against the running images; returns 1 when one failed (after all ran).
test_images() {
  local svc rc=0
  echo "=== ldd inside each image"
  for svc in "${TCHAT_IMAGES[@]}"; do tchat::image_ldd_check "$svc" || rc=1; done

  echo "=== the four services from their images"
  [[ -x "$TCHAT_BUILD_DIR/bin/tchat-keygen" ]] ||
    tchat::die "$TCHAT_BUILD_DIR/bin/tchat-keygen not found: the e2e tests and the key come from a host build (scripts/build.sh)"
  tchat::containers_remove_all
  tchat::pg_stop >/dev/null 2>&1 || true
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::pg_destroy
  rm -rf "$TCHAT_RUN_DIR/logs" "$TCHAT_RUN_DIR/containers" "$(tchat::media_dir)"
  mkdir -p "$TCHAT_RUN_DIR/logs"
  tchat::e2e_settings "127.0.0.1:$((base + 94))"
  tchat::pg_start
  tchat::redis_start
  tchat::pg_setup_databases
  tchat::ensure_secrets
  tchat::write_service_config
  tchat::containers_start_all || return 1
  for svc in "${TCHAT_SERVICES[@]}"; do tchat::container_security_check "$svc" || rc=1; done
  tchat::nginx_start || return 1

  echo "=== ctest e2e against the containers (gateway 127.0.0.1:$TCHAT_GATEWAY_PORT)"
  tchat::export_e2e_env
  export TCHAT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$TCHAT_PG_PORT/postgres"
  export TCHAT_TEST_REDIS_URL="redis://127.0.0.1:$TCHAT_REDIS_PORT/0"
  local ctest_filter=()
  if [[ -n ${TCHAT_TEST_CTEST_REGEX:-} ]]; then ctest_filter=(-R "$TCHAT_TEST_CTEST_REGEX"); fi
  local start=$SECONDS
  if ctest --test-dir "$TCHAT_BUILD_DIR" "${ctest_filter[@]}" --output-on-failure -L e2e -LE cluster \
    --timeout 900; then
    echo "  e2e against the containers: passed in $((SECONDS - start)) s"
  else
    echo "  e2e against the containers: FAILED" >&2
    rc=1
  fi

  echo "=== docker stop: SIGTERM drains, exit 0"
  for svc in "${TCHAT_SERVICES[@]}"; do tchat::container_stop_check "$svc" 30 || rc=1; done
  tchat::containers_remove_all
  tchat::nginx_stop
  return "$rc"
}

case "$cmd" in
  build)
    setup_engine
    build
    ;;
  test)
    setup_engine
    build
    rc=0
    test_images || rc=1
    echo "=== docker-compose with the local stand-ins"
    tchat::compose_test || rc=1
    echo "=== Kubernetes: every image the overlays name is one this script builds"
    python3 "$TCHAT_ROOT/tests/ops/k8s_images_test.py" --docker || rc=1
    exit "$rc"
    ;;
  compose-test)
    setup_engine
    tchat::compose_test
    ;;
  clean)
    tchat::dockerd_start
    tchat::compose_down || true
    for t in "${TCHAT_IMAGES[@]}"; do
      tchat::docker image rm -f "tchat/$t:dev" "tchat/$t:$(tchat::project_version)" 2>/dev/null || true
    done
    ;;
esac
