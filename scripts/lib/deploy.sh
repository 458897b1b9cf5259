# shellcheck shell=bash
# Local counterparts of the runbook's deployments (blue-green-deploy.sh,
# canary-deploy.sh). On the local system a service is a process and an "image" is
# a binary. Clients come in through the gateway (nginx), so the gateway is what
# moves traffic: it is pointed at another port and reloaded, which finishes the
# requests in flight and sends new ones to the new port. A service refuses a port
# another process holds, so the new version first runs on a port of its own.
# Requires common.sh, postgres.sh, redis.sh, services.sh, nginx.sh.

# Seconds between a gateway reload and stopping what it no longer sends to: the
# old nginx workers finish their requests meanwhile.
: "${TCHAT_GATEWAY_SETTLE:=2}"

# "auth-service" (the runbook's deployment name) or "auth" → auth; dies otherwise.
tchat::service_of() {
  local name="${1%-service}"
  case "$name" in
    auth | messaging | payment | notification) echo "$name" ;;
    *) tchat::die "unknown service: $1 (auth-service, messaging-service, payment-service, notification-service)" ;;
  esac
}

tchat::deploy_dir() { echo "$TCHAT_RUN_DIR/deploy"; }
# The deployed colour of service $1 (blue until a blue-green deployment switched it).
tchat::deployed_color() {
  local f
  f="$(tchat::deploy_dir)/$1.version"
  if [[ -s "$f" ]]; then cut -d' ' -f1 "$f"; else echo blue; fi
}
# Records colour $2 and binary $3 of service $1.
tchat::record_deployment() {
  mkdir -p "$(tchat::deploy_dir)"
  echo "$2 $3" >"$(tchat::deploy_dir)/$1.version"
}

# Copies binary $2 of service $1 to the run dir, named as the service's binary
# (the pid checks match on the name), so that a rebuild cannot change what runs.
# Prints the copy's path.
tchat::stage_release() {
  local svc="$1" src="$2" sha dir
  # The local blue-green and canary flows hand one process over to another.
  if (($(tchat::replicas) > 1)); then
    tchat::die "local deployments handle one process per service; this system runs $(tchat::replicas) replicas (TCHAT_REPLICAS): restart it with scripts/start.sh instead"
  fi
  [[ -f "$src" && -x "$src" ]] || tchat::die "not an executable file: $src"
  sha="$(sha256sum "$src" | cut -c1-12)"
  dir="$TCHAT_RUN_DIR/releases/$svc-$sha"
  mkdir -p "$dir"
  if [[ ! -x "$dir/tchat-$svc" ]]; then
    cp "$src" "$dir/tchat-$svc.tmp"
    mv "$dir/tchat-$svc.tmp" "$dir/tchat-$svc"
  fi
  echo "$dir/tchat-$svc"
}

# Starts binary $2 of service $1 on port $3 with the local system's configuration,
# pid file $4, log $5, extra VAR=value settings after that.
tchat::instance_start() {
  local svc="$1" bin="$2" port="$3" pidfile="$4" log="$5"
  shift 5
  tchat::port_open "$port" && tchat::die "port $port is taken (for the new $svc)"
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
  (
    tchat::service_env "$svc" "$port"
    # The extra arguments are VAR=value assignments.
    # shellcheck disable=SC2163
    (($# == 0)) || export "$@"
    cd "$TCHAT_RUN_DIR" || exit 1
    exec setsid "$bin" >>"$log" 2>&1 </dev/null 9>&-
  ) &
  echo $! >"$pidfile"
}

# Waits until the process of pid file $1 (service $2) answers 200 on port $3's
# /health/ready; fails when it dies or 60 s pass.
tchat::instance_wait_ready() {
  local pidfile="$1" svc="$2" port="$3" pid
  pid="$(<"$pidfile")"
  # By pid, not by name: until its exec the new process still runs as bash.
  # shellcheck disable=SC2317 # called through tchat::wait_until
  _up_or_gone() { tchat::_ready "$port" || tchat::_pid_gone "$pid"; }
  tchat::wait_until 60 _up_or_gone || true
  tchat::live_pid "$pidfile" "tchat-$svc" >/dev/null && tchat::_ready "$port"
}

# Stops the process of pid file $1 (SIGTERM: it drains) when it runs as service $2.
tchat::instance_stop() {
  local pid
  if pid="$(tchat::live_pid "$1" "tchat-$2")"; then
    tchat::terminate_pid "$pid" 25 || true
  fi
  rm -f "$1"
}

# Points the gateway's route of service $1 at port $2 (reload; no-op without a
# running gateway), then waits for the old workers to let go.
tchat::gateway_route() {
  local svc="$1" port="$2" var
  tchat::nginx_running || return 0
  var="TCHAT_${svc^^}_PORT"
  (
    export "$var=$port"
    tchat::nginx_start >/dev/null 2>&1
  ) || tchat::die "could not point the gateway's $svc route at port $port"
  sleep "$TCHAT_GATEWAY_SETTLE"
}

# Hands service $1 over to binary $2, already serving on the temporary port $4
# (pid file $3): the gateway sends the service's traffic there, the old process
# drains and stops, the binary starts again on the service's own port, the
# gateway returns there, and the temporary process stops. Through the gateway no
# request fails; the service's own port is closed for the moment of the restart.
tchat::takeover() {
  local svc="$1" bin="$2" tmp_pidfile="$3" tmp_port="$4" port pidfile
  port="$(tchat::service_port "$svc")"
  pidfile="$(tchat::service_pidfile "$svc")"
  if ! tchat::nginx_running; then
    tchat::warn "the gateway is not running: $svc's port $port is closed while the new version starts"
  fi
  tchat::gateway_route "$svc" "$tmp_port"
  tchat::instance_stop "$pidfile" "$svc"
  tchat::instance_start "$svc" "$bin" "$port" "$pidfile" "$(tchat::service_log "$svc")"
  if ! tchat::instance_wait_ready "$pidfile" "$svc" "$port"; then
    tchat::die "the new $svc did not become ready on port $port; it keeps serving from port $tmp_port (pid file $tmp_pidfile)"
  fi
  tchat::gateway_route "$svc" "$port"
  tchat::instance_stop "$tmp_pidfile" "$svc"
}

# --- Canary traffic split: a small nginx between the gateway and the two
# versions, weighted, logging which upstream answered what.

tchat::splitter_dir() { echo "$TCHAT_RUN_DIR/canary/$1"; }

# Starts the splitter of service $1 on port $2: stable port $3 with weight $4,
# canary port $5 with weight $6.
tchat::splitter_start() {
  local svc="$1" port="$2" stable="$3" ws="$4" canary="$5" wc="$6" dir
  dir="$(tchat::splitter_dir "$svc")"
  rm -rf "$dir"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
# Canary traffic split for $svc (scripts/canary-deploy.sh --local).
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  log_format split '\$upstream_addr \$status';
  access_log $dir/access.log split;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  map \$http_upgrade \$split_connection { default upgrade; "" ""; }
  upstream versions {
    server 127.0.0.1:$stable weight=$ws;
    server 127.0.0.1:$canary weight=$wc;
  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 2m;
    location / {
      proxy_pass http://versions;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$split_connection;
      proxy_set_header Host \$host;
      proxy_pass_request_headers on;
      proxy_read_timeout 3600s;
      # An answer belongs to the version that gave it: no retry on the other.
      proxy_next_upstream off;
    }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir/" -e "$dir/error.log" 9>&- ||
    tchat::die "the canary splitter did not start (log: $dir/error.log)"
  tchat::wait_until 10 tchat::port_open "$port" || tchat::die "the canary splitter does not listen on $port"
}

tchat::splitter_stop() {
  local dir pid
  dir="$(tchat::splitter_dir "$1")"
  if pid="$(tchat::live_pid "$dir/nginx.pid" nginx)"; then
    kill -QUIT "$pid" 2>/dev/null || true
    tchat::wait_until 15 tchat::_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
}

# Prints "<requests> <5xx answers>" that upstream port $2 gave through the
# splitter of service $1.
tchat::splitter_counts() {
  awk -v up="127.0.0.1:$2" '$1 == up { n++; if ($2 >= 500) e++ } END { printf "%d %d\n", n, e }' \
    "$(tchat::splitter_dir "$1")/access.log" 2>/dev/null || echo "0 0"
}
