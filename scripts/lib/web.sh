# shellcheck shell=bash
# The browser client (web/): its npm dependencies and its build into web/dist/,
# which the gateway serves at "/". Requires common.sh.

TCHAT_WEB_DIR="$TCHAT_ROOT/web"

# Installs web/node_modules from the committed package-lock.json (npm ci) when it
# is missing or the lock file changed since the last install.
tchat::web_deps() {
  command -v npm >/dev/null || tchat::die "npm not found (run scripts/install-deps.sh)"
  local stamp="$TCHAT_WEB_DIR/node_modules/.tchat-lock.sha256" want
  want="$(sha256sum "$TCHAT_WEB_DIR/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then return 0; fi
  tchat::log "installing the web client's npm packages (npm ci)"
  (cd "$TCHAT_WEB_DIR" && npm ci --no-audit --no-fund --loglevel=error) ||
    tchat::die "npm ci failed in $TCHAT_WEB_DIR"
  echo "$want" >"$stamp"
}

# Type-checks and builds the client into web/dist/.
tchat::web_build() {
  tchat::web_deps
  tchat::log "building the web client into web/dist/"
  (cd "$TCHAT_WEB_DIR" && npm run --silent build -- --logLevel warn) ||
    tchat::die "the web client build failed"
}
