#!/usr/bin/env bash
# security-audit.sh — the runbook's security audit. Prints what it finds; exits 1
# when a finding is a failure (privileged or root containers, writable root
# filesystems, missing limits or default-deny policy, secrets readable by others),
# 0 when there are only warnings.
#
# Usage: scripts/security-audit.sh [--local|--k8s]
#   k8s      the runbook's checks against namespace tchat (secret keys, RBAC of
#            the default service account, network policies, Pod Security labels
#            — PodSecurityPolicy is gone since Kubernetes 1.25 — privileged
#            containers), then the audit of the live pods' settings
#   --local  the manifests in deploy/k8s (rendered by kubectl kustomize when
#            installed) and the local system: secrets' file modes, which
#            addresses PostgreSQL, Redis and the services listen on, development
#            switches left on
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

  echo "--- local system ($TCHAT_RUN_DIR)"
  for f in secrets.env jwt-signing-keys.json; do
    path="$TCHAT_RUN_DIR/$f"
    [[ -e "$path" ]] || continue
    mode="$(stat -c %a "$path")"
    if [[ "$mode" == 600 || "$mode" == 400 ]]; then
      echo "OK $f mode $mode"
    else
      echo "FAIL $f mode $mode: readable by others (chmod 600 $path)"
      failed=1
    fi
  done
  if [[ -d "$TCHAT_RUN_DIR/tls" ]]; then
    while IFS= read -r key; do
      [[ "$(stat -c %a "$key")" == 600 ]] || { echo "FAIL $key readable by others"; failed=1; }
    done < <(find "$TCHAT_RUN_DIR/tls" -name 'privkey.pem')
  fi
  # Listening addresses: the databases must stay on loopback.
  check_listen() {
    local what="$1" port="$2" level="$3" open
    # Local addresses of the port's listening sockets, loopback ones left out.
    open="$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ print $4 }' | sed 's/:[0-9]*$//' |
      { grep -vxE '127\.[0-9.]+|\[::1\]' || true; } | sort -u | tr '\n' ' ')"
    if [[ -n "$open" ]]; then
      echo "$level $what listens on ${open}(reachable from other hosts)"
      if [[ "$level" == FAIL ]]; then failed=1; fi
    elif tchat::port_open "$port"; then
      echo "OK $what listens on loopback only"
    fi
  }
  check_listen PostgreSQL "$TCHAT_PG_PORT" FAIL
  check_listen Redis "$TCHAT_REDIS_PORT" FAIL
  for svc in "${TCHAT_SERVICES[@]}"; do
    check_listen "$svc" "$(tchat::service_port "$svc")" "WARN"
  done
  if [[ -r "$TCHAT_RUN_DIR/config.env" ]]; then
    if grep -q '^TCHAT_DEV_OTP=1' "$TCHAT_RUN_DIR/config.env"; then
      echo "WARN development OTP is on (sign-in codes in API answers): a development system only"
    fi
    if grep -q '^TCHAT_DEBUG_ENDPOINTS=1' "$TCHAT_RUN_DIR/config.env"; then
      echo "WARN debug endpoints are on (/debug/pprof/heap, /debug/routes)"
    fi
  fi
fi

if ((failed)); then
  echo "❌ Security audit found failures"
  exit 1
fi
echo "Security audit completed"
