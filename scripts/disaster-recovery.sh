#!/usr/bin/env bash
# disaster-recovery.sh — the runbook's disaster recovery: fetches the full backup
# <backup_date> from the backup store, checks it against its manifest, restores
# PostgreSQL, ScyllaDB (when the backup has it), Redis and the attachments' media
# store (restore-media.sh, when the backup has it), restores the configuration,
# and brings the services back on the versions the backup names.
#
# Usage: scripts/disaster-recovery.sh [--local|--k8s] <backup_date>
#   Without <backup_date>: usage and the list of available backups, exit 1.
#   BACKUP_STORE  s3://bucket (default s3://tchat-backups) or a directory
#   RECOVERY_DIR  where the backup is fetched to (default /tmp/recovery/<date>;
#                 emptied first)
#   k8s           kubectl apply of the saved ConfigMaps and Secrets, `kubectl set
#                 image` to the saved images, rollout restart, rollout status
#   --local       the local system (scripts/start.sh): its PostgreSQL and Redis are
#                 started when down, the services are stopped during the restore,
#                 the saved secrets are put back (and config.env when the run
#                 directory lost it), and the services are started again and
#                 checked (health-check.sh). The
#                 binaries are those of TCHAT_BUILD_DIR (build/); a difference
#                 from the backed-up ones is reported.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { echo "Usage: $0 [--local|--k8s] <backup_date>"; }

BACKUP_DATE=""
while (($#)); do
  case "$1" in
    -h | --help) usage; sed -n '9,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) tchat::ops_target_flag "$1" || { usage >&2; exit 2; } ;;
    *)
      [[ -z "$BACKUP_DATE" ]] || { usage >&2; exit 2; }
      BACKUP_DATE="$1"
      ;;
  esac
  shift
done
tchat::ops_init
tchat::require jq sha256sum

if [[ -z "$BACKUP_DATE" ]]; then
  usage
  echo "Available backups:"
  if tchat::store_is_s3; then
    aws s3 ls "${BACKUP_STORE%/}/" | grep "PRE" || true
  elif [[ -d "$BACKUP_STORE" ]]; then
    find "$BACKUP_STORE" -mindepth 2 -maxdepth 2 -name manifest.json -printf '%h\n' |
      xargs -r -n1 basename | sort
  fi
  exit 1
fi
[[ "$BACKUP_DATE" =~ ^[0-9]{8}_[0-9]{6}$ ]] || tchat::die "backup date must look like 20240131_235959, not '$BACKUP_DATE'"

echo "Starting disaster recovery from backup: $BACKUP_DATE"
RECOVERY_DIR="${RECOVERY_DIR:-/tmp/recovery/$BACKUP_DATE}"
rm -rf "$RECOVERY_DIR"
mkdir -p "$RECOVERY_DIR"
chmod 700 "$RECOVERY_DIR"

# Download backup
if tchat::store_is_s3; then
  tchat::require aws
  aws s3 sync "${BACKUP_STORE%/}/$BACKUP_DATE/" "$RECOVERY_DIR/"
else
  [[ -d "$BACKUP_STORE/$BACKUP_DATE" ]] || tchat::die "no backup $BACKUP_DATE in $BACKUP_STORE"
  cp -a "$BACKUP_STORE/$BACKUP_DATE/." "$RECOVERY_DIR/"
fi

# Verify it: a backup is used only when every file the manifest lists is there
# with its checksum.
MANIFEST="$RECOVERY_DIR/manifest.json"
[[ -s "$MANIFEST" ]] || tchat::die "backup $BACKUP_DATE has no manifest.json: incomplete, not used"
jq -e '.files | type == "object" and length > 0' "$MANIFEST" >/dev/null ||
  tchat::die "manifest.json of $BACKUP_DATE lists no files"
while IFS=$'\t' read -r file sha; do
  [[ -f "$RECOVERY_DIR/$file" ]] || tchat::die "backup file missing: $file"
  [[ "$(tchat::sha256 "$RECOVERY_DIR/$file")" == "$sha" ]] || tchat::die "checksum mismatch: $file"
done < <(jq -r '.files | to_entries[] | [.key, .value.sha256] | @tsv' "$MANIFEST")
echo "✅ Backup verified ($(jq '.files | length' "$MANIFEST") files)"

scripts="$TCHAT_ROOT/scripts"
if tchat::is_local; then
  # shellcheck source=scripts/lib/postgres.sh
  source "$TCHAT_ROOT/scripts/lib/postgres.sh"
  # shellcheck source=scripts/lib/redis.sh
  source "$TCHAT_ROOT/scripts/lib/redis.sh"
  # shellcheck source=scripts/lib/services.sh
  source "$TCHAT_ROOT/scripts/lib/services.sh"
  tchat::lock_run_dir 120
  # Nothing may write while the data is replaced.
  tchat::services_stop_all || true
  tchat::pg_start
fi

# Restore databases
"$scripts/restore-postgres.sh" "$RECOVERY_DIR/"
if [[ "$(jq -r '.scylla // "not configured"' "$MANIFEST")" == "backed up" ]]; then
  "$scripts/restore-scylla.sh" "$RECOVERY_DIR/"
else
  echo "ScyllaDB was not part of this backup: nothing to restore"
fi
"$scripts/restore-redis.sh" "$RECOVERY_DIR/"
if [[ "$(jq -r '.media // "not configured"' "$MANIFEST")" == "backed up" ]]; then
  "$scripts/restore-media.sh" "$RECOVERY_DIR/"
else
  echo "The media store was not part of this backup: nothing to restore"
fi

# Restore configurations and deploy services with backed up versions
if tchat::is_local; then
  # The secrets and signing keys come back, so that issued tokens stay valid.
  for f in secrets.env jwt-signing-keys.json jwks.json; do
    if [[ -f "$RECOVERY_DIR/config/$f" ]]; then
      install -m 600 "$RECOVERY_DIR/config/$f" "$TCHAT_RUN_DIR/$f"
    fi
  done
  # The services' settings: a config.env that survived is kept; one lost with
  # the run directory comes back from the backup. Either way the environment of
  # this script overrides it, as for start.sh.
  if [[ ! -f "$(tchat::config_file)" && -f "$RECOVERY_DIR/config/config.env" ]]; then
    install -m 644 "$RECOVERY_DIR/config/config.env" "$(tchat::config_file)"
  fi
  tchat::ensure_secrets
  # A backup from an older version is brought to the schema of these binaries.
  tchat::pg_setup_databases
  for svc in "${TCHAT_SERVICES[@]}"; do
    want="$(jq -r ".services.$svc" "$MANIFEST")"
    bin="$(tchat::service_bin "$svc")"
    [[ -x "$bin" ]] || tchat::die "$bin not found: build first (scripts/build.sh)"
    have="tchat-$svc sha256:$(tchat::sha256 "$bin")"
    if [[ "$want" != "$have" ]]; then
      tchat::warn "$svc: the backup was taken with a different binary ($want); starting $bin"
    fi
  done
  tchat::write_service_config
  tchat::services_start_all || tchat::die "the services did not become ready after the restore"
  TCHAT_SERVICE_PORTS="auth:$TCHAT_AUTH_PORT messaging:$TCHAT_MESSAGING_PORT payment:$TCHAT_PAYMENT_PORT notification:$TCHAT_NOTIFICATION_PORT" \
    BASE_URL=http://127.0.0.1 "$scripts/health-check.sh" || tchat::die "health check failed after the restore"
else
  tchat::require kubectl
  tchat::kube apply -f "$RECOVERY_DIR/configmaps.yaml"
  tchat::kube apply -f "$RECOVERY_DIR/secrets.yaml"
  for svc in "${TCHAT_SERVICES[@]}"; do
    IMAGE="$(jq -r ".services.$svc" "$MANIFEST")"
    tchat::kube set image "deployment/${svc}-service" "${svc}-service=$IMAGE"
    # New pods: fresh connection pools against the restored databases.
    tchat::kube rollout restart "deployment/${svc}-service"
  done
  # Wait for all deployments
  tchat::kube rollout status deployment --timeout=600s
fi

echo "✅ Disaster recovery completed"
