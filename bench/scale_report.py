"""Summary of a bench/scale.sh run (also runnable on a kept $WORK).

usage: scale_report.py FAKE_LOG SAMPLES METRICS T_LAUNCH T_STOP T_METRICS
       INTERVAL CPU_INTERVAL CPU_SECONDS TARGETS CLK_TCK HWM_KB BASE_RSS_KB
       METRICS_SECONDS

FAKE_LOG: bench/fakepprof's request log ("start_ms target kind status
duration_ms" per request). SAMPLES: "time ticks rss_kb threads" every 5 s.

Lateness: the scheduler fires slot s at T0 + phase_s + k x interval with
phase_s in [0, interval) for CPU profiles and [0, min(interval, 10 s)) for
the other kinds, skipping a turn while the slot's last
scrape is still queued or running. The phase is not logged, so it is
inferred: the largest phase (+1 s slack for T0 vs T_LAUNCH) for which every
scrape j can be given a turn k_j, strictly increasing, that was due no later
than the scrape started. Lateness = start - due. The largest consistent
phase gives the smallest lateness, so these are lower bounds, exact when at
least one scrape of the slot started on time.
"""
import collections
import math
import re
import statistics as st
import sys

(log_path, samples_path, metrics_path, t_launch, t_stop, t_metrics, interval,
 cpu_interval, cpu_seconds, targets, hz, hwm, base_rss,
 metrics_time) = sys.argv[1:]
t_launch, t_stop, t_metrics = float(t_launch), float(t_stop), float(t_metrics)
targets, hz, hwm, base_rss = int(targets), int(hz), int(hwm), int(base_rss)
KINDS = ["cpu", "heap", "allocs", "goroutine", "mutex", "block"]


def secs(d):
    m = re.fullmatch(r"(\d+)([smh])", d)
    return int(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2]]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * (len(xs) - 1)))] if xs else float("nan")


def lateness(xs, I, w):
    """Lateness of each start in xs (seconds after launch), see above."""
    candidates = sorted({x % I for x in xs if x % I < w} | {w - 1e-6}, reverse=True)
    for phase in candidates:
        out, k_prev = [], -1
        for x in xs:
            k = math.floor((x - phase) / I + 1e-9)
            if k <= k_prev or k < 0:
                break
            out.append(x - phase - k * I)
            k_prev = k
        else:
            return out
    return [0.0 for _ in xs]  # not reached: phase 0 with distinct turns always fits


iv = {k: secs(interval) for k in KINDS}
iv["cpu"] = secs(cpu_interval)
starts = collections.defaultdict(list)
status = collections.Counter()
events = []  # (time, +1/-1) of CPU fetches, for concurrency
for line in open(log_path):
    ms, t, kind, code, dur = line.split()
    if kind == "unknown":
        continue
    status[(kind, code)] += 1
    start = int(ms) / 1000
    starts[(int(t), kind)].append(start)
    if kind == "cpu" and code == "200":
        events += [(start, 1), (start + int(dur) / 1000, -1)]

run = t_stop - t_launch
print(f"-- schedule over {run:.0f} s. seen/ideal: scrapes started vs one per interval from the slot's phase;")
print("   gap: between successive starts of one slot (uneven: outside 0.5-1.5 x interval);")
print("   late: start minus when it was due (lower bound, see bench/scale_report.py); 1st: first start after launch")
print(f"   {'kind':9s} {'intv':>5s} {'scrapes':>8s} {'ideal':>7s} {'seen/ideal':>10s} {'gap p50':>8s} "
      f"{'gap max':>8s} {'uneven':>7s} {'late p50':>8s} {'late p90':>8s} {'late max':>8s} {'1st max':>8s} {'busy':>5s}")
for kind in KINDS:
    I = iv[kind]
    w = I if kind == "cpu" else min(I, 10)  # exporter/scrape/scheduler.cc FirstDelay
    seen = 0
    ideal = 0.0
    gaps, late, first = [], [], []
    uneven = 0
    for t in range(targets):
        s = sorted(starts.get((t, kind), []))
        seen += len(s)
        ideal += st.mean(math.floor((run - (j + 0.5) * w / 100) / I) + 1 for j in range(100))
        if not s:
            continue
        first.append(s[0] - t_launch)
        late += lateness([x - t_launch for x in s], I, w + 1.0)
        for a, b in zip(s, s[1:]):
            gaps.append(b - a)
            uneven += not (0.5 * I <= b - a <= 1.5 * I)
    print(f"   {kind:9s} {I:4d}s {seen:8d} {ideal:7.0f} {seen / ideal:10.3f} {pct(gaps, 50):7.1f}s "
          f"{max(gaps or [0]):7.1f}s {uneven:7d} {pct(late, 50):7.1f}s {pct(late, 90):7.1f}s "
          f"{max(late or [0]):7.1f}s {max(first or [0]):7.1f}s {status[(kind, '500')]:5d}")

events.sort()
cur = peak = 0
for _, d in events:
    cur += d
    peak = max(peak, cur)
print(f"   CPU profiles in flight at once: max {peak} (ideal average {targets * int(cpu_seconds) / iv['cpu']:.0f})")

ages = collections.defaultdict(list)
for line in open(metrics_path):
    m = re.match(r'pprof_last_success_timestamp_seconds\{(.*)\} (\S+)$', line)
    if m:
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[1]))
        ages[labels["profile"]].append(t_metrics - float(m[2]))
print("-- age of pprof_last_success_timestamp_seconds when /metrics was read at the end")
print("   (limit: interval + CPU seconds + 5 s)")
for kind in KINDS:
    a = ages.get(kind, [])
    limit = iv[kind] + (int(cpu_seconds) if kind == "cpu" else 0) + 5
    print(f"   {kind:9s} slots {len(a):5d}/{targets}  age p50 {pct(a, 50):6.1f}s  max {max(a or [0]):6.1f}s  "
          f"over {limit}s: {sum(1 for x in a if x > limit)}")

rows = [list(map(float, l.split())) for l in open(samples_path)]


def cpu_share(a, b):
    return (b[1] - a[1]) / hz / (b[0] - a[0])


whole = cpu_share(rows[0], rows[-1])
steady = [r for r in rows if r[0] - t_launch >= 120]
line = f"-- exporter: CPU {100 * whole:.1f}% of one core over the run"
if len(steady) >= 2:
    s = cpu_share(steady[0], steady[-1])
    line += f", {100 * s:.1f}% after the first 2 min = {s * 60e3 / targets:.1f} ms CPU per target per minute"
print(line)
rss = [r[2] for r in rows]
print(f"   RSS median {st.median(rss) / 1024:.1f} MiB, max sampled (every 5 s) {max(rss) / 1024:.1f} MiB, "
      f"peak (VmHWM, includes the final /metrics) {hwm / 1024:.1f} MiB; baseline (--version) {base_rss / 1024:.1f} MiB "
      f"-> {(st.median(rss) - base_rss) / targets:.0f} kB per target; threads {int(max(r[3] for r in rows))}")
size = sum(len(l) for l in open(metrics_path))
print(f"   /metrics at the end: {sum(1 for _ in open(metrics_path))} lines, {size / 1e6:.1f} MB, "
      f"served in {float(metrics_time) * 1000:.0f} ms")
