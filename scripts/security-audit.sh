#!/usr/bin/env bash
# security-audit.sh — the runbook's security audit. Prints what it finds; exits 1
# when a finding is a failure (privileged or root containers, writable root
# filesystems, missing limits or default-deny policy, secrets readable by others,
# a local process reachable from other hosts, missing gateway security headers,
# old TLS), 0 when there are only warnings.
#
# Usage: scripts/security-audit.sh [--local|--k8s]
#   k8s      the runbook's checks against namespace tchat (secret keys, RBAC of
#            the default service account, network policies, Pod Security labels
#            — PodSecurityPolicy is gone since Kubernetes 1.25 — privileged
#            containers), then the audit of the live pods' settings
#   --local  the manifests in deploy/k8s (rendered by kubectl kustomize when
#            installed) and the local system: secrets' file modes, that
#            PostgreSQL, Redis, the services, the payment simulator and the
#            gateway listen on loopback only, development switches left on, the
#            gateway's security headers and its TLS settings
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::ops_parse_args 0 "$@"
tchat::ops_init
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3
audit() { "$py" "$TCHAT_ROOT/scripts/lib/k8s_audit.py"; }

# --- The local system (--local). Each check prints OK/WARN/FAIL lines and
# returns 1 on a FAIL.

# The secrets' file modes: nobody but the owner reads them.
audit_secret_files() {
  local rc=0 f path mode key
  for f in secrets.env jwt-signing-keys.json; do
    path="$TCHAT_RUN_DIR/$f"
    [[ -e "$path" ]] || continue
    mode="$(stat -c %a "$path")"
    if [[ "$mode" == 600 || "$mode" == 400 ]]; then
      echo "OK $f mode $mode"
    else
      echo "FAIL $f mode $mode: readable by others (chmod 600 $path)"
      rc=1
    fi
  done
  if [[ -d "$TCHAT_RUN_DIR/tls" ]]; then
    while IFS= read -r key; do
      [[ "$(stat -c %a "$key")" == 600 ]] || { echo "FAIL $key readable by others"; rc=1; }
    done < <(find "$TCHAT_RUN_DIR/tls" -name 'privkey.pem')
  fi
  return "$rc"
}

# Local addresses other than loopback that port $1 listens on (space-separated).
open_addresses() {
  ss -Hltn "sport = :$1" 2>/dev/null | awk '{ print $4 }' | sed 's/:[0-9]*$//' |
    { grep -vxE '127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]' || true; } | sort -u | tr '\n' ' '
}

# Every process of the local system listens on loopback only: the databases,
# the services (development OTP signs anyone in), the simulator and the gateway.
audit_listen_addresses() {
  local rc=0 what port open
  local -a parts=("PostgreSQL $TCHAT_PG_PORT" "Redis $TCHAT_REDIS_PORT"
    "gateway $TCHAT_GATEWAY_PORT" "payment-simulator ${TCHAT_PSP_SIM_PORT:-8089}")
  for what in "${TCHAT_SERVICES[@]}"; do parts+=("$what $(tchat::service_port "$what")"); done
  for what in "${parts[@]}"; do
    port="${what##* }"
    open="$(open_addresses "$port")"
    if [[ -n "$open" ]]; then
      echo "FAIL ${what% *} listens on ${open}(port $port; reachable from other hosts)"
      rc=1
    elif tchat::port_open "$port"; then
      echo "OK ${what% *} listens on loopback only (port $port)"
    fi
  done
  return "$rc"
}

# Development switches in config.env: warnings on loopback, a failure where
# other hosts reach the services.
audit_dev_switches() {
  local config="$TCHAT_RUN_DIR/config.env"
  [[ -r "$config" ]] || return 0
  if grep -q '^TCHAT_DEV_OTP=1' "$config"; then
    if grep -qE '^LISTEN_ADDRESS=(127\.|::1|localhost)' "$config"; then
      echo "WARN development OTP is on (sign-in codes in API answers): a development system only"
    else
      echo "FAIL development OTP is on and the services do not listen on loopback only"
      return 1
    fi
  fi
  if grep -q '^TCHAT_DEBUG_ENDPOINTS=1' "$config"; then
    echo "WARN debug endpoints are on (/debug/pprof/heap, /debug/routes)"
  fi
  return 0
}

# The headers every answer of the gateway carries (the web client and the API).
audit_gateway_headers() {
  local rc=0 path headers h
  local base="http://127.0.0.1:$TCHAT_GATEWAY_PORT"
  tchat::port_open "$TCHAT_GATEWAY_PORT" || { echo "WARN the gateway is not running: headers not checked"; return 0; }
  for path in / /v1/auth/sessions; do
    headers="$(curl -s -m 5 -o /dev/null -D - "$base$path" | tr -d '\r')"
    for h in "X-Content-Type-Options: nosniff" "X-Frame-Options: " "Referrer-Policy: " \
      "Content-Security-Policy: "; do
      if grep -qiF -- "$h" <<<"$headers"; then
        echo "OK gateway $path: ${h%%:*}"
      else
        echo "FAIL gateway $path: no '${h%: }' header"
        rc=1
      fi
    done
    if grep -qiE '^server: nginx/[0-9]' <<<"$headers"; then
      echo "WARN gateway $path: the Server header names nginx's version (server_tokens off)"
    fi
  done
  return "$rc"
}

# TLS of the gateway: no protocol older than TLS 1.2, certificates not expired.
audit_tls() {
  local rc=0 conf cert
  conf="$TCHAT_RUN_DIR/nginx/nginx.conf"
  if [[ -r "$conf" ]]; then
    if grep -E '^[[:space:]]*ssl_protocols' "$conf" | grep -qE '(SSLv[23]|TLSv1(\.1)?)( |;)'; then
      echo "FAIL gateway: ssl_protocols allows SSL or TLS older than 1.2 ($conf)"
      rc=1
    elif grep -qE '^[[:space:]]*listen[^;]* ssl' "$conf"; then
      echo "OK gateway TLS: no protocol older than TLS 1.2"
    else
      echo "OK gateway: plain HTTP on loopback (TLS ends at the ingress)"
    fi
  fi
  if [[ -d "$TCHAT_RUN_DIR/tls" ]]; then
    while IFS= read -r cert; do
      if ! openssl x509 -checkend 0 -noout -in "$cert" >/dev/null 2>&1; then
        echo "FAIL $cert has expired (scripts/cert-renewal.sh)"
        rc=1
      fi
    done < <(find "$TCHAT_RUN_DIR/tls" -name 'fullchain.pem' -o -name 'cert.pem')
  fi
  return "$rc"
}

local_audit() {
  local rc=0
  echo "--- local system ($TCHAT_RUN_DIR)"
  audit_secret_files || rc=1
  audit_listen_addresses || rc=1
  audit_dev_switches || rc=1
  echo "--- gateway (127.0.0.1:$TCHAT_GATEWAY_PORT)"
  audit_gateway_headers || rc=1
  audit_tls || rc=1
  return "$rc"
}

echo "Running security audit..."
failed=0

if ! tchat::is_local; then
  tchat::require kubectl jq
  # Check for exposed secrets: which keys exist (never the values).
  echo "--- secret keys"
  tchat::kube get secrets -o json | jq -r '.items[] | .metadata.name + ": " + ((.data // {}) | keys | join(", "))'
  # Check RBAC permissions
  echo "--- what the default service account may do"
  kubectl auth can-i --list --as="system:serviceaccount:$TCHAT_NAMESPACE:default" -n "$TCHAT_NAMESPACE"
  # Check network policies
  echo "--- network policies"
  tchat::kube get networkpolicies
  # Pod security (the successor of pod security policies)
  echo "--- pod security labels of namespace $TCHAT_NAMESPACE"
  kubectl get namespace "$TCHAT_NAMESPACE" -o json |
    jq -r '.metadata.labels | to_entries[] | select(.key | startswith("pod-security")) | "\(.key)=\(.value)"'
  # Check for privileged containers
  echo "--- privileged containers"
  tchat::kube get pods -o jsonpath='{range .items[*]}{.metadata.name}{": "}{.spec.containers[*].securityContext.privileged}{"\n"}{end}'
  echo "--- pod settings"
  # The pods' own specs, wrapped as workloads for the same audit as the manifests.
  tchat::kube get pods -o json |
    jq -c '.items[] | {kind: "Deployment", metadata: {name: .metadata.name}, spec: {template: {spec: .spec}}}' |
    awk '{ print "---"; print }' | audit || failed=1
else
  echo "--- manifests (deploy/k8s)"
  if command -v kubectl >/dev/null 2>&1; then
    manifests="$(kubectl kustomize "$TCHAT_ROOT/deploy/k8s/overlays/production")" || tchat::die "kubectl kustomize failed"
  else
    manifests="$(for f in "$TCHAT_ROOT"/deploy/k8s/base/*.yaml "$TCHAT_ROOT"/deploy/k8s/base/*/*.yaml; do
      cat "$f"
      echo "---"
    done)"
  fi
  audit <<<"$manifests" || failed=1

  local_audit || failed=1
fi

if ((failed)); then
  echo "❌ Security audit found failures"
  exit 1
fi
echo "Security audit completed"
