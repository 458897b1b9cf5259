#!/usr/bin/env bash
# cert-renewal.sh — the runbook's certificate renewal for api.tchat.sea.
#
# Usage: scripts/cert-renewal.sh [--local|--k8s] [--force]
#   CERT_DOMAIN         default api.tchat.sea
#   RENEW_BEFORE_DAYS   renew when the certificate expires within this many days
#                       (default 30); --force renews anyway
#
# k8s: certbot (Let's Encrypt, webroot /var/www/html) renews the certificate, the
# Secret tchat-tls is replaced with it, and the ingress controller restarts.
# --local: there is no public address for Let's Encrypt to reach, so the local
# system gets a self-signed certificate in $TCHAT_RUN_DIR/tls/live/<domain>/
# (fullchain.pem, privkey.pem; the same layout as /etc/letsencrypt/live/).
# Either way the new certificate is checked (it matches its key, it is valid
# for the domain and not about to expire) before it replaces the old one.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

force=0
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --force) force=1 ;;
    *) tchat::ops_target_flag "$1" || { usage >&2; exit 2; } ;;
  esac
  shift
done
tchat::ops_init
tchat::require openssl
DOMAIN="${CERT_DOMAIN:-api.tchat.sea}"
DAYS="${RENEW_BEFORE_DAYS:-30}"
[[ "$DAYS" =~ ^[0-9]+$ ]] || tchat::die "RENEW_BEFORE_DAYS must be a number of days"

# Fails unless certificate $1 and key $2 belong together, name $DOMAIN and stay
# valid for at least a day.
verify_pair() {
  local cert="$1" key="$2"
  [[ -s "$cert" && -s "$key" ]] || { echo "missing $cert or $key" >&2; return 1; }
  [[ "$(openssl x509 -in "$cert" -noout -pubkey | sha256sum)" == "$(openssl pkey -in "$key" -pubout | sha256sum)" ]] ||
    { echo "certificate and key do not match" >&2; return 1; }
  openssl x509 -in "$cert" -noout -checkhost "$DOMAIN" | grep -q 'does match' ||
    { echo "certificate is not valid for $DOMAIN" >&2; return 1; }
  openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null ||
    { echo "certificate expires within a day" >&2; return 1; }
}
expiry() { openssl x509 -in "$1" -noout -enddate | cut -d= -f2; }

if tchat::is_local; then
  live="$TCHAT_RUN_DIR/tls/live/$DOMAIN"
  if ((!force)) && [[ -s "$live/fullchain.pem" ]] &&
    openssl x509 -in "$live/fullchain.pem" -noout -checkend $((DAYS * 86400)) >/dev/null; then
    echo "Certificate for $DOMAIN is valid until $(expiry "$live/fullchain.pem"): not due for renewal"
    exit 0
  fi
  echo "Issuing a self-signed certificate for $DOMAIN (local system)..."
  new="$(mktemp -d "${TMPDIR:-/tmp}/tchat-cert.XXXXXX")"
  trap 'rm -rf "$new"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
    -subj "/CN=$DOMAIN" -addext "subjectAltName=DNS:$DOMAIN" \
    -keyout "$new/privkey.pem" -out "$new/fullchain.pem" 2>/dev/null ||
    tchat::die "openssl could not create the certificate"
  verify_pair "$new/fullchain.pem" "$new/privkey.pem" || tchat::die "the new certificate failed its checks"
  mkdir -p "$live"
  chmod 700 "$TCHAT_RUN_DIR/tls"
  install -m 600 "$new/privkey.pem" "$live/privkey.pem.tmp"
  install -m 644 "$new/fullchain.pem" "$live/fullchain.pem.tmp"
  mv "$live/privkey.pem.tmp" "$live/privkey.pem"
  mv "$live/fullchain.pem.tmp" "$live/fullchain.pem"
  echo "✅ Certificate renewed: $live/fullchain.pem (valid until $(expiry "$live/fullchain.pem"))"
  exit 0
fi

tchat::require certbot kubectl
live="/etc/letsencrypt/live/$DOMAIN"
# Let's Encrypt certificate renewal (certbot itself skips a certificate that is
# not due, unless forced).
certbot_args=(certonly --webroot -w /var/www/html -d "$DOMAIN" --non-interactive --keep-until-expiring)
((force)) && certbot_args+=(--force-renewal)
certbot "${certbot_args[@]}" || tchat::die "certbot failed"
verify_pair "$live/fullchain.pem" "$live/privkey.pem" || tchat::die "the certificate from certbot failed its checks; tchat-tls unchanged"

# Update Kubernetes secret
kubectl create secret tls tchat-tls \
  --cert="$live/fullchain.pem" \
  --key="$live/privkey.pem" \
  -n "$TCHAT_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -

# Restart ingress controller
kubectl rollout restart deployment nginx-ingress-controller -n ingress-nginx
echo "✅ Certificate for $DOMAIN installed in secret tchat-tls (valid until $(expiry "$live/fullchain.pem"))"
