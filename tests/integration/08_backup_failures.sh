#!/usr/bin/env bash
# The backup and restore scripts fail loudly and never leave, or use, a partial
# file that looks complete: unreachable PostgreSQL/Redis, a dump or snapshot cut
# short, a damaged or incomplete dump handed to a restore, a restore that fails
# half-way, a tampered backup handed to disaster-recovery.sh, ScyllaDB absent
# (the ScyllaDB scripts fail; a full backup skips ScyllaDB with a warning).
# Uses the test stack's PostgreSQL (a scratch database only) and Redis.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else; some
# functions are called through tchat::wait_until and traps.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S="$ROOT/scripts"
work="$(mktemp -d /tmp/tchat-backup-failures.XXXXXX)"
chmod 755 "$work"
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$TCHAT_PG_PORT" POSTGRES_USER=postgres
scratch=tchat_ops_scratch
psql_scratch() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TCHAT_PG_PORT" -U postgres "$@"; }
cleanup() {
  psql_scratch -d postgres -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" 2>/dev/null || true
  psql_scratch -d postgres -c "DROP DATABASE IF EXISTS ${scratch}__restore WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# run NAME CMD...: runs a command, keeps its output in $out and status in $rc.
run() {
  rc=0
  out="$("$@" 2>&1)" || rc=$?
}
# No file under directory $1 (which may not exist).
no_files() { [[ -z "$(find "$1" -type f 2>/dev/null)" ]]; }
# Directories $@ are empty: no file, no directory, hidden or not.
nothing_in() { [[ -z "$(find "$@" -mindepth 1 2>/dev/null)" ]]; }

# --- Unreachable servers.
run env POSTGRES_PORT=1 "$S/postgres-backup.sh" --local "$work/pg-down"
if [[ $rc != 0 ]] && grep -q '❌ Backup failed for tchat_auth' <<<"$out" && no_files "$work/pg-down"; then
  pass "postgres-backup.sh: unreachable PostgreSQL → exit $rc, message, no file"
else
  fail "postgres-backup.sh with PostgreSQL down: rc=$rc files=$(find "$work/pg-down" -type f) out=$out"
fi

run env REDIS_URL=redis://127.0.0.1:1/0 "$S/redis-backup.sh" --local "$work/redis-down"
if [[ $rc != 0 ]] && grep -q '❌ Redis backup failed' <<<"$out" && no_files "$work/redis-down"; then
  pass "redis-backup.sh: unreachable Redis → exit $rc, message, no file"
else
  fail "redis-backup.sh with Redis down: rc=$rc out=$out"
fi

# A full backup that fails half-way leaves nothing that looks like a backup.
mkdir -p "$work/root" "$work/store"
run env POSTGRES_PORT=1 BACKUP_ROOT="$work/root" BACKUP_STORE="$work/store" "$S/full-backup.sh" --local
if [[ $rc != 0 ]] && nothing_in "$work/root" "$work/store"; then
  pass "full-backup.sh: PostgreSQL down → exit $rc, nothing left in the backup root or store"
else
  fail "full-backup.sh with PostgreSQL down: rc=$rc left: $(find "$work/root" "$work/store" -mindepth 1)"
fi
run env REDIS_URL=redis://127.0.0.1:1/0 BACKUP_ROOT="$work/root" BACKUP_STORE="$work/store" \
  POSTGRES_DATABASES=postgres "$S/full-backup.sh" --local
if [[ $rc != 0 ]] && nothing_in "$work/root" "$work/store"; then
  pass "full-backup.sh: Redis down after the dumps → exit $rc, the dumps made so far are removed"
else
  fail "full-backup.sh with Redis down: rc=$rc left: $(find "$work/root" "$work/store" -mindepth 1)"
fi

# --- Tools that stop half-way (stand-ins first on PATH).
fake="$work/fake-bin"
mkdir -p "$fake"
cat >"$fake/pg_dump" <<'SH'
#!/bin/sh
# Starts a dump, then dies (as pg_dump does when the connection drops).
echo "-- PostgreSQL database dump"
echo "CREATE TABLE half (id int);"
exit 1
SH
cp "$fake/pg_dump" "$fake/pg_dump_exit0"
sed -i 's/^exit 1$/exit 0/' "$fake/pg_dump_exit0"
chmod +x "$fake"/*
run env PATH="$fake:$PATH" "$S/postgres-backup.sh" --local "$work/pg-cut"
if [[ $rc != 0 ]] && no_files "$work/pg-cut"; then
  pass "pg_dump failing mid-dump → exit $rc, no file"
else
  fail "pg_dump failing mid-dump: rc=$rc files: $(find "$work/pg-cut" -type f)"
fi
mkdir -p "$fake/exit0"
cp "$fake/pg_dump_exit0" "$fake/exit0/pg_dump"
run env PATH="$fake/exit0:$PATH" "$S/postgres-backup.sh" --local "$work/pg-short"
if [[ $rc != 0 ]] && no_files "$work/pg-short"; then
  pass "a dump without pg_dump's completion line is not kept, even when pg_dump says success"
else
  fail "short dump with exit 0: rc=$rc files: $(find "$work/pg-short" -type f)"
fi

mkdir -p "$fake/redis"
cat >"$fake/redis/redis-cli" <<'SH'
#!/bin/sh
# Writes the start of an RDB file and claims success.
for a; do last="$a"; done
printf 'REDIS0010\372\tredis-ver' >"$last"
exit 0
SH
chmod +x "$fake/redis/redis-cli"
run env PATH="$fake/redis:$PATH" "$S/redis-backup.sh" --local "$work/redis-cut"
if [[ $rc != 0 ]] && no_files "$work/redis-cut"; then
  pass "a truncated RDB is not kept (redis-check-rdb), even when redis-cli says success"
else
  fail "truncated RDB: rc=$rc files: $(find "$work/redis-cut" -type f) out=$out"
fi

# --- Restores refuse damaged input and leave the live database alone.
psql_scratch -d postgres -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" 2>/dev/null
psql_scratch -d postgres -c "CREATE DATABASE $scratch"
psql_scratch -d "$scratch" -c "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'original')"
run env POSTGRES_DATABASES="$scratch" "$S/postgres-backup.sh" --local "$work/good"
good="$(find "$work/good" -name "${scratch}_*.sql.gz")"
[[ $rc == 0 && -n "$good" ]] && pass "backup of a scratch database" || fail "scratch backup: rc=$rc $out"
psql_scratch -d "$scratch" -c "UPDATE t SET v = 'changed'"

# A newer, truncated dump is found first and must be refused.
mkdir -p "$work/damaged"
gzip -dc "$good" | head -n 20 | gzip >"$work/damaged/${scratch}_99991231_235959.sql.gz"
run env POSTGRES_DATABASES="$scratch" "$S/restore-postgres.sh" --local "$work/damaged"
v="$(psql_scratch -d "$scratch" -c "SELECT v FROM t")"
if [[ $rc != 0 ]] && grep -q 'damaged or incomplete' <<<"$out" && [[ "$v" == changed ]]; then
  pass "restore-postgres.sh refuses a truncated dump; the live database is untouched"
else
  fail "truncated dump restore: rc=$rc v=$v out=$out"
fi

# A complete-looking dump whose SQL fails half-way: rolled back, live data kept.
mkdir -p "$work/bad-sql"
{
  gzip -dc "$good" | sed '/^-- PostgreSQL database dump complete/d'
  echo "INSERT INTO no_such_table VALUES (1);"
  echo "-- PostgreSQL database dump complete"
} | gzip >"$work/bad-sql/${scratch}_20000101_000000.sql.gz"
run env POSTGRES_DATABASES="$scratch" "$S/restore-postgres.sh" --local "$work/bad-sql"
v="$(psql_scratch -d "$scratch" -c "SELECT v FROM t")"
left="$(psql_scratch -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '${scratch}__restore'")"
if [[ $rc != 0 ]] && grep -q '❌ Restore failed' <<<"$out" && [[ "$v" == changed && "$left" == 0 ]]; then
  pass "a restore failing half-way leaves the live database as it was and no scratch database"
else
  fail "failing restore: rc=$rc v=$v scratch-left=$left out=$out"
fi

run env POSTGRES_DATABASES="$scratch" "$S/restore-postgres.sh" --local "$work/good"
v="$(psql_scratch -d "$scratch" -c "SELECT v FROM t")"
[[ $rc == 0 && "$v" == original ]] && pass "restore-postgres.sh of the good dump brings the row back" ||
  fail "good restore: rc=$rc v=$v out=$out"

# --- disaster-recovery.sh only uses a verified backup. It is pointed at a run dir
# and ports of its own, so that even a bug could not touch the test stack.
iso=(env TCHAT_RUN_DIR="$work/iso-run" TCHAT_PG_PORT=1 TCHAT_REDIS_PORT=1 BACKUP_STORE="$work/dr-store"
  RECOVERY_DIR="$work/recovery")
mkdir -p "$work/dr-store/20240101_000000"
cp "$good" "$work/dr-store/20240101_000000/"
run "${iso[@]}" "$S/disaster-recovery.sh" --local 20240101_000000
if [[ $rc != 0 ]] && grep -q 'no manifest.json' <<<"$out"; then
  pass "disaster-recovery.sh refuses a backup without manifest.json"
else
  fail "backup without manifest: rc=$rc out=$out"
fi
f="$(basename "$good")"
jq -n --arg f "$f" --arg sha "$(sha256sum "$good" | cut -d' ' -f1)" \
  '{files: {($f): {sha256: $sha}}, scylla: "not configured"}' >"$work/dr-store/20240101_000000/manifest.json"
printf 'tampered' | gzip >>"$work/dr-store/20240101_000000/$f"
run "${iso[@]}" "$S/disaster-recovery.sh" --local 20240101_000000
if [[ $rc != 0 ]] && grep -q "checksum mismatch: $f" <<<"$out"; then
  pass "disaster-recovery.sh refuses a backup whose file does not match its checksum"
else
  fail "tampered backup: rc=$rc out=$out"
fi
run "${iso[@]}" "$S/disaster-recovery.sh" --local
if [[ $rc == 1 ]] && grep -q '^Usage:' <<<"$out" && grep -qx '20240101_000000' <<<"$out"; then
  pass "disaster-recovery.sh without a date: usage and the list of backups, exit 1"
else
  fail "disaster-recovery.sh without a date: rc=$rc out=$out"
fi

# --- ScyllaDB is not installed here: the scripts must say so and fail.
for s in scylla-backup.sh scylla-repair.sh; do
  run "$S/$s" --local
  if [[ $rc != 0 ]] && grep -qi 'scylla' <<<"$out"; then
    pass "$s without ScyllaDB → exit $rc: $(tail -n1 <<<"$out")"
  else
    fail "$s without ScyllaDB: rc=$rc out=$out"
  fi
done
if command -v nodetool >/dev/null; then
  echo "    (nodetool is installed here: the ScyllaDB-absent checks above ran against it)"
fi

# --- full-backup.sh: ScyllaDB holds none of the services' data, so a ScyllaDB that
# cannot be reached, or has none of the keyspaces, is skipped with a warning and
# the backup completes; a keyspace that exists and cannot be snapshotted fails it.
# full_backup_ok NAME: the last run made a complete backup (in the root and the
# store) whose manifest says ScyllaDB was skipped.
full_backup_ok() {
  local date manifest
  date="$(tail -n1 <<<"$out")"
  manifest="$work/store/$date/manifest.json"
  if [[ $rc == 0 && -d "$work/root/$date" && -f "$manifest" ]] &&
    grep -q '^warning: ScyllaDB skipped: .*No service of this build stores data there' <<<"$out" &&
    [[ "$(jq -r .scylla "$manifest")" == "skipped: "* ]] &&
    [[ "$(jq -r '.files | keys[]' "$manifest" | grep -c '^redis_.*\.rdb$\|^tchat_ops_scratch_.*\.sql\.gz$')" == 2 ]]; then
    pass "$1 → ScyllaDB skipped with a warning, backup $date complete ($(jq -r .scylla "$manifest"))"
  else
    fail "$1: rc=$rc out=$out"
  fi
}
run env SCYLLA_HOSTS=127.0.0.1:1 POSTGRES_DATABASES="$scratch" BACKUP_ROOT="$work/root" \
  BACKUP_STORE="$work/store" "$S/full-backup.sh" --local
full_backup_ok "full-backup.sh --local with SCYLLA_HOSTS set and no ScyllaDB"

# The Kubernetes path, against a stand-in kubectl: scylla-0 answers CQL but has
# no keyspace (or, with FAKE_KEYSPACE set, has that one and fails to snapshot);
# redis-0 is the test stack's Redis; PostgreSQL is reached directly; the
# messaging pod's media volume is a directory here (FAKE_MEDIA_FAIL: tar fails).
mkdir -p "$fake/k8s" "$fake/media/objects/ab"
echo photo >"$fake/media/objects/ab/abcdef"
cat >"$fake/k8s/kubectl" <<SH
#!/bin/bash
# kubectl -n tchat VERB ...
shift 2
case "\$*" in
  "get pod scylla-0") echo "scylla-0 1/1 Running" ;;
  *"cqlsh -e SELECT release_version FROM system.local") echo "5.4.0" ;;
  *"cqlsh -e DESCRIBE KEYSPACE "*)
    [[ -n "\${FAKE_KEYSPACE:-}" && "\$*" == *" \$FAKE_KEYSPACE" ]] && exit 0
    echo "'\${*: -1}' not found in keyspaces" >&2; exit 2 ;;
  *"nodetool snapshot"*) echo "nodetool: snapshot failed" >&2; exit 1 ;;
  "exec redis-0 -- redis-cli --rdb -") exec redis-cli -p $TCHAT_REDIS_PORT --rdb - 2>/dev/null ;;
  "exec deploy/messaging-service -c media-gateway -- tar -C /var/lib/tchat/media -cf - objects")
    [[ -z "\${FAKE_MEDIA_FAIL:-}" ]] || { echo "tar: objects: Permission denied" >&2; exit 1; }
    exec tar -C "$fake/media" -cf - objects ;;
  "get configmaps -o json" | "get secrets -o json") echo '{"items": []}' ;;
  "get deployment "*) echo "tchat/\${3%-service}:drill" ;;
  *) echo "fake kubectl: unexpected: \$*" >&2; exit 1 ;;
esac
SH
chmod +x "$fake/k8s/kubectl"
k8s=(env PATH="$fake/k8s:$PATH" POSTGRES_DATABASES="$scratch" BACKUP_ROOT="$work/root"
  BACKUP_STORE="$work/store")
rm -rf "${work:?}/root" "$work/store"
mkdir -p "$work/root" "$work/store"
run "${k8s[@]}" "$S/full-backup.sh" --k8s
full_backup_ok "full-backup.sh on a cluster whose ScyllaDB has none of the keyspaces"
date="$(tail -n1 <<<"$out")"
media_tar="$(find "$work/store/$date" -name 'media_*.tar')"
if [[ -n "$media_tar" && "$(tar -tf "$media_tar" | grep -v '/$')" == objects/ab/abcdef ]]; then
  pass "full-backup.sh --k8s: the media volume is in the backup ($(basename "$media_tar"))"
else
  fail "full-backup.sh --k8s: media archive '$media_tar'"
fi
rm -rf "${work:?}/root" "$work/store"
mkdir -p "$work/root" "$work/store"
run "${k8s[@]}" FAKE_MEDIA_FAIL=1 "$S/full-backup.sh" --k8s
if [[ $rc != 0 ]] && grep -q '❌ media backup failed' <<<"$out" && nothing_in "$work/root" "$work/store"; then
  pass "full-backup.sh: a media store that cannot be read fails the backup, nothing left"
else
  fail "full-backup.sh with an unreadable media store: rc=$rc left: $(find "$work/root" "$work/store" -mindepth 1) out=$out"
fi
rm -rf "${work:?}/root" "$work/store"
mkdir -p "$work/root" "$work/store"
run "${k8s[@]}" FAKE_KEYSPACE=tchat_messaging "$S/full-backup.sh" --k8s
if [[ $rc != 0 ]] && grep -q 'nodetool snapshot failed for tchat_messaging' <<<"$out" &&
  nothing_in "$work/root" "$work/store"; then
  pass "full-backup.sh: a keyspace that exists and cannot be snapshotted fails the backup, nothing left"
else
  fail "full-backup.sh with a failing ScyllaDB snapshot: rc=$rc left: $(find "$work/root" "$work/store" -mindepth 1) out=$out"
fi
finish
