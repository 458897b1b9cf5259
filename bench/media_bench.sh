#!/usr/bin/env bash
# Upload cost of photos through the gateway against the bare libvips work on the
# same file (issue 18's anchor). Needs a running stack (scripts/start.sh) with
# development OTP, and ffmpeg, vips, curl, jq.
#
#   bench/media_bench.sh            GATEWAY [http://127.0.0.1:8080], N [20] photos
#
# Prints, for N sequential uploads of one noisy 2048x1536 JPEG made here (about
# 2.3 MiB):
# photos/s, p50 and p99 of the upload (decode, strip, thumbnail and display
# size, store), and the mean of `vips thumbnail` to 320 px plus to 1600 px run by
# the shell on the same file (the anchor), then the ratio service/anchor per
# photo. The default upload rate limit is 30 a minute: keep N below it, or start
# the stack with messaging_rate_uploads_per_minute raised.
set -euo pipefail

GATEWAY="${GATEWAY:-http://127.0.0.1:8080}"
N="${N:-20}"
for tool in ffmpeg vips curl jq; do
  command -v "$tool" >/dev/null || { echo "media_bench: $tool is not installed" >&2; exit 1; }
done
work="$(mktemp -d /tmp/tchat-media-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=2048x1536,noise=alls=40:allf=t" -frames:v 1 -q:v 2 "$work/photo.jpg"
size=$(stat -c %s "$work/photo.jpg")

# A user of the stack (development OTP), a random Thai number.
phone="+6681$(printf '%07d' $((RANDOM * RANDOM % 10000000)))"
code="$(curl -sf -X POST "$GATEWAY/v1/auth/otp/request" -H 'Content-Type: application/json' \
  -d "{\"phone\":\"$phone\"}" | jq -r .dev_code)"
token="$(curl -sf -X POST "$GATEWAY/v1/auth/otp/verify" -H 'Content-Type: application/json' \
  -d "{\"phone\":\"$phone\",\"code\":\"$code\",\"display_name\":\"bench\"}" | jq -r .access_token)"
[[ -n "$token" && "$token" != null ]] || { echo "media_bench: no access token" >&2; exit 1; }

# p-th percentile (0-100) of the numbers on stdin.
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }

: >"$work/service.txt"
for _ in $(seq 1 "$N"); do
  out="$(curl -s -o "$work/resp.json" -w '%{http_code} %{time_total}' -X POST \
    -H "Authorization: Bearer $token" --data-binary "@$work/photo.jpg" "$GATEWAY/v1/media")"
  [[ "${out%% *}" == 201 ]] || { echo "media_bench: upload → $out $(cat "$work/resp.json")" >&2; exit 1; }
  echo "${out#* }" >>"$work/service.txt"
done
: >"$work/anchor.txt"
for _ in $(seq 1 "$N"); do
  start=$(date +%s.%N)
  vips thumbnail "$work/photo.jpg" "$work/t.jpg" 320
  vips thumbnail "$work/photo.jpg" "$work/d.jpg" 1600
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {print b - a}' >>"$work/anchor.txt"
done

svc_mean=$(awk '{s+=$1} END {print s/NR}' "$work/service.txt")
anc_mean=$(awk '{s+=$1} END {print s/NR}' "$work/anchor.txt")
printf 'photo: %d bytes, 2048x1536 JPEG; %d uploads, one at a time\n' "$size" "$N"
printf 'service (gateway upload): %.1f photos/s, p50 %.1f ms, p99 %.1f ms, mean %.1f ms\n' \
  "$(awk -v m="$svc_mean" 'BEGIN {print 1 / m}')" "$(percentile 50 <"$work/service.txt" | awk '{print $1*1000}')" \
  "$(percentile 99 <"$work/service.txt" | awk '{print $1*1000}')" "$(awk -v m="$svc_mean" 'BEGIN {print m * 1000}')"
printf 'anchor (vips thumbnail 320 + 1600): mean %.1f ms, p99 %.1f ms\n' \
  "$(awk -v m="$anc_mean" 'BEGIN {print m * 1000}')" "$(percentile 99 <"$work/anchor.txt" | awk '{print $1*1000}')"
printf 'ratio service/anchor per photo: %.2f (target <= 1.3)\n' "$(awk -v s="$svc_mean" -v a="$anc_mean" 'BEGIN {print s / a}')"
