#!/usr/bin/env bash
# full-backup.sh — the runbook's automated full backup: PostgreSQL, ScyllaDB,
# Redis, the attachments' media store (media-backup.sh, after the PostgreSQL
# dump) and the configuration into BACKUP_ROOT/<YYYYmmdd_HHMMSS>/ with a
# manifest.json, then a copy to the backup store.
#
# Usage: scripts/full-backup.sh [--local|--k8s]
#   BACKUP_ROOT   where the backup is assembled (default /backups)
#   BACKUP_STORE  s3://bucket[/prefix] (default s3://tchat-backups, `aws s3 sync`)
#                 or a directory; "none" keeps only BACKUP_ROOT/<date>
#   k8s           ScyllaDB snapshots through scylla-0, Redis through redis-0, the
#                 ConfigMaps and Secrets of namespace tchat, the images deployed
#   --local       the local system (scripts/start.sh): its PostgreSQL and Redis,
#                 ScyllaDB through this machine's nodetool/cqlsh (SCYLLA_HOSTS),
#                 its configuration and secrets (.run/*.env, the token signing
#                 keys), the service binaries
# ScyllaDB holds none of the services' data (messages live in PostgreSQL): when
# it cannot be reached (the local system has none) or has none of the keyspaces,
# the backup goes on without it and says so (a warning; manifest.json's "scylla"
# names the reason). A keyspace that exists is backed up, and a failed snapshot
# of it fails the backup.
#
# manifest.json lists every file with its SHA-256; disaster-recovery.sh refuses a
# backup whose files do not match. The backup is assembled under a hidden
# ".<date>.partial" name and renamed when complete, and the manifest is uploaded
# last, so an interrupted backup never looks like a complete one. Files are
# readable by the owner only (they hold every user's data and the secrets).
# Prints "✅ Full backup completed: <date>" and, on its last line, the date alone.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"
# shellcheck source=scripts/lib/scylla.sh
source "$TCHAT_ROOT/scripts/lib/scylla.sh"

usage() { tchat::usage_of "$0"; }

# Prints "yes" when ScyllaDB answers and has one of the keyspaces; otherwise
# prints why not and fails.
scylla_to_back_up() {
  local keyspace
  if ! tchat::scylla_reachable; then
    echo "$TCHAT_SCYLLA_PROBLEM"
    return 1
  fi
  for keyspace in "${TCHAT_SCYLLA_KEYSPACES[@]}"; do
    if tchat::scylla_keyspace_exists "$keyspace"; then
      echo yes
      return 0
    fi
  done
  echo "none of the keyspaces ${TCHAT_SCYLLA_KEYSPACES[*]} exists"
  return 1
}

tchat::ops_parse_args 0 "$@"
tchat::ops_init
tchat::require jq sha256sum
BACKUP_ROOT="${BACKUP_ROOT:-/backups}"
DATE="$(tchat::backup_date)"
BACKUP_DIR="$BACKUP_ROOT/$DATE"
WORK_DIR="$BACKUP_ROOT/.$DATE.partial"
[[ ! -e "$BACKUP_DIR" ]] || tchat::die "$BACKUP_DIR already exists"

umask 077
mkdir -p "$WORK_DIR"
# Whatever stops the script, no half-made backup is left behind.
trap 'rm -rf "$WORK_DIR"' EXIT

echo "Starting full system backup..."
scripts="$TCHAT_ROOT/scripts"

# PostgreSQL backup
"$scripts/postgres-backup.sh" "$WORK_DIR"

# ScyllaDB backup, when there is anything to back up.
scylla="$(scylla_to_back_up)" || true
if [[ "$scylla" == yes ]]; then
  "$scripts/scylla-backup.sh" "$WORK_DIR"
  scylla="backed up"
else
  tchat::warn "ScyllaDB skipped: $scylla. No service of this build stores data there."
  scylla="skipped: $scylla"
fi

# Redis backup
"$scripts/redis-backup.sh" "$WORK_DIR"

# Media backup (attachments: TCHAT_MEDIA_DIR), after the PostgreSQL dump so that
# every media row dumped has its file.
"$scripts/media-backup.sh" "$WORK_DIR"

# Configuration backup
declare -A images
if tchat::is_local; then
  mkdir -p "$WORK_DIR/config"
  for f in config.env secrets.env jwt-signing-keys.json jwks.json; do
    if [[ -f "$TCHAT_RUN_DIR/$f" ]]; then cp "$TCHAT_RUN_DIR/$f" "$WORK_DIR/config/$f"; fi
  done
  for svc in "${TCHAT_SERVICES[@]}"; do
    bin="$TCHAT_BUILD_DIR/bin/tchat-$svc"
    if [[ -f "$bin" ]]; then
      images[$svc]="tchat-$svc sha256:$(tchat::sha256 "$bin")"
    else
      images[$svc]="unknown"
    fi
  done
else
  tchat::require kubectl
  # JSON is YAML: written as JSON so that jq can drop the fields the API server
  # owns (a restore into a new cluster must not carry them) and the objects
  # Kubernetes makes by itself.
  strip='del(.items[].metadata | .resourceVersion, .uid, .creationTimestamp, .managedFields, .selfLink)'
  tchat::kube get configmaps -o json |
    jq "del(.items[] | select(.metadata.name == \"kube-root-ca.crt\")) | $strip" >"$WORK_DIR/configmaps.yaml"
  tchat::kube get secrets -o json |
    jq "del(.items[] | select(.type == \"kubernetes.io/service-account-token\")) | $strip" >"$WORK_DIR/secrets.yaml"
  for svc in "${TCHAT_SERVICES[@]}"; do
    images[$svc]="$(tchat::kube get deployment "$svc-service" -o jsonpath='{.spec.template.spec.containers[0].image}')"
  done
fi

# Create backup manifest: what was saved, from which version, and every file's
# checksum.
version="$(git -C "$TCHAT_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
files_json="$(
  cd "$WORK_DIR"
  find . -type f ! -name manifest.json | sed 's|^\./||' | sort | while read -r f; do
    jq -n --arg f "$f" --arg sha "$(tchat::sha256 "$f")" --argjson bytes "$(stat -c %s "$f")" \
      '{($f): {sha256: $sha, bytes: $bytes}}'
  done | jq -s 'add // {}'
)"
jq -n \
  --arg timestamp "$(date -Iseconds)" --arg version "$version" --arg target "$TCHAT_TARGET" \
  --arg auth "${images[auth]}" --arg messaging "${images[messaging]}" \
  --arg payment "${images[payment]}" --arg notification "${images[notification]}" \
  --arg scylla "$scylla" --arg media "backed up" --argjson files "$files_json" \
  --argjson databases "$(tchat::backup_databases | jq -R . | jq -s .)" \
  '{timestamp: $timestamp, version: $version, target: $target,
    services: {auth: $auth, messaging: $messaging, payment: $payment, notification: $notification},
    databases: $databases, scylla: $scylla, media: $media, files: $files}' >"$WORK_DIR/manifest.json"

mv "$WORK_DIR" "$BACKUP_DIR"
trap - EXIT

# Upload to S3 or backup storage (data first, the manifest last).
if [[ "$BACKUP_STORE" == none ]]; then
  :
elif tchat::store_is_s3; then
  tchat::require aws
  aws s3 sync "$BACKUP_DIR" "${BACKUP_STORE%/}/$DATE/" --exclude manifest.json
  aws s3 cp "$BACKUP_DIR/manifest.json" "${BACKUP_STORE%/}/$DATE/manifest.json"
elif [[ "$(realpath -m "$BACKUP_STORE")" != "$(realpath -m "$BACKUP_ROOT")" ]]; then
  mkdir -p "$BACKUP_STORE"
  tmp="$BACKUP_STORE/.$DATE.partial"
  trap 'rm -rf "$tmp"' EXIT
  cp -a "$BACKUP_DIR" "$tmp"
  mv "$tmp" "$BACKUP_STORE/$DATE"
  trap - EXIT
fi

echo "✅ Full backup completed: $DATE"
echo "$DATE"
