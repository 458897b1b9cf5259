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

# Type-checks and builds the client into web/dist/, with the API reference.
tchat::web_build() {
  tchat::web_deps
  tchat::log "building the web client into web/dist/"
  (cd "$TCHAT_WEB_DIR" && npm run --silent build -- --logLevel warn) ||
    tchat::die "the web client build failed"
  tchat::web_api_docs
}

# Renders the API contract docs/api/openapi.yaml into web/dist/docs/api/ (served
# by the local gateway at /docs/api/) with Redocly CLI. The page loads nothing from
# elsewhere: Redoc's script, which the page would take from Redocly's CDN, is
# served beside it from the pinned npm package, and the page template
# (docs/api/redoc-template.hbs) leaves out Google's fonts and refuses, by its
# Content-Security-Policy, the one image Redoc takes from its CDN.
tchat::web_api_docs() {
  local out="$TCHAT_WEB_DIR/dist/docs/api" bin="$TCHAT_WEB_DIR/node_modules"
  mkdir -p "$out"
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$bin/.bin/redocly" build-docs \
    "$TCHAT_ROOT/docs/api/openapi.yaml" --config "$TCHAT_ROOT/docs/api/redocly.yaml" \
    --template "$TCHAT_ROOT/docs/api/redoc-template.hbs" --title "Tchat API" \
    -o "$out/index.html" >/dev/null ||
    tchat::die "rendering docs/api/openapi.yaml failed"
  cp "$bin/redoc/bundles/redoc.standalone.js" "$out/"
  sed -i -E 's#<script src="https://cdn\.redocly\.com/redoc/[^"]*/redoc\.standalone\.js">#<script src="redoc.standalone.js">#' \
    "$out/index.html"
  if grep -qE '<(script|link)[^>]*(src|href)="(https?:)?//' "$out/index.html"; then
    tchat::die "$out/index.html still loads something from elsewhere"
  fi
}
