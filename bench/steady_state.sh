#!/usr/bin/env bash
# Target 3 of docs/BENCHMARKS.md: the exporter's steady-state cost, and the
# cost it imposes on the processes it profiles.
#
#   bench/steady_state.sh
#
# Phase 1 (DURATION, default 600 s): TARGETS (57) light demo processes
# (tests/demo -load=false: services only, no CPU burners, GC churn, mutex or
# blocking loops), one per port, each one target with all six kinds at the
# DEFAULT settings (interval 60 s, CPU seconds 10), plus CONTROLS (3) light
# demos nobody scrapes. Reads from /proc: the exporter's utime+stime and RSS
# (sampled every 5 s), and every demo's CPU over the window; scraped minus
# control demos is what being scraped costs a light target.
#
# Phase 2 (A/B, about 5 minutes): for one light and one loaded demo (the
# default -load=true, ~20 % of a core), REPEATS (5) rounds of: a 10 s idle
# window, `curl profile?seconds=10`, `curl profile?seconds=5`, and one fetch
# of each snapshot profile (heap, allocs, goroutine, mutex, block); the cost
# of a fetch is the CPU beyond the idle rate while it ran.
# CPU is summed over the demo's threads from /proc/PID/task/*/schedstat (ns).
# Then the overhead of the default schedule (one 10 s CPU profile + 5
# snapshots per 60 s) is computed, and the same for alternative defaults.
#
# Prometheus is played by a GET of /metrics with Accept-Encoding: gzip every
# METRICS_EVERY seconds (15; 0 turns it off), so the exporter's figures
# include serving.
#
# Environment: TARGETS, CONTROLS, DURATION, REPEATS, PHASES ("1 2"),
# PPROF_EXPORTER, KEEP_WORK=1; INTERVAL and CPU_SECONDS replace the default
# schedule in phase 1 (e.g. INTERVAL=5s CPU_SECONDS=2: 12x the default scrape
# rate, to see where RSS settles sooner). Bounded: every process runs under
# timeout.
source "$(dirname "$0")/lib.sh"

TARGETS="${TARGETS:-57}"
CONTROLS="${CONTROLS:-3}"
DURATION="${DURATION:-600}"
REPEATS="${REPEATS:-5}"
PHASES="${PHASES:-1 2}"
INTERVAL="${INTERVAL:-}"        # empty: the defaults (60 s, CPU 10 s)
CPU_SECONDS="${CPU_SECONDS:-10}"
METRICS_EVERY="${METRICS_EVERY:-15}"  # seconds between /metrics GETs; 0: none

get_exporter
get_demo

# CPU time of all threads of a process, in ns (finer than /proc/PID/stat).
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# Starts a demo on a free port; sets DEMO_PID and DEMO_PORT. $1: name, $2...: flags.
start_demo() {
  local name=$1
  shift
  timeout $((DURATION + 900)) "$WORK/demo" -listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>&1 &
  STARTED_PIDS+=("$!")
  DEMO_PID="$(child_pid "$!")"
  local deadline=$((SECONDS + 30))
  until grep -q '^listening on' "$WORK/$name.out" 2>/dev/null; do
    ((SECONDS < deadline)) || { log "demo $name did not start"; cat "$WORK/$name.out"; exit 1; }
    sleep 0.1
  done
  DEMO_PORT="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/$name.out")"
}

SUMMARY="$WORK/summary.txt"
: >"$SUMMARY"

phase1() {
  local pids=() ports=() cpids=() i
  log "phase 1: starting $TARGETS scraped + $CONTROLS control light demos"
  for ((i = 0; i < TARGETS; i++)); do
    start_demo "demo$i" -load=false
    pids+=("$DEMO_PID"); ports+=("$DEMO_PORT")
  done
  for ((i = 0; i < CONTROLS; i++)); do
    start_demo "control$i" -load=false
    cpids+=("$DEMO_PID")
  done
  {
    local profiles=""
    if [[ -n $INTERVAL ]]; then  # not the defaults: e.g. an accelerated run
      echo "global: {scrape_interval: $INTERVAL, scrape_timeout: $INTERVAL}"
      profiles=", profiles: {cpu: {interval: $INTERVAL, seconds: $CPU_SECONDS}, heap: {}, allocs: {}, goroutine: {}, mutex: {}, block: {}}"
    fi
    echo "targets:"
    for ((i = 0; i < TARGETS; i++)); do
      echo "  - {name: demo$i, url: 'http://127.0.0.1:${ports[$i]}/debug/pprof/', service_label: service$profiles}"
    done
  } >"$WORK/config.yml"
  sleep 5  # let the demos settle
  local eport
  eport="$(free_port)"
  local load_start
  load_start="$(load_now)"
  local t0 d0=() c0=()
  t0="$(date +%s.%N)"
  for i in "${pids[@]}"; do d0+=("$(cpu_ticks "$i")"); done
  for i in "${cpids[@]}"; do c0+=("$(cpu_ticks "$i")"); done
  timeout $((DURATION + 120)) "$WORK/pprof_exporter" --config.file="$WORK/config.yml" \
    --web.listen-address="127.0.0.1:$eport" 2>"$WORK/exporter.log" &
  STARTED_PIDS+=("$!")
  local tpid=$! epid
  epid="$(child_pid "$!")"
  wait_http "$eport" /-/healthy 30
  log "phase 1: exporter pid $epid, $TARGETS targets, ${INTERVAL:-default} intervals, ${DURATION}s (load $load_start)"
  : >"$WORK/samples.txt"
  local end=$((SECONDS + DURATION)) next_status=$((SECONDS + 60)) next_metrics=$SECONDS scrapes=0
  while ((SECONDS < end)); do
    kill -0 "$epid" 2>/dev/null || { log "exporter died"; tail "$WORK/exporter.log"; exit 1; }
    if ((METRICS_EVERY > 0 && SECONDS >= next_metrics)); then  # like Prometheus
      # Prometheus asks for gzip only. (`curl --compressed` would also offer
      # br, which httplib then prefers: ~0.85 s of CPU per request here.)
      curl -fsS --max-time 10 -o /dev/null -H 'Accept-Encoding: gzip' \
        "http://127.0.0.1:$eport/metrics" && scrapes=$((scrapes + 1))
      next_metrics=$((SECONDS + METRICS_EVERY))
    fi
    echo "$(date +%s.%N) $(cpu_ticks "$epid") $(rss_kb "$epid") $(load_now | cut -d' ' -f1)" >>"$WORK/samples.txt"
    if ((SECONDS >= next_status)); then
      log "phase 1: $((DURATION - (end - SECONDS)))s, exporter RSS $(($(rss_kb "$epid") / 1024)) MiB"
      next_status=$((SECONDS + 60))
    fi
    sleep 5
  done
  local t1 d1=() c1=()
  t1="$(date +%s.%N)"
  for i in "${pids[@]}"; do d1+=("$(cpu_ticks "$i")"); done
  for i in "${cpids[@]}"; do c1+=("$(cpu_ticks "$i")"); done
  curl -fsS --max-time 10 "http://127.0.0.1:$eport/metrics" >"$WORK/metrics.txt" || true
  local hwm
  hwm="$(hwm_kb "$epid")"
  kill "$epid"; wait "$tpid" 2>/dev/null || true
  kill "${pids[@]}" "${cpids[@]}" 2>/dev/null || true
  wait "${STARTED_PIDS[@]}" 2>/dev/null || true
  local sched="default intervals (60 s, CPU 10 s)"
  [[ -z $INTERVAL ]] || sched="every $INTERVAL (CPU $CPU_SECONDS s)"
  if ((METRICS_EVERY > 0)); then sched+="; /metrics every ${METRICS_EVERY} s ($scrapes GETs)"; else sched+="; no /metrics load"; fi
  local base_rss
  base_rss="$(/usr/bin/time -f %M "$WORK/pprof_exporter" --version 2>&1 >/dev/null)"
  local demo_deltas="" ctrl_deltas=""
  for ((i = 0; i < ${#pids[@]}; i++)); do demo_deltas+="$((d1[i] - d0[i])) "; done
  for ((i = 0; i < ${#cpids[@]}; i++)); do ctrl_deltas+="$((c1[i] - c0[i])) "; done
  "$PY" - "$WORK/samples.txt" "$WORK/metrics.txt" "$t0" "$t1" "$CLK_TCK" "$hwm" "$base_rss" \
    "$demo_deltas" "$ctrl_deltas" "$load_start" "$(load_now)" "$TARGETS" "$DURATION" \
    "$sched" >>"$SUMMARY" <<'EOF'
import re, statistics as st, sys
(samples, metrics, t0, t1, hz, hwm, base, demo, ctrl, load0, load1, targets, duration, sched) = sys.argv[1:]
t0, t1, hz, hwm, base, targets = float(t0), float(t1), int(hz), int(hwm), int(base), int(targets)
rows = [list(map(float, l.split())) for l in open(samples)]
def share(a, b): return (b[1] - a[1]) / hz / (b[0] - a[0])
whole = share(rows[0], rows[-1])
after = [r for r in rows if r[0] - rows[0][0] >= 60]
rss = [r[2] / 1024 for r in rows]
up = errors = 0
for line in open(metrics):
    if line.startswith("pprof_up{"): up += line.rstrip().endswith(" 1")
    if line.startswith("pprof_scrape_errors_total{") and not line.rstrip().endswith(" 0"): errors += 1
print(f"-- phase 1: {targets} light demos x 6 kinds at {sched}, {duration} s")
print(f"   load avg at start {load0}, at end {load1}; median 1-min load during the run {st.median(r[3] for r in rows):.2f}")
print(f"   exporter CPU {100*whole:.3f}% of one core over the whole run"
      + (f", {100*share(after[0], after[-1]):.3f}% after the first minute" if len(after) > 1 else "")
      + f"  (target < 0.5%: {'MET' if whole < 0.005 else 'MISSED'})")
print(f"   exporter RSS mean {st.mean(rss):.1f} MiB, max sampled {max(rss):.1f} MiB, peak (VmHWM, incl. a final /metrics) {hwm/1024:.1f} MiB"
      f"  (target < 40 MB: {'MET' if max(hwm/1024, max(rss)) * 1.048576 < 40 else 'MISSED'}); "
      f"--version baseline {base/1024:.1f} MiB")
print(f"   at the end: pprof_up=1 for {up} of {targets*6} slots; non-zero error counters: {errors}")
step = max(1, len(rows) // 10)
print("   RSS over time (min: MiB): " + ", ".join(f"{(r[0]-rows[0][0])/60:.0f}: {r[2]/1024:.1f}" for r in rows[::step]))
d = [int(x) / hz / (t1 - t0) for x in demo.split()]
c = [int(x) / hz / (t1 - t0) for x in ctrl.split()]
if d and c:
    print(f"   demo CPU, % of one core (median [min..max]): scraped {100*st.median(d):.3f} [{100*min(d):.3f}..{100*max(d):.3f}], "
          f"unscraped controls {100*st.median(c):.3f} [{100*min(c):.3f}..{100*max(c):.3f}]")
    diff = st.median(d) - st.median(c)
    print(f"   -> being scraped costs a light demo {100*diff:.3f}% of one core ({diff*60*1000:.0f} ms CPU per minute)")
EOF
}

phase2() {
  log "phase 2: A/B of profiling cost on a light and a loaded demo"
  local kind pid port r
  for kind in light loaded; do
    if [[ $kind == light ]]; then start_demo ab-light -load=false; else start_demo ab-loaded; fi
    pid=$DEMO_PID; port=$DEMO_PORT
    sleep 3
    : >"$WORK/ab-$kind.txt"
    for ((r = 0; r < REPEATS; r++)); do
      # idle 10 s
      local a b ta tb
      a="$(cpu_ns "$pid")"; ta="$(date +%s%N)"
      sleep 10
      b="$(cpu_ns "$pid")"; tb="$(date +%s%N)"
      echo "idle $((b - a)) $((tb - ta))" >>"$WORK/ab-$kind.txt"
      # a 10 s CPU profile, as the exporter fetches it
      a="$(cpu_ns "$pid")"; ta="$(date +%s%N)"
      curl -fsS --max-time 30 -o "$WORK/cpu-$kind.pb.gz" "http://127.0.0.1:$port/debug/pprof/profile?seconds=10"
      b="$(cpu_ns "$pid")"; tb="$(date +%s%N)"
      echo "cpu $((b - a)) $((tb - ta))" >>"$WORK/ab-$kind.txt"
      # and a 5 s one
      a="$(cpu_ns "$pid")"; ta="$(date +%s%N)"
      curl -fsS --max-time 30 -o "$WORK/cpu5-$kind.pb.gz" "http://127.0.0.1:$port/debug/pprof/profile?seconds=5"
      b="$(cpu_ns "$pid")"; tb="$(date +%s%N)"
      echo "cpu5 $((b - a)) $((tb - ta))" >>"$WORK/ab-$kind.txt"
      # one of each snapshot profile
      local snap
      for snap in heap allocs goroutine mutex block; do
        a="$(cpu_ns "$pid")"; ta="$(date +%s%N)"
        curl -fsS --max-time 10 -o "$WORK/$snap-$kind.pb.gz" "http://127.0.0.1:$port/debug/pprof/$snap"
        b="$(cpu_ns "$pid")"; tb="$(date +%s%N)"
        echo "$snap $((b - a)) $((tb - ta))" >>"$WORK/ab-$kind.txt"
      done
      sleep 1
    done
    kill "$pid"; wait "${STARTED_PIDS[-1]}" 2>/dev/null || true
  done
  "$PY" - "$WORK/ab-light.txt" "$WORK/ab-loaded.txt" "$(load_now)" >>"$SUMMARY" <<'EOF'
import collections, statistics as st, sys
print(f"-- phase 2: profiling cost per fetch, A/B on one demo (load avg at end {sys.argv[3]}); medians")
for path, name in [(sys.argv[1], "light (-load=false)"), (sys.argv[2], "loaded (default load)")]:
    rows = collections.defaultdict(list)
    for line in open(path):
        k, ns, wall = line.split()
        rows[k].append((int(ns), int(wall)))
    idle_rate = st.median(ns / wall for ns, wall in rows["idle"])  # cores
    def extra(k):  # CPU beyond the idle rate during the fetch, ms
        return st.median((ns - idle_rate * wall) / 1e6 for ns, wall in rows[k])
    cpu, cpu5 = extra("cpu"), extra("cpu5")
    snaps = {k: extra(k) for k in ["heap", "allocs", "goroutine", "mutex", "block"]}
    snap_sum = sum(snaps.values())
    print(f"   {name}: own CPU {100*idle_rate:.2f}% of a core; a 10 s CPU profile costs {cpu:.1f} ms extra "
          f"({100*cpu/1e3/10/max(idle_rate,1e-9):.1f}% of its own CPU during the window), a 5 s one {cpu5:.1f} ms; snapshots "
          + ", ".join(f"{k} {v:.2f}" for k, v in snaps.items()) + f" ms (sum {snap_sum:.1f} ms)")
    for label, cpu_ms, period in [("default: 10 s CPU every 60 s + 5 snapshots/60 s", cpu, 60),
                                  ("10 s CPU every 120 s, snapshots every 60 s", cpu / 2, 60),
                                  ("5 s CPU every 60 s, snapshots every 60 s", cpu5, 60)]:
        per_s = (cpu_ms + snap_sum) / period / 1e3  # cores
        print(f"     {label}: {100*per_s:.3f}% of a core = {100*per_s/max(idle_rate,1e-9):.2f}% of the target's own CPU")
EOF
}

for p in $PHASES; do "phase$p"; done
echo
echo "== steady_state ($(machine_info))"
cat "$SUMMARY"
