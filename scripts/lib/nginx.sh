# shellcheck shell=bash
# The gateway: nginx run from a generated configuration (not the system service),
# prefix $TCHAT_RUN_DIR/nginx, logs in $TCHAT_RUN_DIR/logs/nginx-{access,error}.log.
# Requires common.sh.

TCHAT_NGINX_TEMPLATE="$TCHAT_ROOT/deploy/nginx/tchat-gateway.conf.template"

tchat::nginx_dir() { echo "$TCHAT_RUN_DIR/nginx"; }
tchat::nginx_conf() { echo "$(tchat::nginx_dir)/nginx.conf"; }
tchat::nginx_pidfile() { echo "$(tchat::nginx_dir)/nginx.pid"; }

# The directory served at "/": the built web client when present, else a
# generated placeholder page.
tchat::nginx_web_root() {
  if [[ -f "$TCHAT_ROOT/web/dist/index.html" ]]; then
    echo "$TCHAT_ROOT/web/dist"
    return
  fi
  local html
  html="$(tchat::nginx_dir)/html"
  mkdir -p "$html"
  cat >"$html/index.html" <<'HTML'
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tchat</title></head>
<body>
<h1>Tchat gateway</h1>
<p>The API is served under <code>/v1/</code>. The web client is not built yet
(it is served from <code>web/dist/</code> once it is).</p>
</body>
</html>
HTML
  echo "$html"
}

# Writes nginx.conf from the template; fails when a placeholder is left over.
tchat::nginx_generate() {
  [[ -r "$TCHAT_NGINX_TEMPLATE" ]] || tchat::die "missing $TCHAT_NGINX_TEMPLATE"
  local dir web_root
  dir="$(tchat::nginx_dir)"
  mkdir -p "$dir/tmp" "$dir/dev.d" "$TCHAT_RUN_DIR/logs"
  web_root="$(tchat::nginx_web_root)"
  # Open files per worker: what the hard limit allows, at most 65536.
  local nofile
  nofile="$(ulimit -Hn)"
  if [[ "$nofile" == unlimited ]] || ((nofile > 65536)); then nofile=65536; fi
  local s
  for s in "$TCHAT_RUN_DIR" "$web_root" "$TCHAT_ROOT"; do
    [[ "$s" != *[[:space:]\;\|]* ]] || tchat::die "path unsuitable for nginx.conf: $s"
  done
  sed -e "s|@@RUN_DIR@@|$TCHAT_RUN_DIR|g" \
    -e "s|@@WEB_ROOT@@|$web_root|g" \
    -e "s|@@MEDIA_DIR@@|$(tchat::media_dir)|g" \
    -e "s|@@CONF_DIR@@|$TCHAT_ROOT/deploy/nginx|g" \
    -e "s|@@GATEWAY_PORT@@|$TCHAT_GATEWAY_PORT|g" \
    -e "s|@@AUTH_PORT@@|$TCHAT_AUTH_PORT|g" \
    -e "s|@@MESSAGING_PORT@@|$TCHAT_MESSAGING_PORT|g" \
    -e "s|@@PAYMENT_PORT@@|$TCHAT_PAYMENT_PORT|g" \
    -e "s|@@NOTIFICATION_PORT@@|$TCHAT_NOTIFICATION_PORT|g" \
    -e "s|@@NOFILE@@|$nofile|g" \
    "$TCHAT_NGINX_TEMPLATE" >"$(tchat::nginx_conf).tmp"
  if grep -q '@@[A-Z_]*@@' "$(tchat::nginx_conf).tmp"; then
    tchat::die "unreplaced placeholder in $(tchat::nginx_conf).tmp"
  fi
  tchat::_nginx_upstreams >"$dir/upstreams.conf"
  tchat::_nginx_balancers >"$dir/balancers.conf"
  mv "$(tchat::nginx_conf).tmp" "$(tchat::nginx_conf)"
}

# The upstream of each service (nginx.conf includes it): its one server, or its
# replicas (tchat::replica_port). Passive health checks: a replica that fails one
# request (refused, reset, dropped) is left out for 5 s, then tried again
# (max_fails/fail_timeout; a single server is never left out).
tchat::_nginx_upstreams() {
  local svc r n
  n="$(tchat::replicas)" || return 1
  for svc in "${TCHAT_SERVICES[@]}"; do
    echo "upstream tchat_$svc {"
    for ((r = 1; r <= n; r++)); do
      echo "    server 127.0.0.1:$(tchat::replica_port "$svc" "$r") max_fails=1 fail_timeout=5s;"
    done
    echo "    keepalive 32;"
    echo "}"
  done
  # Auth's servers without keep-alive, for the sign-in routes (see the template).
  echo "upstream tchat_auth_fresh {"
  for ((r = 1; r <= n; r++)); do
    echo "    server 127.0.0.1:$(tchat::replica_port auth "$r") max_fails=1 fail_timeout=5s;"
  done
  echo "}"
}

# With replicas (TCHAT_REPLICAS >= 2), each service's own port is a listener of
# the gateway that balances over its replicas, for what calls "the service"
# there: the other services (JWKS_URL, TCHAT_AUTH_URL, ...), health checks and
# tests. Everything passes through as it came (headers, WebSocket upgrades);
# responses carry X-Tchat-Balancer so that scripts can tell it from a service.
# Empty with one replica: the service itself listens there.
tchat::_nginx_balancers() {
  local svc n
  n="$(tchat::replicas)" || return 1
  ((n >= 2)) || return 0
  for svc in "${TCHAT_SERVICES[@]}"; do
    cat <<CONF
server {
    listen 127.0.0.1:$(tchat::service_port "$svc");
    access_log off;
    client_max_body_size 100m;
    proxy_request_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Host \$host;
    proxy_set_header Upgrade \$http_upgrade;
    proxy_set_header Connection \$tchat_balancer_connection;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_connect_timeout 5s;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;
    proxy_next_upstream error;
    proxy_next_upstream_tries 3;
    add_header X-Tchat-Balancer $svc always;
    location / {
        proxy_pass http://tchat_$svc;
    }
}
CONF
  done
  # Keep-alive to the replicas unless the caller upgrades to a WebSocket.
  cat <<'CONF'
map $http_upgrade $tchat_balancer_connection {
    default upgrade;
    ""      "";
}
CONF
}

# Succeeds when the gateway balances port $1 (tchat::_nginx_balancers).
tchat::nginx_balances() {
  curl -s -m 2 -o /dev/null -D - "http://127.0.0.1:$1/health" 2>/dev/null | grep -qi '^x-tchat-balancer:'
}
# After a start or reload: waits until the gateway balances each service's port
# when there are replicas, and has let it go when there are none.
tchat::nginx_wait_balancers() {
  local svc port n
  n="$(tchat::replicas)" || return 1
  for svc in "${TCHAT_SERVICES[@]}"; do
    port="$(tchat::service_port "$svc")"
    if ((n >= 2)); then
      tchat::wait_until 10 tchat::nginx_balances "$port" || tchat::die "the gateway does not balance port $port ($svc)"
    else
      tchat::wait_until 10 tchat::_not tchat::nginx_balances "$port" || tchat::die "the gateway still holds port $port ($svc)"
    fi
  done
}
tchat::_not() { ! "$@"; }

tchat::_nginx() {
  nginx -c "$(tchat::nginx_conf)" -p "$(tchat::nginx_dir)/" -e "$TCHAT_RUN_DIR/logs/nginx-error.log" "$@"
}

# Checks the generated configuration (nginx -t).
tchat::nginx_test() {
  tchat::_nginx -t -q
}

tchat::nginx_running() {
  tchat::live_pid "$(tchat::nginx_pidfile)" nginx >/dev/null
}

# Generates the configuration and starts nginx, or reloads it when it runs.
tchat::nginx_start() {
  command -v nginx >/dev/null || tchat::die "nginx not found (run scripts/install-deps.sh)"
  tchat::nginx_generate
  tchat::nginx_test || tchat::die "generated nginx configuration is invalid: $(tchat::nginx_conf)"
  if tchat::nginx_running; then
    tchat::log "reloading the gateway configuration"
    tchat::_nginx -s reload
    tchat::nginx_wait_balancers
    return 0
  fi
  if tchat::port_open "$TCHAT_GATEWAY_PORT"; then
    tchat::die "port $TCHAT_GATEWAY_PORT (gateway) is taken by another process"
  fi
  tchat::log "starting the gateway (nginx) on 127.0.0.1:$TCHAT_GATEWAY_PORT"
  tchat::_nginx 9>&- || tchat::die "nginx failed to start (log: $TCHAT_RUN_DIR/logs/nginx-error.log)"
  tchat::wait_until 10 tchat::port_open "$TCHAT_GATEWAY_PORT" ||
    tchat::die "the gateway does not listen on $TCHAT_GATEWAY_PORT"
  tchat::nginx_wait_balancers
}

tchat::nginx_stop() {
  local pid
  if pid="$(tchat::live_pid "$(tchat::nginx_pidfile)" nginx)"; then
    tchat::log "stopping the gateway"
    # SIGQUIT: graceful shutdown (finish open requests).
    kill -QUIT "$pid" 2>/dev/null || true
    if ! tchat::wait_until 15 tchat::_pid_gone "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      tchat::wait_until 5 tchat::_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
}
