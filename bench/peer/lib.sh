# shellcheck shell=bash
# shellcheck disable=SC2154  # the variables are bench/peer_bench.sh's
# Functions of bench/peer_bench.sh (sourced; uses its variables: work, BUILD, ROOT,
# users, rate, duration, messages, period, DOMAIN, the *_PORT variables, results).

service_pid=""
ejabberd_ctl_pid=""
tsung_pid=""
clk_tck="$(getconf CLK_TCK)"

peer::ejabberdctl() {
  ejabberdctl --config-dir "$work/ejabberd/conf" --logs "$work/ejabberd/logs" \
    --spool "$work/ejabberd/spool" "$@"
}

# The pid of the process listening on 127.0.0.1:$1, if any.
peer::listener_pid() {
  ss -Hltnp "( sport = :$1 )" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -n1
}

peer::stop_service() {
  if [[ -n "$service_pid" ]]; then
    tchat::terminate_pid "$service_pid" 30 || true
    service_pid=""
  fi
}

peer::stop_ejabberd() {
  local beam
  beam="$(peer::listener_pid "$C2S_PORT")"
  # SIGTERM makes the Erlang VM stop its applications and exit.
  if [[ -n "$beam" ]]; then tchat::terminate_pid "$beam" 30 || true; fi
  if [[ -n "$ejabberd_ctl_pid" ]]; then
    tchat::terminate_pid "$ejabberd_ctl_pid" 10 || true
    ejabberd_ctl_pid=""
  fi
}

# tsung's controller VM and the epmd it started on its own port.
peer::stop_tsung() {
  local p port
  for ((port = TSUNG_EPMD_PORT + 1; port <= TSUNG_EPMD_PORT + 8; port++)); do
    p="$(peer::listener_pid "$port")"
    if [[ -n "$p" ]]; then tchat::terminate_pid "$p" 10 || true; fi
  done
  if [[ -n "$tsung_pid" ]]; then
    tchat::terminate_pid "$tsung_pid" 10 || true
    tsung_pid=""
  fi
  p="$(peer::listener_pid "$TSUNG_EPMD_PORT")"
  if [[ -n "$p" ]]; then tchat::terminate_pid "$p" 10 || true; fi
}

peer::cleanup() {
  peer::stop_service
  peer::stop_tsung
  peer::stop_ejabberd
  tchat::redis_stop >/dev/null 2>&1 || true
  tchat::pg_stop >/dev/null 2>&1 || true
  if [[ -n "${TCHAT_PEER_KEEP:-}" ]]; then
    tchat::log "kept $work"
  else
    rm -rf "$work" 2>/dev/null || true
  fi
}

# CPU time (µs) of the process trees rooted at the given pids, one figure per
# root (0 for an empty root): utime + stime + cutime + cstime of each live
# process in the tree. A child that exited and was reaped moved its time into
# its parent's cutime/cstime, so nothing is lost or counted twice between two
# readings. One awk process reads every /proc/<pid>/stat once: a reading takes
# milliseconds even when the machine is loaded, which one process per pid did not.
peer::cpu_us() {
  awk -v roots="$*" -v hz="$clk_tck" 'BEGIN {
    while (("ls /proc" | getline d) > 0) {
      if (d !~ /^[0-9]+$/) continue
      f = "/proc/" d "/stat"
      if ((getline line < f) > 0) {
        sub(/^.*\) /, "", line)   # the name may hold spaces and parentheses
        split(line, x, " ")        # x[1] is field 3 (state)
        parent[d] = x[2]; ticks[d] = x[12] + x[13] + x[14] + x[15]
      }
      close(f)
    }
    n = split(roots, r, " ")
    out = ""
    for (i = 1; i <= n; i++) {
      total = 0
      for (p in ticks) {
        q = p
        for (depth = 0; depth < 64 && q != "" && q != "0"; depth++) {
          if (q == r[i]) { total += ticks[p]; break }
          q = parent[q]
        }
      }
      out = out (i > 1 ? " " : "") sprintf("%.0f", total * 1000000 / hz)
    }
    print out
  }'
}

# PostgreSQL's CPU time (µs) by kind of process under postmaster $1, one
# "kind µs" line each: the backends of each database, each background process
# (walwriter, checkpointer, ...), and "exited" (the postmaster's reaped
# children, i.e. backends that closed) plus the postmaster itself. Where the
# database's share of a message goes (bench/peer/README.md).
peer::pg_by_kind() {
  awk -v root="$1" -v hz="$clk_tck" 'BEGIN {
    while (("ls /proc" | getline d) > 0) {
      if (d !~ /^[0-9]+$/) continue
      f = "/proc/" d "/stat"
      if ((getline line < f) > 0) {
        sub(/^.*\) /, "", line)
        split(line, x, " ")
        if (d == root) { kind["exited+postmaster"] += x[12] + x[13] + x[14] + x[15] }
        else if (x[2] == root) {
          c = "/proc/" d "/cmdline"; name = ""
          if ((getline name < c) > 0) {
            gsub(/\0/, " ", name); sub(/^postgres: /, "", name)
            n = split(name, w, " ")
            # "user db host(port) state" for a backend, else the process name
            k = (n >= 3 && w[3] ~ /\(/) ? "backends " w[2] : w[1] (n > 1 && w[2] !~ /\(/ ? " " w[2] : "")
          }
          close(c)
          kind[k == "" ? "other" : k] += x[12] + x[13] + x[14] + x[15]
        }
      }
      close(f)
    }
    for (k in kind) printf "%s\t%.0f\n", k, kind[k] * 1000000 / hz
  }' | sort
}

# Prints what each kind of PostgreSQL process spent between two peer::pg_by_kind
# outputs ($1, $2), per message ($3).
peer::pg_report() {
  join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 <(printf '%s\n' "$1") <(printf '%s\n' "$2") |
    awk -F'\t' -v n="$3" '$3 - $2 > 0 { printf "     postgres %-28s %7.1f us/message\n", $1, ($3 - $2) / n }'
}

peer::postmaster_pid() { head -n1 "$(tchat::pg_data)/postmaster.pid"; }
peer::redis_pid() { tchat::live_pid "$(tchat::redis_pidfile)" redis-server; }
peer::now_us() { echo $(($(date +%s%N) / 1000)); }
peer::load() { cut -d' ' -f1 /proc/loadavg; }

# A checkpoint and a Redis snapshot before each phase, so that neither lands at
# a random point inside one (see bench/messaging_bench.sh).
peer::checkpoint() {
  tchat::psql postgres -c "CHECKPOINT" >/dev/null
  redis-cli -h 127.0.0.1 -p "$TCHAT_REDIS_PORT" SAVE >/dev/null
}

# Waits until file $1 has a line matching $2, at most $3 seconds.
peer::wait_line() {
  local file="$1" re="$2" seconds="$3" i
  for ((i = 0; i < seconds * 20; i++)); do
    if grep -q -- "$re" "$file" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

peer::value() { awk -v k="$1" '$1 == k { print $2 }' "$2" | tail -n1; }

# Reads the CPU time (µs) of the side's processes into the caller's array $1 and
# the time (µs) into $1_t: "service pg redis" (no Redis on the ejabberd side).
# shellcheck disable=SC2034  # namerefs: the assignments are the caller's variables
peer::read() {
  local -n into="$1"
  local -n at="$1_t"
  local t0
  t0="$(peer::now_us)"
  read -r -a into <<<"$(peer::cpu_us "$2" "$3" "${4:-0}")"
  at=$(((t0 + $(peer::now_us)) / 2))
}

# One result line from the caller's readings: idle (r0 -> r1, connected, nothing
# sent yet) and the window (r1 -> r2, from before the first send to after the
# last delivery). Every figure positive, or a stop saying what went wrong. The
# CPU is divided by `counted` (default: the smaller of persisted and delivered).
# cpu_us_per_msg is the whole window's CPU; cpu_us_per_msg_net takes away what
# the processes spend idle (their idle rate over the window's length), since
# the two windows hold different idle margins (bench/peer/README.md).
peer::record() {
  local run="$1" side="$2" sent="$3" persisted="$4" delivered="$5" per_s="$6" p50="$7" \
    p99="$8" load="$9"
  local counted="${10:-$((persisted < delivered ? persisted : delivered))}"
  ((counted > 0)) || tchat::die "$side run $run: nothing both persisted and delivered"
  awk -v run="$run" -v side="$side" -v offered="$rate" -v sent="$sent" -v pers="$persisted" \
    -v del="$delivered" -v ps="$per_s" -v p50="$p50" -v p99="$p99" -v n="$counted" -v load="$load" \
    -v svc=$((r2[0] - r1[0])) -v pg=$((r2[1] - r1[1])) -v rd=$((r2[2] - r1[2])) \
    -v idle=$((r1[0] + r1[1] + r1[2] - r0[0] - r0[1] - r0[2])) -v idle_us=$((r1_t - r0_t)) \
    -v window_us=$((r2_t - r1_t)) 'BEGIN {
      total = svc + pg + rd
      idle_rate = idle / idle_us  # CPU-us per us
      net = total - idle_rate * window_us
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.1f\t%.2f\t%s\n",
        run, side, offered, sent, pers, del, ps, p50, p99, total / 1000, svc / 1000, pg / 1000,
        rd / 1000, total / n, window_us / 1e6, idle_rate * 1000, net / n, load }' >>"$results"
  tail -n1 "$results" | awk -F'\t' '{ printf "   %s run %s: persisted %s, delivered %s, %s/s, p99 %s ms, CPU-us per message %s (net of idle %s)\n", $2, $1, $5, $6, $7, $9, $14, $17 }'
}

peer::service_ready() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVICE_PORT/health/ready")" == 200 ]]
}
peer::ejabberd_up() { curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/api/status" -d '{}'; }

peer::start_service() {
  tchat::bench_messaging_start "$SERVICE_PORT" "$(tchat::pg_url tchat_messaging)" "$TCHAT_REDIS_PORT" \
    "$work" "$BUILD"
  service_pid=$!
  tchat::wait_until 30 peer::service_ready || { tail -n 20 "$work/service.log" >&2; tchat::die "tchat-messaging did not start"; }
}

peer::run_tchat() {
  local run="$1" out="$work/loadgen.$1.out" load count0 count1 pg redis
  echo "== run $run, Tchat: tchat-messaging + Redis + PostgreSQL, tchat-msg-loadgen (load $(peer::load))"
  load="$(peer::load)"
  peer::checkpoint
  peer::start_service
  count0="$(tchat::psql tchat_messaging -c "SELECT count(*) FROM messages")"
  pg="$(peer::postmaster_pid)"
  redis="$(peer::redis_pid)"
  "$BUILD/bin/tchat-msg-loadgen" latency --url "http://127.0.0.1:$SERVICE_PORT" \
    --key-file "$work/keys.json" --clients "$users" --rate "$rate" --duration "$duration" \
    --warmup 0 --start-delay 5 --linger 3 --stamp-at-write 1 >"$out" 2>>"$work/loadgen.err" &
  local lg=$!
  # Sending starts 5 s after the last connection: 1 s for the logins to settle
  # (as on the ejabberd side), 2 s of idle reading, then the window; the
  # connections stay 3 s after the report.
  peer::wait_line "$out" '^connect_seconds' 120 || tchat::die "loadgen did not connect (see $work/loadgen.err)"
  sleep 1
  local r0 r0_t r1 r1_t r2 r2_t
  peer::read r0 "$service_pid" "$pg" "$redis"
  sleep 2
  peer::read r1 "$service_pid" "$pg" "$redis"
  local k1 k2
  k1="$(peer::pg_by_kind "$pg")"
  peer::wait_line "$out" '^total_delivered' $((duration + 60)) || tchat::die "loadgen did not finish"
  peer::read r2 "$service_pid" "$pg" "$redis"
  k2="$(peer::pg_by_kind "$pg")"
  wait "$lg" || tchat::die "tchat-msg-loadgen failed (see $work/loadgen.err)"
  count1="$(tchat::psql tchat_messaging -c "SELECT count(*) FROM messages")"
  peer::stop_service
  [[ "$(peer::value connect_failed "$out")" == 0 ]] || tchat::die "loadgen: connections failed"
  peer::record "$run" tchat "$(peer::value total_sent "$out")" $((count1 - count0)) \
    "$(peer::value total_delivered "$out")" "$(peer::value latency_delivered_per_second "$out")" \
    "$(peer::value latency_p50_ms "$out")" "$(peer::value latency_p99_ms "$out")" "$load"
  peer::pg_report "$k1" "$k2" $((count1 - count0))
}

# Writes ejabberd's configuration into the run directory, starts it once to
# register the users (HTTP API, one request each) and stops it.
peer::ejabberd_setup() {
  local dir="$work/ejabberd"
  mkdir -p "$dir/conf" "$dir/logs" "$dir/spool"
  cp /etc/ejabberd/inetrc "$dir/conf/inetrc"
  sed -e "s/@DOMAIN@/$DOMAIN/g" -e "s/@C2S_PORT@/$C2S_PORT/g" -e "s/@HTTP_PORT@/$API_PORT/g" \
    -e "s/@PG_PORT@/$TCHAT_PG_PORT/g" -e "s/@PG_DB@/ejabberd/g" \
    "$ROOT/bench/peer/ejabberd.yml.in" >"$dir/conf/ejabberd.yml"
  # ejabberdctl reads this; the node needs no epmd (ERL_DIST_PORT) and its own
  # cookie (nothing written to the ejabberd user's home).
  cat >"$dir/conf/ejabberdctl.cfg" <<EOF
ERLANG_NODE=peerbench@localhost
ERL_DIST_PORT=$DIST_PORT
INET_DIST_INTERFACE=127.0.0.1
EJABBERD_BYPASS_WARNINGS=true
EJABBERD_PID_PATH=$dir/ejabberd.pid
ERL_OPTIONS="-setcookie peerbench$$ -env ERL_CRASH_DUMP_BYTES 0"
EOF
  # Run as root, ejabberdctl runs the node as the package's ejabberd user.
  chown -R ejabberd:ejabberd "$dir"
  peer::start_ejabberd
  local i registered=0
  for ((i = 1; i <= users; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/api/register" \
      -d "{\"user\":\"u$i\",\"host\":\"$DOMAIN\",\"password\":\"pw\"}" && registered=$((registered + 1))
  done
  ((registered == users)) || tchat::die "registered $registered of $users ejabberd users"
  local n
  n="$(tchat::psql ejabberd -c "SELECT count(*) FROM users")"
  ((n == users)) || tchat::die "ejabberd's users table has $n rows, not $users"
  tchat::log "ejabberd: $users users registered ($(peer::ejabberdctl registered_users "$DOMAIN" | wc -l) listed by ejabberdctl)"
  peer::stop_ejabberd
}

peer::start_ejabberd() {
  (cd "$work/ejabberd" && exec ejabberdctl --config-dir "$work/ejabberd/conf" --logs "$work/ejabberd/logs" \
    --spool "$work/ejabberd/spool" foreground >>"$work/ejabberd/foreground.out" 2>&1 </dev/null) &
  ejabberd_ctl_pid=$!
  tchat::wait_until 90 peer::ejabberd_up || {
    tail -n 20 "$work/ejabberd/foreground.out" "$work/ejabberd/logs/error.log" >&2 || true
    tchat::die "ejabberd did not start"
  }
  # The SQL pool connects on the first query, and a login that comes while it
  # starts crashes its session (ejabberd_sql:get_worker): a query through the
  # API first, then ready means all sql_pool_size (10) connections are open.
  curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/api/registered_users" -d "{\"host\":\"$DOMAIN\"}" ||
    tchat::die "ejabberd's registered_users failed"
  tchat::wait_until 60 peer::ejabberd_sql_ready || tchat::die "ejabberd's SQL pool did not connect"
}
peer::ejabberd_sql_ready() {
  (($(tchat::psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ejabberd'") >= 10))
}

# Connections established to ejabberd's client port.
peer::c2s_connections() {
  ss -Htn state established "( sport = :$C2S_PORT )" 2>/dev/null | wc -l
}

peer::write_scenario() {
  local arrival_rate=50 spread wait_before wait_after pad
  spread=$(((users + arrival_rate - 1) / arrival_rate))
  # The arrival phase may last longer than users/rate: tsung's launcher falls
  # behind on a loaded machine, and maxnumber stops it at `users` anyway.
  wait_before=$((spread + 6))
  wait_after=$((spread + 3))
  # A 64-byte body as tchat-msg-loadgen's: tsung's stamp (about 40 characters),
  # a space and padding.
  pad="$(head -c 22 /dev/zero | tr '\0' x)"
  sed -e "s/@DOMAIN@/$DOMAIN/g" -e "s/@C2S_PORT@/$C2S_PORT/g" -e "s/@USERS@/$users/g" -e "s/@MAXUSERS@/$((users + 100))/g" \
    -e "s/@ARRIVAL_RATE@/$arrival_rate/g" -e "s/@ARRIVAL_S@/$((4 * spread + 5))/g" \
    -e "s/@WAIT_BEFORE@/$wait_before/g" -e "s/@MESSAGES@/$messages/g" \
    -e "s/@PERIOD@/$period/g" -e "s/@WAIT_AFTER@/$wait_after/g" -e "s/@PAD@/$pad/g" \
    "$ROOT/bench/peer/tsung.xml.in" >"$1"
}

peer::run_ejabberd() {
  local run="$1" dir="$work/tsung.$1" load pg beam rows0 i
  echo "== run $run, ejabberd: ejabberd + PostgreSQL, tsung (load $(peer::load))"
  load="$(peer::load)"
  mkdir -p "$dir/home" "$dir/log"
  peer::write_scenario "$dir/scenario.xml"
  peer::checkpoint
  peer::start_ejabberd
  beam="$(peer::listener_pid "$C2S_PORT")"
  pg="$(peer::postmaster_pid)"
  rows0="$(tchat::psql ejabberd -c "SELECT coalesce(max(id), 0) FROM archive")"
  (cd "$dir" && HOME="$dir/home" ERL_EPMD_PORT="$TSUNG_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 exec timeout $((duration + 180)) \
    tsung -n -i "peer$$" -t $((TSUNG_EPMD_PORT + 1)) -T $((TSUNG_EPMD_PORT + 8)) -l "$dir/log" \
    -f "$dir/scenario.xml" start >"$dir/tsung.out" 2>&1) &
  tsung_pid=$!
  # Every user connected (and, a second later, logged in): sending starts
  # wait_before seconds after each login, so the reading precedes it.
  for ((i = 0; i < 1200; i++)); do
    (($(peer::c2s_connections) >= users)) && break
    kill -0 "$tsung_pid" 2>/dev/null || break
    sleep 0.05
  done
  (($(peer::c2s_connections) >= users)) || tchat::die "tsung did not connect $users users (see $dir)"
  sleep 1
  local r0 r0_t r1 r1_t r2 r2_t
  peer::read r0 "$beam" "$pg"
  sleep 2
  peer::read r1 "$beam" "$pg"
  local k1 k2
  k1="$(peer::pg_by_kind "$pg")"
  # The first session to close has waited wait_after seconds after its last
  # send, which is after every user's last send: the deliveries are done.
  for ((i = 0; i < (duration + 120) * 20; i++)); do
    (($(peer::c2s_connections) < users)) && break
    sleep 0.05
  done
  peer::read r2 "$beam" "$pg"
  k2="$(peer::pg_by_kind "$pg")"
  wait "$tsung_pid" || tchat::warn "tsung exited with status $? (see $dir/tsung.out)"
  tsung_pid=""
  peer::stop_ejabberd
  local stats logdir persisted early rows
  logdir="$(dirname "$(find "$dir/log" -name tsung-fullstats.log | head -n1)")"
  [[ -f "$logdir/tsung-fullstats.log" ]] || tchat::die "no tsung-fullstats.log under $dir/log"
  stats="$(python3 "$ROOT/bench/peer/report.py" tsung-latency "$logdir/tsung-fullstats.log")"
  echo "$stats" >"$dir/latency.out"
  # A message counts as persisted when both archive rows (sender's and
  # recipient's) exist; every archived message must fall inside the readings.
  persisted="$(tchat::psql ejabberd -c "SELECT count(*) FROM (SELECT substring(xml from ' id=''([^'']+)''') AS m
    FROM archive WHERE id > $rows0 GROUP BY 1 HAVING count(*) = 2) s")"
  rows="$(tchat::psql ejabberd -c "SELECT count(*) FROM archive WHERE id > $rows0")"
  early="$(tchat::psql ejabberd -c "SELECT count(*) FROM archive WHERE id > $rows0 AND (timestamp < $r1_t OR timestamp > $r2_t)")"
  ((early == 0)) || tchat::die "$early archive rows fell outside the CPU readings (run $run)"
  local samples span per_s
  samples="$(awk '$1 == "samples" { print $2 }' <<<"$stats")"
  span="$(tchat::psql ejabberd -c "SELECT (max(timestamp) - min(timestamp)) / 1e6 FROM archive WHERE id > $rows0")"
  per_s="$(awk -v n="$samples" -v s="$span" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
  echo "   archive rows $rows, messages with both rows $persisted, tsung samples $samples, sending span ${span}s"
  # tsung's count of deliveries is a lower bound: its parser takes the first
  # stamp of each TCP read, so two messages arriving in one read give one
  # sample. The recipient's archive row is written as ejabberd hands the message
  # to the recipient's session; with (nearly) every message also seen by tsung,
  # those messages count as delivered. Otherwise the samples do, which would
  # charge ejabberd more per message, and the script says so.
  local counted="$persisted"
  if ((samples * 100 < persisted * 98)); then
    tchat::warn "ejabberd run $run: tsung saw $samples of $persisted messages; dividing by $samples"
    counted="$samples"
  fi
  peer::record "$run" ejabberd $((users * messages)) "$persisted" "$samples" "$per_s" \
    "$(awk '$1 == "p50_ms" { print $2 }' <<<"$stats")" "$(awk '$1 == "p99_ms" { print $2 }' <<<"$stats")" \
    "$load" "$counted"
  peer::pg_report "$k1" "$k2" "$counted"
}
