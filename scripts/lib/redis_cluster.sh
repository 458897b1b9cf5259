# shellcheck shell=bash
# A private Redis Cluster: six redis-server processes on 127.0.0.1, ports
# $TCHAT_REDIS_CLUSTER_PORT .. +5 (three masters with one replica each, made by
# `redis-cli --cluster create --cluster-replicas 1`), files under
# $TCHAT_RUN_DIR/redis-cluster/<port>. cluster-node-timeout is
# $TCHAT_REDIS_CLUSTER_NODE_TIMEOUT ms (default 1000: a dead master's replica takes
# over within about two seconds). No persistence (TCHAT_DURABLE=0) or snapshots
# otherwise, like the single Redis. Requires common.sh.

tchat::redis_cluster_dir() { echo "$TCHAT_RUN_DIR/redis-cluster"; }
tchat::redis_cluster_ports() {
  local base="${TCHAT_REDIS_CLUSTER_PORT:-7001}" i
  for i in 0 1 2 3 4 5; do echo $((base + i)); done
}
# redis-cluster://127.0.0.1:p1,127.0.0.1:p2,... (every node is a seed).
tchat::redis_cluster_url() {
  local hosts=() port
  for port in $(tchat::redis_cluster_ports); do hosts+=("127.0.0.1:$port"); done
  local IFS=,
  echo "redis-cluster://${hosts[*]}"
}
tchat::redis_cluster_pidfile() { echo "$(tchat::redis_cluster_dir)/$1/redis.pid"; }

tchat::redis_cluster_start() {
  command -v redis-server >/dev/null || tchat::die "redis-server not found (run scripts/install-deps.sh)"
  local cluster_dir port dir nodes=() fresh=0
  cluster_dir="$(tchat::redis_cluster_dir)"
  local persistence=(--save "3600 1 300 100 60 10000" --appendonly no)
  if [[ "${TCHAT_DURABLE:-1}" == 0 ]]; then persistence=(--save "" --appendonly no); fi
  for port in $(tchat::redis_cluster_ports); do
    dir="$cluster_dir/$port"
    nodes+=("127.0.0.1:$port")
    if tchat::live_pid "$(tchat::redis_cluster_pidfile "$port")" redis-server >/dev/null; then
      continue
    fi
    if tchat::port_open "$port"; then
      tchat::die "port $port is taken by another process (set TCHAT_REDIS_CLUSTER_PORT)"
    fi
    mkdir -p "$dir"
    [[ -f "$dir/nodes.conf" ]] || fresh=1
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --protected-mode yes --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout "${TCHAT_REDIS_CLUSTER_NODE_TIMEOUT:-1000}" \
      "${persistence[@]}" 9>&- ||
      tchat::die "redis-server (cluster node $port) failed to start (log: $dir/redis.log)"
  done
  for port in $(tchat::redis_cluster_ports); do
    tchat::wait_until 10 tchat::_redis_cluster_ping "$port" ||
      tchat::die "cluster node $port did not answer PING (log: $cluster_dir/$port/redis.log)"
  done
  if ((fresh)); then
    tchat::log "creating a Redis Cluster on ${nodes[*]}"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$cluster_dir/create.log" 2>&1 ||
      { tail -n 20 "$cluster_dir/create.log" >&2; tchat::die "redis-cli --cluster create failed"; }
  fi
  tchat::wait_until 30 tchat::_redis_cluster_ok ||
    tchat::die "the Redis Cluster did not reach cluster_state:ok"
}
tchat::_redis_cluster_ping() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}
# Every live node says ok and the slots are all served.
tchat::_redis_cluster_ok() {
  local port info
  for port in $(tchat::redis_cluster_ports); do
    tchat::_redis_cluster_ping "$port" || continue
    info="$(redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null)" || return 1
    grep -q 'cluster_state:ok' <<<"$info" || return 1
    grep -q 'cluster_slots_ok:16384' <<<"$info" || return 1
  done
}

tchat::redis_cluster_stop() {
  local port pid
  for port in $(tchat::redis_cluster_ports); do
    if pid="$(tchat::live_pid "$(tchat::redis_cluster_pidfile "$port")" redis-server)"; then
      tchat::terminate_pid "$pid" 30 || true
    fi
  done
}
