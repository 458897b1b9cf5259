#!/usr/bin/env bash
# media-backup.sh — the attachments' media store (TCHAT_MEDIA_DIR, see
# services/messaging/README.md, "Attachments") into BACKUP_DIR/media_<YYYYmmdd_HHMMSS>.tar:
# the content-addressed files under objects/ (uploads in progress, under tmp/,
# are left out), then removes the media_*.tar files there older than
# BACKUP_RETENTION_DAYS (7). full-backup.sh runs it after the PostgreSQL dump:
# every media row in the dump then has its file in the archive (files are
# written before their row and never change; the sweeper removes a file only
# once no row names it, and at least 10 minutes after it was written).
#
# Usage: scripts/media-backup.sh [--local|--k8s] [BACKUP_DIR]
#   BACKUP_DIR   default /backups/media (full-backup.sh passes its own)
#   k8s          tar streamed out of a messaging pod's media gateway container
#                (kubectl exec deploy/messaging-service -c media-gateway), which
#                mounts the shared media volume read-only
#   --local      the local system's store: TCHAT_MEDIA_DIR, default
#                TCHAT_RUN_DIR/media; a store that does not exist yet (no upload
#                ever) is backed up as an empty archive
#
# The archive goes to a ".partial" file and is renamed once tar succeeded and
# the archive lists cleanly: a file named media_*.tar is always a whole one.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::backup_begin /backups/media "$@"
tchat::require tar

mkdir -p "$BACKUP_DIR"
final="$BACKUP_DIR/media_${DATE}.tar"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

echo "Creating media backup..."
if tchat::is_local; then
  dir="$(tchat::media_dir)"
  if [[ -d "$dir/objects" ]]; then
    tar -C "$dir" -cf "$partial" objects || { echo "❌ media backup failed ($dir)" >&2; exit 1; }
  else
    empty="$(mktemp -d)"
    mkdir "$empty/objects"
    tar -C "$empty" -cf "$partial" objects
    rm -rf "$empty"
    tchat::warn "no media store at $dir yet: backed up as empty"
  fi
else
  tchat::require kubectl
  # No -t: a terminal would mangle the binary stream.
  if ! tchat::kube exec deploy/messaging-service -c media-gateway -- \
    tar -C /var/lib/tchat/media -cf - objects >"$partial"; then
    echo "❌ media backup failed (kubectl exec deploy/messaging-service -n $TCHAT_NAMESPACE)" >&2
    exit 1
  fi
fi
listing="$(tar -tf "$partial")" || { echo "❌ media backup is not a complete archive" >&2; exit 1; }
files="$(grep -cv '/$' <<<"$listing" || true)"
mv "$partial" "$final"
echo "✅ Media backup completed: $(basename "$final") ($files files)"

# Clean up old backups.
find "$BACKUP_DIR" -maxdepth 1 -name "media_*.tar" -mtime "+${BACKUP_RETENTION_DAYS:-7}" -delete
