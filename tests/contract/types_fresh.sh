#!/usr/bin/env bash
# The web client's API types (web/src/api/schema.d.ts) are generated from the
# contract docs/api/openapi.yaml: fails when the committed file is not what
# `npm run gen:api` (openapi-typescript) makes of the document today.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gen="$ROOT/web/node_modules/.bin/openapi-typescript"
if [[ ! -x "$gen" ]]; then
  echo "FAIL: $gen is missing: install the web packages (scripts/install-deps.sh, or npm ci in web/)"
  exit 1
fi
cd "$ROOT/web"
if ! "$gen" ../docs/api/openapi.yaml -o src/api/schema.d.ts --check; then
  echo "FAIL: web/src/api/schema.d.ts is out of date: run npm run gen:api in web/ and commit it"
  exit 1
fi
