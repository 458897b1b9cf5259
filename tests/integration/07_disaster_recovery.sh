#!/usr/bin/env bash
# The runbook's disaster-recovery drill, automated, on a private copy of the local
# system: users, conversations, messages, top-ups, transfers, devices and
# notifications are created through the API; scripts/full-backup.sh --local
# saves everything to a directory store; PostgreSQL's cluster and Redis's data are
# deleted, and so is the media store with a photo sent in a chat;
# scripts/disaster-recovery.sh --local brings them back. Then every table
# (row count and checksum) and every Redis key must be as before, the ledger
# verification must pass, the photo's files must be back byte for byte and served
# again, the services must be healthy, tokens issued before the disaster must
# still work, and the system must go on where it stopped.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else; some
# functions are called through tchat::wait_until and traps.
# shellcheck disable=SC2015,SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/ops_stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/ops_stack.sh"

trap ops_stack_stop EXIT
ops_stack_start dr-drill || exit 1
pass "private stack started (run dir $TCHAT_RUN_DIR)"
work="$TCHAT_RUN_DIR/drill"
mkdir -p "$work"

# --- Data, through the API as clients would make it.
declare -a token user
phones=(+66812340001 +66812340002 +66812340003)
for i in 0 1 2; do
  r="$(signin "${phones[$i]}")"
  token[i]="$(jq -r .access_token <<<"$r")"
  user[i]="$(jq -r .user.id <<<"$r")"
done
if [[ "${user[*]}" != *null* && -n "${user[2]}" ]]; then pass "3 users signed in"; else fail "sign-in failed"; fi

[[ "$(topup "${token[0]}" 1000000 THB)" == 200 ]] && pass "THB top-up settled" || fail "THB top-up"
[[ "$(topup "${token[2]}" 50000 SGD)" == 200 ]] && pass "SGD top-up settled" || fail "SGD top-up"

direct="$(body_of "$(api POST messaging /v1/conversations "${token[0]}" \
  "{\"type\":\"direct\",\"member_ids\":[\"${user[1]}\"]}")" | jq -r .id)"
group="$(body_of "$(api POST messaging /v1/conversations "${token[0]}" \
  "{\"type\":\"group\",\"title\":\"drill\",\"member_ids\":[\"${user[1]}\",\"${user[2]}\"]}")" | jq -r .id)"
sent=0
for n in 1 2 3 4 5; do
  for conv in "$direct" "$group"; do
    code="$(status_of "$(api POST messaging "/v1/conversations/$conv/messages" "${token[0]}" \
      "{\"client_msg_id\":\"drill-$conv-$n\",\"type\":\"text\",\"body\":\"message $n สวัสดี\"}")")"
    [[ "$code" == 201 ]] && sent=$((sent + 1))
  done
done
[[ "$sent" == 10 ]] && pass "10 messages in 2 conversations" || fail "only $sent of 10 messages sent"

t1="$(status_of "$(api POST payment /v1/transfers "${token[0]}" \
  "{\"to_user_id\":\"${user[1]}\",\"amount\":25000,\"currency\":\"THB\",\"note\":\"lunch\",\"conversation_id\":\"$direct\"}" \
  -H "Idempotency-Key: drill-1")")"
t2="$(status_of "$(api POST payment /v1/transfers "${token[2]}" \
  "{\"to_user_id\":\"${user[0]}\",\"amount\":1234,\"currency\":\"SGD\"}" -H "Idempotency-Key: drill-2")")"
[[ "$t1" == 201 && "$t2" == 201 ]] && pass "2 transfers" || fail "transfers answered $t1, $t2"
code="$(status_of "$(api POST notification /v1/devices "${token[1]}" '{"platform":"android","token":"drill-device-token"}')")"
[[ "$code" == 201 ]] && pass "device registered" || fail "device registration answered $code"

# Notifications arrive through the event streams.
has_notifications() {
  (($(body_of "$(api GET notification /v1/notifications "${token[1]}")" | jq '.notifications | length') > 0))
}
if tchat::wait_until 15 has_notifications; then pass "notifications delivered"; else fail "no notification for user 2"; fi

# A photo (made here) sent in the direct chat: the media store must come back too.
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=640x480" -frames:v 1 -q:v 3 "$work/photo.jpg"
media="$(body_of "$(api POST messaging /v1/media "${token[0]}" "" --data-binary "@$work/photo.jpg")")"
media_id="$(jq -r .id <<<"$media")"
media_sha="$(jq -r .sha256 <<<"$media")"
code="$(status_of "$(api POST messaging "/v1/conversations/$direct/messages" "${token[0]}" \
  "{\"client_msg_id\":\"drill-photo\",\"type\":\"image\",\"attachment_id\":\"$media_id\"}")")"
media_store="$(tchat::media_dir)"
# Every file of the store (original, thumbnail, display size) with its checksum.
media_files() { (cd "$media_store/objects" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
media_before="$(media_files)"
if [[ "$code" == 201 && "$(sha256sum <"$media_store/objects/${media_sha:0:2}/$media_sha" | cut -d' ' -f1)" == "$media_sha" &&
  "$(wc -l <<<"$media_before")" == 3 ]]; then
  pass "a photo sent in the chat: 3 files in the media store (original, thumbnail, display)"
else
  fail "photo message answered $code; media store: $media_before"
fi

before="$(quiet_fingerprint)" || { fail "the data did not settle"; finish; }
wallet_before="$(body_of "$(api GET payment /v1/wallets "${token[1]}")" | jq -c '[.wallets[] | {currency, balance}]')"
last_seq="$(body_of "$(api GET messaging "/v1/conversations/$direct/messages?limit=200" "${token[0]}")" | jq '[.messages[].seq] | max')"
tables="$(grep -c '^pg ' <<<"$before")"
keys="$(grep -c '^redis ' <<<"$before")"
rows="$(grep -o 'rows=[0-9]*' <<<"$before" | cut -d= -f2 | paste -sd+ | bc)"
echo "    before: $tables tables, $rows rows, $keys Redis keys"
((rows > 100 && keys >= 3)) && pass "data to protect: $rows rows, $keys keys" || fail "too little data: $rows rows, $keys keys"

# --- Backup.
export BACKUP_ROOT="$work/backups" BACKUP_STORE="$work/store"
rc=0
out="$("$ROOT/scripts/full-backup.sh" --local 2>&1)" || rc=$?
indent <<<"$out"
date="$(tail -n1 <<<"$out")"
if [[ $rc == 0 && -s "$BACKUP_STORE/$date/manifest.json" ]]; then
  pass "full-backup.sh --local → $BACKUP_STORE/$date"
else
  fail "full-backup.sh exited $rc"
  finish
fi
manifest="$BACKUP_STORE/$date/manifest.json"
if jq -e '.files | keys | (map(select(endswith(".sql.gz"))) | length == 4) and
    (map(select(endswith(".rdb"))) | length == 1) and (index("config/secrets.env") != null)' "$manifest" >/dev/null &&
  jq -e '.services | keys == ["auth","messaging","notification","payment"]' "$manifest" >/dev/null &&
  jq -e '.media == "backed up" and (.files | keys | map(select(test("^media_[0-9_]+[.]tar$"))) | length == 1)' \
    "$manifest" >/dev/null; then
  pass "manifest.json lists 4 dumps, the RDB, the media archive, the secrets and the 4 services"
else
  fail "manifest.json: $(jq -c '{services, files: (.files | keys)}' "$manifest")"
fi
if [[ -z "$(find "$BACKUP_ROOT" "$BACKUP_STORE" -name '*.partial')" ]]; then
  pass "no partial files left"
else
  fail "partial files left: $(find "$BACKUP_ROOT" "$BACKUP_STORE" -name '*.partial')"
fi

# --- The disaster: PostgreSQL's whole cluster and Redis's data are lost.
tchat::pg_stop >/dev/null 2>&1
tchat::pg_destroy
tchat::redis_stop >/dev/null 2>&1
rm -rf "$(tchat::redis_dir)"
rm -rf "$media_store"
if [[ "$(http_status "$(svc_url payment)/health/ready")" != 200 ]]; then
  pass "services not ready without their databases"
else
  fail "payment still ready after the disaster"
fi

# --- Recovery.
rc=0
out="$(RECOVERY_DIR="$work/recovery" "$ROOT/scripts/disaster-recovery.sh" --local "$date" 2>&1)" || rc=$?
indent <<<"$out"
if [[ $rc == 0 && "$(tail -n1 <<<"$out")" == "✅ Disaster recovery completed" ]]; then
  pass "disaster-recovery.sh --local $date"
else
  fail "disaster-recovery.sh exited $rc"
  finish
fi

after="$(fingerprint)"
if [[ "$after" == "$before" ]]; then
  pass "every table ($tables, $rows rows) and every Redis key ($keys) is back, checksums equal"
else
  fail "data differs after the restore:"
  diff <(echo "$before") <(echo "$after") | indent || true
fi

media_after="$(media_files 2>/dev/null || true)"
if [[ "$media_after" == "$media_before" ]]; then
  pass "the photo's 3 files are back byte for byte (sha256 of the upload: ${media_sha:0:12}…)"
else
  fail "media store after the restore:"
  diff <(echo "$media_before") <(echo "$media_after") | indent || true
fi
# And served again: a fresh signed URL, checked by the service, names a file that exists.
url="$(body_of "$(api GET messaging "/v1/media/$media_id" "${token[1]}")" | jq -r .url)"
accel="$(curl -s -m 10 -o /dev/null -D - "$(svc_url messaging)$url" | tr -d '\r' |
  awk -F': ' 'tolower($1) == "x-accel-redirect" {print $2}')"
if [[ "$accel" == /_media/objects/* && -s "$media_store/${accel#/_media/}" ]]; then
  pass "the photo is served again to the other member ($accel)"
else
  fail "signed URL $url → X-Accel-Redirect '$accel'"
fi

ledger="$(curl -s -m 10 -H "Authorization: Bearer $TCHAT_ADMIN_TOKEN" "$(svc_url payment)/v1/admin/ledger/verify")"
if jq -e '.ok == true and .counts.transfers == 2' <<<"$ledger" >/dev/null; then
  pass "ledger verification passes (2 transfers)"
else
  fail "ledger verification: $ledger"
fi
for svc in "${TCHAT_SERVICES[@]}"; do
  code="$(http_status "$(svc_url "$svc")/health/ready")"
  [[ "$code" == 200 ]] && pass "$svc ready" || fail "$svc /health/ready → $code"
done

# Clients carry on: old tokens, balances, the next message's seq.
wallet_after="$(body_of "$(api GET payment /v1/wallets "${token[1]}")" | jq -c '[.wallets[] | {currency, balance}]')"
[[ "$wallet_after" == "$wallet_before" ]] && pass "wallet as before: $wallet_after (token issued before the disaster)" ||
  fail "wallet $wallet_before → $wallet_after"
r="$(api POST messaging "/v1/conversations/$direct/messages" "${token[1]}" \
  '{"client_msg_id":"after-recovery","type":"text","body":"still here"}')"
seq="$(body_of "$r" | jq .seq)"
if [[ "$(status_of "$r")" == 201 && "$seq" == $((last_seq + 1)) ]]; then
  pass "a new message continues the conversation (seq $seq)"
else
  fail "new message after recovery: $r (last seq was $last_seq)"
fi
r="$(api POST payment /v1/transfers "${token[0]}" "{\"to_user_id\":\"${user[1]}\",\"amount\":25000,\"currency\":\"THB\",\"note\":\"lunch\",\"conversation_id\":\"$direct\"}" \
  -H "Idempotency-Key: drill-1")"
[[ "$(status_of "$r")" == 201 ]] && [[ "$(body_of "$r" | jq -r .status)" == completed ]] &&
  [[ "$(body_of "$(api GET payment /v1/wallets "${token[1]}")" | jq -c '[.wallets[] | {currency, balance}]')" == "$wallet_before" ]] &&
  pass "a repeated Idempotency-Key still returns the original transfer, not a second one" ||
  fail "idempotency after recovery: $r"
finish
