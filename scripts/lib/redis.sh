# shellcheck shell=bash
# A private Redis server: files under $TCHAT_RUN_DIR/redis, 127.0.0.1:$TCHAT_REDIS_PORT.
# The local system keeps snapshots (dump.rdb there); TCHAT_DURABLE=0 (tests)
# turns persistence off. Requires common.sh.

# shellcheck source=scripts/lib/redis_cluster.sh
source "$TCHAT_ROOT/scripts/lib/redis_cluster.sh"

tchat::redis_dir() { echo "$TCHAT_RUN_DIR/redis"; }
tchat::redis_pidfile() { echo "$(tchat::redis_dir)/redis.pid"; }
# The services' REDIS_URL: the single Redis, or with TCHAT_REDIS_CLUSTER=1 the
# private Redis Cluster (redis_cluster.sh).
tchat::redis_url() {
  if [[ "${TCHAT_REDIS_CLUSTER:-0}" == 1 ]]; then
    tchat::redis_cluster_url
  else
    echo "redis://127.0.0.1:${TCHAT_REDIS_PORT}/0"
  fi
}

tchat::redis_running() {
  tchat::live_pid "$(tchat::redis_pidfile)" redis-server >/dev/null
}

tchat::redis_start() {
  command -v redis-server >/dev/null || tchat::die "redis-server not found (run scripts/install-deps.sh)"
  if tchat::redis_running; then
    tchat::log "Redis already running ($(tchat::redis_dir))"
    return 0
  fi
  if tchat::port_open "$TCHAT_REDIS_PORT"; then
    tchat::die "port $TCHAT_REDIS_PORT is taken by another process (a system redis-server? stop it or set TCHAT_REDIS_PORT)"
  fi
  local dir
  dir="$(tchat::redis_dir)"
  mkdir -p "$dir"
  local persistence=(--save "3600 1 300 100 60 10000" --appendonly no)
  if [[ "${TCHAT_DURABLE:-1}" == 0 ]]; then persistence=(--save "" --appendonly no); fi
  tchat::log "starting Redis on 127.0.0.1:$TCHAT_REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$TCHAT_REDIS_PORT" --dir "$dir" \
    --daemonize yes --pidfile "$(tchat::redis_pidfile)" --logfile "$dir/redis.log" \
    --protected-mode yes "${persistence[@]}" 9>&- ||
    tchat::die "redis-server failed to start (log: $dir/redis.log)"
  if ! tchat::wait_until 10 tchat::_redis_ping; then
    tail -n 20 "$dir/redis.log" >&2 || true
    tchat::die "Redis did not answer PING (log: $dir/redis.log)"
  fi
}
tchat::_redis_ping() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

tchat::redis_stop() {
  local pid
  if pid="$(tchat::live_pid "$(tchat::redis_pidfile)" redis-server)"; then
    tchat::log "stopping Redis"
    # SIGTERM: Redis saves a snapshot when persistence is on, then exits.
    tchat::terminate_pid "$pid" 30 || true
  fi
}
