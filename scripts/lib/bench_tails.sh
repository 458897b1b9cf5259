# shellcheck shell=bash
# Shared by the service benchmarks (bench/{messaging,notification,payment,auth}_bench.sh)
# for "tails at half load": each measures its own maximum, runs open loop at half
# of it, and prints one table row per figure with the CPU of all server processes
# per operation (the load generators read it from /proc over the measured window
# with --cpu-pids; see bench/common/proc_cpu.hpp) and the 1-minute load average
# of the shared machine at the time. "runq µs/op" is the time the server
# processes' threads waited for a core (run-queue wait, /proc/*/task/*/schedstat)
# per operation: on a machine shared with other work, the part of a tail that is
# the machine's and not the code's.

# tchat::bench_pg_pid DATADIR: the postmaster's pid (its backends are its children).
tchat::bench_pg_pid() { head -n1 "$1/postmaster.pid"; }

# tchat::bench_loadavg: the 1-minute load average now.
tchat::bench_loadavg() { cut -d' ' -f1 /proc/loadavg; }

# tchat::bench_half RATE: half a measured maximum, an integer >= 1.
tchat::bench_half() { awk -v r="$1" 'BEGIN { h = int(r / 2); print (h < 1 ? 1 : h) }'; }

tchat::bench_tail_header() {
  printf '\n== tails at half load: open loop at half the maximum measured in this run;\n'
  printf '   CPU µs/op = all server processes (service, PostgreSQL, Redis) over the window\n'
  printf '%-34s %9s %9s %8s %8s %9s %10s %10s %6s  %s\n' "figure" "max/s" "offered/s" "p50 ms" \
    "p99 ms" "p99.9 ms" "CPU µs/op" "runq µs/op" "load1" "target"
}

# tchat::bench_tail_row NAME MAX OFFERED P50 P99 P999 CPU_US WAIT_US LOAD TARGET_P99_MS
# (TARGET_P99_MS "-" for none; "met"/"NOT met" is printed against p99).
tchat::bench_tail_row() {
  local verdict="-"
  if [[ "${10}" != - && -n "$5" ]]; then
    verdict="$(awk -v p="$5" -v t="${10}" 'BEGIN { printf "p99 <= %s ms: %s", t, (p <= t ? "met" : "NOT met") }')"
  fi
  printf '%-34s %9s %9s %8s %8s %9s %10s %10s %6s  %s\n' "$1" "${2:--}" "${3:--}" "${4:--}" \
    "${5:--}" "${6:--}" "${7:--}" "${8:--}" "${9:--}" "$verdict"
}

# tchat::bench_tree_cpu_us PID...: CPU µs used so far by the process trees rooted
# at the pids (each process's utime + stime + cutime + cstime, as
# bench/common/proc_cpu.hpp counts them), for a window measured from the shell
# (an anchor such as pgbench, whose own cost stays out).
tchat::bench_tree_cpu_us() {
  local hz
  hz="$(getconf CLK_TCK)"
  # (A process may end between the glob and its read: cat then fails, the rest counts.)
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v roots="$*" -v hz="$hz" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
    {
      pid = $1; rest = $0; sub(/.*\) /, "", rest); split(rest, f, " ")
      ppid[pid] = f[2]; ticks[pid] = f[12] + f[13] + f[14] + f[15]
    }
    END {
      for (changed = 1; changed;) {
        changed = 0
        for (p in ppid) if (!(p in want) && (ppid[p] in want)) { want[p] = 1; changed = 1 }
      }
      s = 0; for (p in want) if (p in ticks) s += ticks[p]
      printf "%.0f\n", s * 1e6 / hz
    }'
}

# tchat::bench_messaging_start PORT DATABASE_URL REDIS_PORT WORK BUILD: tchat-messaging
# in the background for a benchmark (tokens checked against WORK/jwks.json, rate
# limits out of the load's way, the payment consumer off), its log appended to
# WORK/service.log; the caller takes its pid from $!.
tchat::bench_messaging_start() {
  env -u JWKS_URL PORT="$1" DATABASE_URL="$2" \
    REDIS_URL="redis://127.0.0.1:$3/0" JWKS_FILE="$4/jwks.json" \
    TCHAT_THREADS=2 LOG_LEVEL=warn db_max_open_conns=40 messaging_payment_consumer=0 \
    messaging_rate_messages_per_minute=1000000000 messaging_rate_ws_connects_per_minute=1000000000 \
    messaging_rate_typing_per_minute=1000000000 messaging_rate_groups_per_hour=1000000000 \
    "$5/bin/tchat-messaging" >>"$4/service.log" 2>&1 </dev/null &
}
