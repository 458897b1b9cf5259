#!/usr/bin/env bash
# Attachments through the gateway, each figure against an anchor measured in the
# same run (issue 18). Needs a running stack (scripts/start.sh) with development
# OTP, and ffmpeg, vips, wrk, nginx, curl, jq.
#
#   bench/media_bench.sh     GATEWAY [http://127.0.0.1:8080], N [20] photos,
#                            PARTS ["upload download rss sendp99"], RUN_DIR [.run]
#
# upload    N sequential uploads of one noisy 2048x1536 JPEG made here (about
#           2.3 MiB): photos/s, p50 and p99 of the upload (decode, strip,
#           thumbnail and display size, store), against `vips thumbnail` to 320
#           px plus to 1600 px run by the shell on the same file (the anchor).
#           The default upload rate limit is 30 a minute: keep N below it, or
#           start the stack with messaging_rate_uploads_per_minute raised.
# download  a 10 MiB file uploaded once, then fetched through its signed URL by
#           CLIENTS [16] keep-alive connections for SECONDS [5] (wrk): whole
#           files, and random 1 MiB Range requests; MiB/s against an nginx
#           started here (ANCHOR_PORT [18099], the gateway's worker settings)
#           serving the same file from the media store with no check. ROUNDS [3]
#           alternating rounds, medians.
# rss       the messaging process's resident memory (VmRSS of
#           RUN_DIR/pids/messaging.pid, every 100 ms) while UPLOADS [20] uploads
#           of 100 MiB run at once (4 users; one random file, sent with curl -T,
#           which streams it): before, peak, growth (target: at most 64 MiB).
#           Anchor: the same uploads to the anchor nginx, which discards them.
# sendp99   text messages' send → delivered latency over WebSockets through the
#           gateway (tchat-msg-loadgen latency mode, from TCHAT_BUILD_DIR [build],
#           tokens signed with RUN_DIR/jwt-signing-keys.json): MSG_CLIENTS [20]
#           users in pairs send MSG_RATE [100] messages/s in all, open loop, for
#           MSG_SECONDS [10] after 2 s of warm-up; alone (the anchor), then while
#           UPLOADS [8] loops each upload 100 MiB after 100 MiB (curl -T, a new
#           user when one's quota is full) for the whole run; and while the same
#           loops upload to the anchor nginx, which discards the bodies, at the
#           MiB/s the gateway took in that round (curl --limit-rate: what moving
#           the bytes costs this machine without the service). ROUNDS [3]
#           alternating rounds: p50 and p99 of each, medians, and the ratios to
#           alone (issue 18: the p99 with uploads must not get worse). Needs
#           the stack started with messaging_rate_messages_per_minute above
#           MSG_RATE * 60 / MSG_CLIENTS (default 300 a minute per user) and
#           messaging_rate_uploads_per_minute above the uploads' rate.
set -euo pipefail

GATEWAY="${GATEWAY:-http://127.0.0.1:8080}"
N="${N:-20}"
PARTS="${PARTS:-upload download rss sendp99}"
RUN_DIR="${RUN_DIR:-${TCHAT_RUN_DIR:-.run}}"
for tool in ffmpeg vips wrk nginx curl jq; do
  command -v "$tool" >/dev/null || { echo "media_bench: $tool is not installed" >&2; exit 1; }
done
work="$(mktemp -d /tmp/tchat-media-bench.XXXXXX)"
anchor_pid=""
loop_pids=()
cleanup() {
  if [[ -n "$anchor_pid" ]]; then kill "$anchor_pid" 2>/dev/null || true; fi
  if ((${#loop_pids[@]})); then
    touch "$work/stop-uploads"
    kill "${loop_pids[@]}" 2>/dev/null || true
    wait "${loop_pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT


# A new user of the stack (development OTP), a random Thai number: prints its token.
new_token() {
  local phone code token
  phone="+6681$(printf '%07d' $((RANDOM * RANDOM % 10000000)))"
  code="$(curl -sf -X POST "$GATEWAY/v1/auth/otp/request" -H 'Content-Type: application/json' \
    -d "{\"phone\":\"$phone\"}" | jq -r .dev_code)"
  token="$(curl -sf -X POST "$GATEWAY/v1/auth/otp/verify" -H 'Content-Type: application/json' \
    -d "{\"phone\":\"$phone\",\"code\":\"$code\",\"display_name\":\"bench\"}" | jq -r .access_token)"
  [[ -n "$token" && "$token" != null ]] || { echo "media_bench: no access token" >&2; exit 1; }
  echo "$token"
}
token="$(new_token)"

# p-th percentile (0-100) of the numbers on stdin.
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }

upload_part() {
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=2048x1536,noise=alls=40:allf=t" -frames:v 1 -q:v 2 "$work/photo.jpg"
  size=$(stat -c %s "$work/photo.jpg")
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
}

# Uploads $1 as a file (?filename=) for token $2; prints the Media JSON.
upload_file() {
  curl -sf -X POST -H "Authorization: Bearer $2" -H 'Expect:' -T "$1" "$GATEWAY/v1/media?filename=$(basename "$1")"
}

# An nginx beside the gateway, with its worker settings, serving the media store
# with no check and discarding POSTed bodies at /discard.
start_anchor() {
  local media="$1" port="${ANCHOR_PORT:-18099}"
  mkdir -p "$work/anchor"
  cat >"$work/anchor/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/anchor/nginx.pid;
error_log $work/anchor/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    client_max_body_size 200m;
    client_body_temp_path $work/anchor/body;
    proxy_temp_path $work/anchor/proxy;
    fastcgi_temp_path $work/anchor/fastcgi;
    uwsgi_temp_path $work/anchor/uwsgi;
    scgi_temp_path $work/anchor/scgi;
    server {
        listen 127.0.0.1:$port;
        root $media;
        location = /discard { return 201; }
    }
}
CONF
  nginx -c "$work/anchor/nginx.conf" -p "$work/anchor" -e "$work/anchor/error.log" &
  anchor_pid=$!
  ANCHOR="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -s -o /dev/null "$ANCHOR/" && return 0; sleep 0.1; done
  echo "media_bench: the anchor nginx did not start: $(cat "$work/anchor/error.log")" >&2
  exit 1
}

# MiB/s of `wrk -c CLIENTS -d SECONDS` on URL $1 (extra wrk arguments after it);
# fails on any non-2xx answer or socket error.
wrk_mibs() {
  local out
  out="$(wrk -t 2 -c "${CLIENTS:-16}" -d "${SECONDS_PER_RUN:-5}s" --timeout 30s "${@:2}" "$1")"
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
    echo "media_bench: wrk saw failures: $out" >&2
    exit 1
  fi
  awk '/^Transfer\/sec:/ {
    v = $2; u = substr(v, length(v) - 1); n = substr(v, 1, length(v) - 2) + 0
    f = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : 1 / 1048576
    printf "%.1f\n", n * f }' <<<"$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

download_part() {
  local media url sha rel rounds="${ROUNDS:-3}"
  head -c $((10 << 20)) /dev/urandom >"$work/bench-10MiB.bin"
  media="$(upload_file "$work/bench-10MiB.bin" "$token")" || { echo "media_bench: 10 MiB upload failed" >&2; exit 1; }
  url="$GATEWAY$(jq -r .url <<<"$media")"
  sha="$(jq -r .sha256 <<<"$media")"
  rel="objects/${sha:0:2}/$sha"
  [[ "$(curl -s "$url" | sha256sum | cut -d' ' -f1)" == "$sha" ]] ||
    { echo "media_bench: the signed URL does not serve the uploaded bytes" >&2; exit 1; }
  [[ "$(curl -s "$ANCHOR/$rel" | sha256sum | cut -d' ' -f1)" == "$sha" ]] ||
    { echo "media_bench: the anchor does not serve $rel from $MEDIA_DIR" >&2; exit 1; }
  cat >"$work/range.lua" <<'LUA'
request = function()
  local first = math.random(0, 9) * 1048576
  return wrk.format(nil, nil, {["Range"] = "bytes=" .. first .. "-" .. (first + 1048575)})
end
LUA
  : >"$work/dl.txt"
  local v
  for _ in $(seq 1 "$rounds"); do
    # One assignment each, so that a failed run stops the benchmark (set -e).
    v="$(wrk_mibs "$url")"
    echo "gateway-full $v" >>"$work/dl.txt"
    v="$(wrk_mibs "$ANCHOR/$rel")"
    echo "anchor-full $v" >>"$work/dl.txt"
    v="$(wrk_mibs "$url" -s "$work/range.lua")"
    echo "gateway-range $v" >>"$work/dl.txt"
    v="$(wrk_mibs "$ANCHOR/$rel" -s "$work/range.lua")"
    echo "anchor-range $v" >>"$work/dl.txt"
  done
  local gf af gr ar
  gf="$(awk '$1 == "gateway-full" {print $2}' "$work/dl.txt" | median)"
  af="$(awk '$1 == "anchor-full" {print $2}' "$work/dl.txt" | median)"
  gr="$(awk '$1 == "gateway-range" {print $2}' "$work/dl.txt" | median)"
  ar="$(awk '$1 == "anchor-range" {print $2}' "$work/dl.txt" | median)"
  printf 'download of a 10 MiB file, %d keep-alive clients, %ss per run, median of %d alternating rounds:\n' \
    "${CLIENTS:-16}" "${SECONDS_PER_RUN:-5}" "$rounds"
  printf '  whole file:   gateway (signed URL, X-Accel-Redirect) %s MiB/s, anchor (nginx, no check) %s MiB/s, ratio %.2f (target >= 0.9)\n' \
    "$gf" "$af" "$(awk -v g="$gf" -v a="$af" 'BEGIN {print g / a}')"
  printf '  1 MiB Ranges: gateway %s MiB/s, anchor %s MiB/s, ratio %.2f\n' \
    "$gr" "$ar" "$(awk -v g="$gr" -v a="$ar" 'BEGIN {print g / a}')"
  printf '  every run: %s\n' "$(tr '\n' ' ' <"$work/dl.txt")"
}

# VmRSS (KiB) of pid $1.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Starts UPLOADS uploads of file $1 at once to URL $2 (tokens: the array
# users, round robin; none for the anchor); waits; prints "seconds statuses...".
upload_burst() {
  local file="$1" target="$2" i pids=() start end
  start=$(date +%s.%N)
  for i in $(seq 1 "${UPLOADS:-20}"); do
    local auth=()
    if ((${#users[@]})); then auth=(-H "Authorization: Bearer ${users[$((i % ${#users[@]}))]}"); fi
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "${auth[@]}" -H 'Expect:' -T "$file" \
      "$target" >"$work/burst.$i" &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s.%N)
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}') $(cat "$work"/burst.* | sort | uniq -c | tr -s ' \n' ' ')"
  rm -f "$work"/burst.*
}

rss_part() {
  local pidfile="$RUN_DIR/pids/messaging.pid" pid before peak n="${UPLOADS:-20}" svc anc sampler
  [[ -r "$pidfile" ]] || { echo "media_bench: no $pidfile (set RUN_DIR to the stack's run directory)" >&2; exit 1; }
  pid="$(<"$pidfile")"
  [[ -r "/proc/$pid/status" ]] || { echo "media_bench: messaging (pid $pid) is not running" >&2; exit 1; }
  head -c $((100 << 20)) /dev/urandom >"$work/bench-100MiB.bin"
  # 4 users: 20 x 100 MiB is over one user's default quota (1 GiB).
  users=()
  for _ in 1 2 3 4; do users+=("$(new_token)"); done
  before="$(rss_kib "$pid")"
  (while [[ -r "/proc/$pid/status" ]]; do rss_kib "$pid"; sleep 0.1; done) >"$work/rss.txt" &
  sampler=$!
  svc="$(upload_burst "$work/bench-100MiB.bin" "$GATEWAY/v1/media?filename=bench-100MiB.bin")"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak="$(sort -n "$work/rss.txt" | tail -n1)"
  users=()
  anc="$(upload_burst "$work/bench-100MiB.bin" "$ANCHOR/discard")"
  printf '%d uploads of 100 MiB at once through the gateway (4 users):\n' "$n"
  printf '  messaging RSS before %.1f MiB, peak %.1f MiB, growth %.1f MiB (target <= 64); %d samples\n' \
    "$(awk -v k="$before" 'BEGIN {print k / 1024}')" "$(awk -v k="$peak" 'BEGIN {print k / 1024}')" \
    "$(awk -v a="$before" -v b="$peak" 'BEGIN {print (b - a) / 1024}')" "$(wc -l <"$work/rss.txt")"
  printf '  service: %.1f s for %d MiB (%.0f MiB/s), answers: %s\n' "${svc%% *}" $((n * 100)) \
    "$(awk -v t="${svc%% *}" -v n="$n" 'BEGIN {print n * 100 / t}')" "${svc#* }"
  printf '  anchor (nginx discarding the same bodies): %.1f s (%.0f MiB/s), answers: %s\n' "${anc%% *}" \
    "$(awk -v t="${anc%% *}" -v n="$n" 'BEGIN {print n * 100 / t}')" "${anc#* }"
}

# Uploads file $1 to URL $2 again and again until $work/stop-uploads exists, at
# most $4 KiB/s if given; to the gateway as a user, a new one whenever one's
# quota (1 GiB by default) is full. One HTTP status a line to $3.
upload_loop() {
  local file="$1" target="$2" log="$3" tok="" code auth limit=()
  if [[ -n "${4:-}" ]]; then limit=(--limit-rate "${4}k"); fi
  while [[ ! -e "$work/stop-uploads" ]]; do
    auth=()
    if [[ "$target" == "$GATEWAY"* ]]; then
      [[ -n "$tok" ]] || tok="$(new_token)"
      auth=(-H "Authorization: Bearer $tok")
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" "${limit[@]}" -H 'Expect:' \
      -T "$file" "$target")" || true
    echo "$code" >>"$log"
    case "$code" in
      201) ;;
      422) tok="" ;;
      *) sleep 0.5 ;; # no busy loop on a refusal; counted and printed
    esac
  done
}

# One tchat-msg-loadgen latency run through the gateway; prints
# "p50_ms p99_ms samples errors delivered_per_second".
msg_latency() {
  local out
  out="$("$LOADGEN" latency --url "$GATEWAY" --key-file "$KEY_FILE" --clients "${MSG_CLIENTS:-20}" \
    --rate "${MSG_RATE:-100}" --duration "${MSG_SECONDS:-10}" --warmup 2 2>"$work/loadgen.err")" ||
    { echo "media_bench: tchat-msg-loadgen failed: $(cat "$work/loadgen.err")" >&2; exit 1; }
  awk '{v[$1] = $2} END {
    if (v["connected"] + 0 < 2 || v["latency_samples"] + 0 == 0 || v["errors"] + 0 > 0) exit 1
    print v["latency_p50_ms"], v["latency_p99_ms"], v["latency_samples"], v["errors"], v["latency_delivered_per_second"]
  }' <<<"$out" || {
    echo "media_bench: no latency figures or error frames (rate limit?) from tchat-msg-loadgen: $out $(cat "$work/loadgen.err")" >&2
    exit 1
  }
}

# msg_latency while UPLOADS loops upload 100 MiB after 100 MiB to URL $2, each
# at most $3 KiB/s if given; appends "$1 <figures>" to lat.txt and the uploads
# done to uploads.txt; sets upload_mibs to their MiB/s.
msg_latency_loaded() {
  local label="$1" target="$2" i v t0 t1 ok
  rm -f "$work/stop-uploads" "$work"/uploads.*.log
  t0=$(date +%s.%N)
  loop_pids=()
  for i in $(seq 1 "${UPLOADS:-8}"); do
    upload_loop "$work/bench-100MiB.bin" "$target" "$work/uploads.$i.log" "${3:-}" &
    loop_pids+=($!)
  done
  sleep 1 # the uploads under way before the first message
  v="$(msg_latency)"
  echo "$label $v" >>"$work/lat.txt"
  touch "$work/stop-uploads"
  wait "${loop_pids[@]}"
  loop_pids=()
  t1=$(date +%s.%N)
  ok="$(cat "$work"/uploads.*.log | grep -c '^201$' || true)"
  upload_mibs="$(awk -v n="$ok" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n * 100 / (b - a)}')"
  echo "$label: $ok uploads of 100 MiB in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s" \
    "($upload_mibs MiB/s${3:+, each loop at most $3 KiB/s}), answers:" \
    "$(cat "$work"/uploads.*.log | sort | uniq -c | awk '{printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2}')" \
    >>"$work/uploads.txt"
  ((ok > 0)) || { echo "media_bench: no upload succeeded: $(tail -n1 "$work/uploads.txt")" >&2; exit 1; }
}

sendp99_part() {
  local rounds="${ROUNDS:-3}" v load0 c p50 p99 a50 a99
  LOADGEN="${TCHAT_BUILD_DIR:-build}/bin/tchat-msg-loadgen"
  KEY_FILE="${KEY_FILE:-$RUN_DIR/jwt-signing-keys.json}"
  [[ -x "$LOADGEN" ]] || { echo "media_bench: $LOADGEN not found (set TCHAT_BUILD_DIR)" >&2; exit 1; }
  [[ -r "$KEY_FILE" ]] || { echo "media_bench: cannot read $KEY_FILE (set RUN_DIR to the stack's run directory)" >&2; exit 1; }
  [[ -s "$work/bench-100MiB.bin" ]] || head -c $((100 << 20)) /dev/urandom >"$work/bench-100MiB.bin"
  : >"$work/lat.txt"
  : >"$work/uploads.txt"
  load0="$(cut -d' ' -f1-3 /proc/loadavg)"
  for _ in $(seq 1 "$rounds"); do
    v="$(msg_latency)"
    echo "alone $v" >>"$work/lat.txt"
    msg_latency_loaded uploads "$GATEWAY/v1/media?filename=bench-100MiB.bin"
    # The same bytes per second as the gateway took, to nginx.
    msg_latency_loaded nginx "$ANCHOR/discard" "$((upload_mibs * 1024 / ${UPLOADS:-8} + 1))"
  done
  printf 'text messages send -> delivered through the gateway, %s msg/s from %s users in pairs, %ss per run,\n' \
    "${MSG_RATE:-100}" "${MSG_CLIENTS:-20}" "${MSG_SECONDS:-10}"
  printf 'median of %d alternating rounds; %d loops of 100 MiB uploads (curl -T) during the loaded runs:\n' \
    "$rounds" "${UPLOADS:-8}"
  a50="$(awk '$1 == "alone" {print $2}' "$work/lat.txt" | median)"
  a99="$(awk '$1 == "alone" {print $3}' "$work/lat.txt" | median)"
  for c in alone uploads nginx; do
    p50="$(awk -v c="$c" '$1 == c {print $2}' "$work/lat.txt" | median)"
    p99="$(awk -v c="$c" '$1 == c {print $3}' "$work/lat.txt" | median)"
    printf '  %-61s p50 %7.2f ms, p99 %7.2f ms; / alone: p50 %.2f, p99 %.2f\n' "$(case "$c" in
      alone) echo 'alone (the anchor):' ;;
      uploads) echo 'with uploads through the gateway (target: p99 not worse):' ;;
      nginx) echo 'with as many MiB/s uploaded to the anchor nginx (discarded):' ;;
      esac)" "$p50" "$p99" "$(awk -v x="$p50" -v a="$a50" 'BEGIN {print x / a}')" \
      "$(awk -v x="$p99" -v a="$a99" 'BEGIN {print x / a}')"
  done
  printf '  every run (p50 ms, p99 ms, samples, errors, delivered/s):\n'
  sed 's/^/    /' "$work/lat.txt"
  sed 's/^/  /' "$work/uploads.txt"
  printf '  load average (1, 5, 15 min) before %s, after %s\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

MEDIA_DIR="${TCHAT_MEDIA_DIR:-$RUN_DIR/media}"
if [[ " $PARTS " == *" download "* || " $PARTS " == *" rss "* || " $PARTS " == *" sendp99 "* ]]; then start_anchor "$MEDIA_DIR"; fi
for part in $PARTS; do
  case "$part" in
    upload) upload_part ;;
    download) download_part ;;
    rss) rss_part ;;
    sendp99) sendp99_part ;;
    *) echo "media_bench: unknown part '$part' (upload, download, rss, sendp99)" >&2; exit 2 ;;
  esac
done
