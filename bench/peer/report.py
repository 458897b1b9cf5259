#!/usr/bin/env python3
"""Helpers of bench/peer_bench.sh.

  report.py tsung-latency FULLSTATS   count, p50, p99 and max (ms) of the
                                      xmpp_msg_latency samples tsung's fullstats
                                      backend wrote, one "key value" a line
  report.py summary RESULTS_TSV       the side-by-side table: the median of each
                                      figure over the runs, and the ratios
"""
import re
import statistics
import sys


def percentile(sorted_values, p):
    # The same rank as tchat-msg-loadgen's: the value at floor(p * n).
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, int(p * len(sorted_values)))
    return sorted_values[k]


def tsung_latency(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    values = sorted(
        float(v) for v in re.findall(r"\{sample,xmpp_msg_latency,([0-9.eE+-]+)\}", text)
    )
    print(f"samples {len(values)}")
    print(f"p50_ms {percentile(values, 0.50):.3f}")
    print(f"p99_ms {percentile(values, 0.99):.3f}")
    print(f"max_ms {percentile(values, 1.0):.3f}")


FIELDS = [
    ("offered_per_s", "offered messages/s", "{:.0f}"),
    ("sent", "messages sent", "{:.0f}"),
    ("persisted", "persisted (rows: Tchat messages, ejabberd archive / 2)", "{:.0f}"),
    ("delivered", "delivered (seen by the receiving client)", "{:.0f}"),
    ("delivered_per_s", "delivered messages/s", "{:.0f}"),
    ("p50_ms", "send->deliver p50 (ms)", "{:.2f}"),
    ("p99_ms", "send->deliver p99 (ms)", "{:.2f}"),
    ("server_cpu_ms", "server CPU in the window (ms)", "{:.0f}"),
    ("service_cpu_ms", "  of which the service (ms)", "{:.0f}"),
    ("pg_cpu_ms", "  of which PostgreSQL (ms)", "{:.0f}"),
    ("redis_cpu_ms", "  of which Redis (ms)", "{:.0f}"),
    ("window_s", "CPU window (s)", "{:.1f}"),
    ("idle_cpu_ms_per_s", "server CPU when idle, connected (ms/s)", "{:.1f}"),
    ("cpu_us_per_msg", "server CPU-us per persisted, delivered message", "{:.1f}"),
    ("cpu_us_per_msg_net", "  the same, net of idle CPU", "{:.1f}"),
    ("load_avg", "load average (1 min) at the start", "{:.2f}"),
]


def summary(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    header, rows = rows[0], rows[1:]
    by_side = {}
    for row in rows:
        rec = dict(zip(header, row))
        by_side.setdefault(rec["side"], []).append(rec)
    sides = ["tchat", "ejabberd"]
    med = {}
    for side in sides:
        runs = by_side.get(side, [])
        med[side] = {
            key: statistics.median(float(r[key]) for r in runs) if runs else float("nan")
            for key, _, _ in FIELDS
        }
    n = {side: len(by_side.get(side, [])) for side in sides}
    print(f"medians over {n['tchat']} Tchat and {n['ejabberd']} ejabberd runs")
    print(f"{'':56} {'Tchat':>12} {'ejabberd':>12}")
    for key, label, fmt in FIELDS:
        t, e = med["tchat"][key], med["ejabberd"][key]
        print(f"{label:56} {fmt.format(t):>12} {fmt.format(e):>12}")
    t, e = med["tchat"], med["ejabberd"]
    for key, what in (("cpu_us_per_msg", ""), ("cpu_us_per_msg_net", ", net of idle")):
        if e[key] > 0:
            print(f"CPU per message{what}, Tchat / ejabberd: {t[key] / e[key]:.2f} (goal < 0.50)")
    if e["p99_ms"] > 0:
        print(f"p99, Tchat / ejabberd: {t['p99_ms'] / e['p99_ms']:.2f} (goal < 1)")
    print("per run:")
    for row in rows:
        rec = dict(zip(header, row))
        print(
            f"  run {rec['run']} {rec['side']:8} cpu_us/msg {float(rec['cpu_us_per_msg']):8.1f}"
            f" (net {float(rec['cpu_us_per_msg_net']):8.1f})"
            f"  p99 {float(rec['p99_ms']):8.2f} ms  delivered/s {float(rec['delivered_per_s']):7.0f}"
            f"  load {rec['load_avg']}"
        )


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if sys.argv[1] == "tsung-latency":
        tsung_latency(sys.argv[2])
    elif sys.argv[1] == "summary":
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
