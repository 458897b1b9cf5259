#!/usr/bin/env bash
# restore-media.sh — replaces the attachments' media store (TCHAT_MEDIA_DIR) with
# the newest media_<date>.tar in BACKUP_DIR (as written by media-backup.sh). The
# archive is checked (tar lists it) before the store is touched; it is unpacked
# beside the store and swapped in, so a failure leaves the old files in place.
#
# Usage: scripts/restore-media.sh [--local|--k8s] BACKUP_DIR
#   k8s      streamed into a messaging pod's service container (kubectl exec
#            deploy/messaging-service -c messaging-service), which mounts the
#            shared media volume read-write; run it while the service is scaled
#            down or with disaster-recovery.sh, which restarts it afterwards
#   --local  the local system's store (TCHAT_MEDIA_DIR, default
#            TCHAT_RUN_DIR/media); stop the services first (disaster-recovery.sh
#            does)
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/ops.sh
source "$TCHAT_ROOT/scripts/lib/ops.sh"

usage() { tchat::usage_of "$0"; }

tchat::restore_begin "$@"
tchat::require tar

archive="$(tchat::newest "$BACKUP_DIR" "media_*.tar")" || tchat::die "no media backup (media_*.tar) in $BACKUP_DIR"
tar -tf "$archive" >/dev/null 2>&1 || tchat::die "$archive is damaged or incomplete; nothing restored"
[[ "$(tar -tf "$archive" | grep -v '^objects/' || true)" == "" ]] ||
  tchat::die "$archive holds files outside objects/; nothing restored"
echo "Restoring media from $(basename "$archive")..."

# The swap, run where the store is (here, or in the pod): unpack into
# .objects.restore, move objects aside, move the restored tree in, drop the old.
# shellcheck disable=SC2016
swap='set -e; cd "$1"; rm -rf .objects.restore .objects.old; mkdir .objects.restore
tar -C .objects.restore -xf - --strip-components=1 --no-same-owner
if [ -d objects ]; then mv objects .objects.old; fi
mv .objects.restore objects; rm -rf .objects.old; mkdir -p tmp'

if tchat::is_local; then
  dir="$(tchat::media_dir)"
  mkdir -p "$dir"
  sh -c "$swap" restore-media "$dir" <"$archive" || tchat::die "media restore into $dir failed"
else
  tchat::require kubectl
  tchat::kube exec -i deploy/messaging-service -c messaging-service -- \
    sh -c "$swap" restore-media /var/lib/tchat/media <"$archive" ||
    tchat::die "media restore (kubectl exec deploy/messaging-service -n $TCHAT_NAMESPACE) failed"
fi
echo "✅ Media restored: $(tar -tf "$archive" | grep -cv '/$' || true) files"
