#!/usr/bin/env bash
# The command-line client sends attachments (clients/cli: tchat-cli send-file):
# two users sign in with tchat-cli (development OTP) through the gateway, A
# starts a direct chat and sends a photo with a caption, a text file and a voice
# note (Opus in Ogg, --voice), all made here; each answer is the stored message
# with its attachment, and B's history through tchat-cli shows the three. A
# file that cannot be read fails with a message and sends nothing.
# pass/fail always succeed, so "check && pass || fail" is an if-then-else.
# shellcheck disable=SC2015
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GW="${TCHAT_TEST_GATEWAY_URL:-http://127.0.0.1:$TCHAT_GATEWAY_PORT}"
CLI="$TCHAT_BUILD_DIR/bin/tchat-cli"
[[ -x "$CLI" ]] || { fail "$CLI not built"; finish; }
work="$(mktemp -d /tmp/tchat-cli-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cli() { "$CLI" --url "$GW" --token-file "$work/$1.token" "${@:2}"; }

# sign_in WHO PHONE: OTP through tchat-cli; prints the user's id.
sign_in() {
  local code
  code="$(cli "$1" login --phone "$2" 2>/dev/null | jq -r .dev_code)"
  cli "$1" login --phone "$2" --code "$code" >/dev/null 2>&1
  curl -s -m 10 -H "Authorization: Bearer $(<"$work/$1.token")" "$GW/v1/users/me" | jq -r .id
}
# Thai mobile numbers (+66 8x xxx xxxx) no earlier run used.
suffix="$(printf '%06d' $(((RANDOM * 32768 + RANDOM) % 1000000)))"
a="$(sign_in a "+6681${suffix}1" || true)"
b="$(sign_in b "+6681${suffix}2" || true)"
[[ "$a" =~ ^[0-9a-f-]{36}$ && "$b" =~ ^[0-9a-f-]{36}$ ]] && pass "two users signed in with tchat-cli" ||
  { fail "sign-in through tchat-cli: '$a' '$b'"; finish; }
conv="$(cli a direct "$b" | jq -r .id)"
[[ "$conv" =~ ^[0-9a-f-]{36}$ ]] && pass "direct chat $conv" || { fail "tchat-cli direct: $conv"; finish; }

ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=640x480" -frames:v 1 -q:v 3 "$work/photo.jpg"
printf 'Trip plan\nDay 1: Chiang Mai\n' >"$work/notes.txt"
ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=440:duration=2" -c:a libopus "$work/voice.ogg"

m="$(cli a send-file "$conv" "$work/photo.jpg" --caption "Doi Suthep" || true)"
jq -e '.type == "image" and .body == "Doi Suthep" and .attachment.kind == "image" and
  .attachment.width == 640 and .attachment.height == 480 and (.attachment.placeholder | startswith("data:image/"))' \
  <<<"$m" >/dev/null && pass "send-file: a photo with its caption → image message, 640×480 with a placeholder" ||
  fail "send-file photo: $m"
m="$(cli a send-file "$conv" "$work/notes.txt" || true)"
jq -e '.type == "file" and .attachment.filename == "notes.txt" and .attachment.size == 28' <<<"$m" >/dev/null &&
  pass "send-file: a text file → file message named notes.txt (28 bytes)" || fail "send-file notes.txt: $m"
m="$(cli a send-file "$conv" "$work/voice.ogg" --voice || true)"
jq -e '.type == "voice" and .attachment.duration_ms >= 1800 and .attachment.duration_ms <= 2200 and
  (.attachment.waveform | length) > 0' <<<"$m" >/dev/null &&
  pass "send-file --voice: an Ogg Opus note → voice message, $(jq .attachment.duration_ms <<<"$m") ms with a waveform" ||
  fail "send-file voice: $m"

history="$(cli b history "$conv" 10 || true)"
[[ "$(jq -c '[.messages[] | .type]' <<<"$history")" == '["image","file","voice"]' ]] &&
  pass "B's history (tchat-cli history) shows the photo, the file and the voice note" ||
  fail "B's history: $(jq -c '[.messages[] | .type]' <<<"$history" 2>/dev/null || echo "$history")"

rc=0
out="$(cli a send-file "$conv" "$work/missing.jpg" 2>&1)" || rc=$?
count="$(cli b history "$conv" 10 | jq '.messages | length')"
[[ $rc != 0 && "$out" == *"cannot read"* && "$count" == 3 ]] &&
  pass "a file that cannot be read: exit $rc, a message, nothing sent" || fail "missing file: rc=$rc out=$out count=$count"
rc=0
out="$(cli a send-file "$conv" 2>&1)" || rc=$?
[[ $rc == 2 && "$out" == *"usage:"* ]] && pass "send-file without a path → usage, exit 2" || fail "send-file usage: rc=$rc $out"
finish
