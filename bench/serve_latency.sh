#!/usr/bin/env bash
# Target 4 of docs/BENCHMARKS.md: /metrics latency with 57 targets
# configured (all six kinds, real fixture profiles from tests/testdata served
# by bench/fakepprof on one loopback port) while CPU profile fetches are in
# flight: cpu {interval: 15s, seconds: 14} keeps one in flight for every
# target 14 s of every 15 s; the other kinds are scraped every 15 s.
#
#   bench/serve_latency.sh
#
# Two phases, each with a fresh exporter:
#   small  every target serves the small fixtures;
#   large  target t0's CPU profile is the 16.8 MB large-cpu.pb.gz, so a
#          ~0.4 s decode+reduce lands in the middle of the load every 15 s.
# Per phase, after every slot has been scraped once:
#   1. wrk -t2 -c4 -d${WRK_SECONDS}s --latency: closed loop, as fast as it
#      goes; the achieved rate and its latency distribution;
#   2. bench/rateload at ${RATE}/s for ${RATE_SECONDS}s, open loop (latency
#      counted from when each request was due, like wrk2): the p99 at 500/s;
#   3. the same at ${LOW_RATE}/s: latency when the exporter keeps up;
#   4. with PERF=1, a 10 s `perf record` of the exporter under wrk.
# Exporter CPU (utime+stime) and RSS are read from /proc around each run.
# Environment: WRK_SECONDS (30), RATE (500), RATE_SECONDS (30), LOW_RATE (10),
# PHASES ("small large"), PPROF_EXPORTER, KEEP_WORK=1. About 3 minutes.
source "$(dirname "$0")/lib.sh"

WRK_SECONDS="${WRK_SECONDS:-30}"
RATE="${RATE:-500}"
RATE_SECONDS="${RATE_SECONDS:-30}"
LOW_RATE="${LOW_RATE:-10}"
PHASES="${PHASES:-small large}"
TARGETS=57
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

get_exporter
get_fakepprof
go_build "$BENCH_DIR/rateload" "$WORK/rateload"

# $1: fakepprof port, $2: file.
write_config() {
  {
    echo "global: {scrape_interval: 15s, scrape_timeout: 10s}"
    echo "targets:"
    for ((i = 0; i < TARGETS; i++)); do
      echo "  - name: t$i"
      echo "    url: http://127.0.0.1:$1/t$i/debug/pprof/"
      echo "    service_label: service"
      echo "    profiles: {cpu: {interval: 15s, seconds: 14}, heap: {}, allocs: {}, goroutine: {}, mutex: {}, block: {}}"
    done
  } >"$2"
}

SUMMARY="$WORK/summary.txt"
: >"$SUMMARY"

run_phase() {
  local phase=$1 large=0
  [[ $phase == large ]] && large=1
  local fport eport
  fport="$(free_port)"
  timeout 600 "$WORK/fakepprof" -listen "127.0.0.1:$fport" -targets "$TARGETS" \
    -fixtures "$REPO_DIR/tests/testdata" -large-cpu "$FIXTURES/large-cpu.pb.gz" \
    -large-targets "$large" -duration 9m -log "$WORK/fake-$phase.log" \
    >"$WORK/fake-$phase.out" 2>&1 &
  local fpid=$!
  STARTED_PIDS+=("$fpid")
  write_config "$fport" "$WORK/config-$phase.yml"
  eport="$(free_port)"
  timeout 600 "$WORK/pprof_exporter" --config.file="$WORK/config-$phase.yml" \
    --web.listen-address="127.0.0.1:$eport" --log.level=warn 2>"$WORK/exporter-$phase.log" &
  local tpid=$! epid
  STARTED_PIDS+=("$tpid")
  epid="$(child_pid "$tpid")"
  wait_http "$eport" /-/healthy 30
  # Every slot scraped once: first scrapes within 10 s, CPU ones 14 s later.
  log "[$phase] waiting for all $((TARGETS * 6)) slots to be up"
  local deadline=$((SECONDS + 90)) up=0
  while ((SECONDS < deadline)); do
    up="$(curl -fsS --max-time 5 "http://127.0.0.1:$eport/metrics" | grep -c '^pprof_up{.*} 1$' || true)"
    ((up >= TARGETS * 6)) && break
    sleep 2
  done
  local body
  body="$(curl -fsS "http://127.0.0.1:$eport/metrics" | wc -c)"
  local series
  series="$(curl -fsS "http://127.0.0.1:$eport/metrics" | grep -vc '^#')"
  local inflight
  inflight="$(ss -tn state established "( dport = :$fport )" 2>/dev/null | tail -n +2 | wc -l)"
  log "[$phase] up $up/$((TARGETS * 6)); /metrics $body bytes, $series series; $inflight fetches in flight"

  # Sequential single requests: plain, as Prometheus asks (gzip), and as
  # browsers and `curl --compressed` ask (br offered: httplib then prefers
  # brotli, which is slow, so only 5 of those).
  local enc n
  for enc in identity gzip br; do
    n=20
    [[ $enc == br ]] && n=5
    for ((i = 0; i < n; i++)); do
      curl -sS -o /dev/null -H "Accept-Encoding: $enc" -w '%{time_total} %{size_download}\n' \
        --max-time 10 "http://127.0.0.1:$eport/metrics"
    done >"$WORK/single-$enc-$phase.txt"
  done
  local c0 c1 c2 t0 t1 t2 load_wrk load_rate
  c0="$(cpu_ticks "$epid")"; t0="$(date +%s.%N)"
  load_wrk="$(load_now)"
  timeout $((WRK_SECONDS + 30)) wrk -t2 -c4 -d"${WRK_SECONDS}s" --latency \
    "http://127.0.0.1:$eport/metrics" >"$WORK/wrk-$phase.txt" 2>&1
  c1="$(cpu_ticks "$epid")"; t1="$(date +%s.%N)"
  load_rate="$(load_now)"
  timeout $((RATE_SECONDS + 60)) "$WORK/rateload" -url "http://127.0.0.1:$eport/metrics" \
    -rate "$RATE" -duration "${RATE_SECONDS}s" -conns 8 >"$WORK/rate-$phase.txt" 2>&1 || true
  c2="$(cpu_ticks "$epid")"; t2="$(date +%s.%N)"
  local load_low
  load_low="$(load_now)"
  timeout $((RATE_SECONDS + 60)) "$WORK/rateload" -url "http://127.0.0.1:$eport/metrics" \
    -rate "$LOW_RATE" -duration "${RATE_SECONDS}s" -conns 2 >"$WORK/low-$phase.txt" 2>&1 || true
  if [[ -n ${PERF:-} ]] && command -v perf >/dev/null; then
    log "[$phase] perf record of the exporter under wrk (10 s)"
    timeout 60 wrk -t2 -c4 -d12s "http://127.0.0.1:$eport/metrics" >/dev/null 2>&1 &
    local wpid=$!
    timeout 30 perf record -F 999 -g -o "$WORK/perf-$phase.data" -p "$epid" -- sleep 10 >/dev/null 2>&1 || true
    wait "$wpid" || true
    perf report -i "$WORK/perf-$phase.data" --no-children --sort dso,symbol -g none 2>/dev/null |
      grep '%' | head -25 >"$WORK/perf-$phase.txt" || true
  fi
  local rss hwm errors
  rss="$(rss_kb "$epid")"; hwm="$(hwm_kb "$epid")"
  errors="$(grep -c 'scrape failed' "$WORK/exporter-$phase.log" || true)"
  kill "$tpid" "$fpid" 2>/dev/null || true
  wait "$tpid" "$fpid" 2>/dev/null || true

  {
    echo "-- phase $phase: $TARGETS targets x 6 kinds, up $up/$((TARGETS * 6)), /metrics $body bytes ($series series), ~$inflight CPU fetches in flight"
    [[ $large == 1 ]] && echo "   t0's CPU profile is large-cpu.pb.gz (16.8 MB), decoded every 15 s during the load"
    for enc in identity gzip br; do
      sort -n "$WORK/single-$enc-$phase.txt" | awk -v enc="$enc" '{ t[NR] = $1; b = $2 }
        END { printf "   one request at a time, Accept-Encoding: %-8s median %.1f ms, max %.1f ms, %d bytes\n", enc, 1000 * t[int((NR + 1) / 2)], 1000 * t[NR], b }'
    done
    echo "   wrk -t2 -c4 -d${WRK_SECONDS}s --latency (load avg at start $load_wrk):"
    grep -E 'Requests/sec|Transfer/sec|Socket errors|Non-2xx' "$WORK/wrk-$phase.txt" | sed 's/^/     /'
    sed -n '/Latency Distribution/,/requests in/p' "$WORK/wrk-$phase.txt" | grep -E '%|requests in' | sed 's/^/     /'
    awk -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
      'BEGIN { printf "     exporter CPU during wrk: %.0f%% of one core\n", 100 * c / hz / (t1 - t0) }'
    echo "   rateload ${RATE}/s for ${RATE_SECONDS}s, open loop (load avg at start $load_rate):"
    sed 's/^/     /' "$WORK/rate-$phase.txt"
    awk -v c="$((c2 - c1))" -v t0="$t1" -v t1="$t2" -v hz="$CLK_TCK" \
      'BEGIN { printf "     exporter CPU at %s/s: %.0f%% of one core\n", "'"$RATE"'", 100 * c / hz / (t1 - t0) }'
    echo "   rateload ${LOW_RATE}/s for ${RATE_SECONDS}s, open loop (load avg at start $load_low):"
    sed 's/^/     /' "$WORK/low-$phase.txt"
    [[ -s $WORK/perf-$phase.txt ]] && { echo "   perf, exporter under wrk (self time):"; cut -c1-140 "$WORK/perf-$phase.txt" | sed 's/^/     /'; }
    echo "   exporter RSS at end $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB; scrape failures logged: $errors"
  } >>"$SUMMARY"
}

for phase in $PHASES; do run_phase "$phase"; done
echo
echo "== serve_latency ($(machine_info)); load avg now $(load_now)"
cat "$SUMMARY"
