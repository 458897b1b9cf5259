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
  mv "$(tchat::nginx_conf).tmp" "$(tchat::nginx_conf)"
}

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
    return 0
  fi
  if tchat::port_open "$TCHAT_GATEWAY_PORT"; then
    tchat::die "port $TCHAT_GATEWAY_PORT (gateway) is taken by another process"
  fi
  tchat::log "starting the gateway (nginx) on 127.0.0.1:$TCHAT_GATEWAY_PORT"
  tchat::_nginx 9>&- || tchat::die "nginx failed to start (log: $TCHAT_RUN_DIR/logs/nginx-error.log)"
  tchat::wait_until 10 tchat::port_open "$TCHAT_GATEWAY_PORT" ||
    tchat::die "the gateway does not listen on $TCHAT_GATEWAY_PORT"
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
