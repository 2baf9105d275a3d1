#!/usr/bin/env bash
# Target 5 of docs/BENCHMARKS.md: one exporter, TARGETS (1000) targets, all
# six kinds, does it keep its schedule? The targets are one bench/fakepprof
# process serving tests/testdata's fixtures under /t<i>/debug/pprof/ (CPU
# profiles answer after `seconds`, like Go); its request log tells when each
# scrape of each target and kind started.
#
#   bench/scale.sh
#
# Environment (defaults): TARGETS (1000), DURATION seconds (360), INTERVAL
# (30s: heap, allocs, goroutine, mutex, block), CPU_INTERVAL (60s),
# CPU_SECONDS (10), PPROF_EXPORTER, KEEP_WORK=1. Bounded by DURATION + ~1 min.
#
# Reports (bench/scale_report.py), per kind: scrapes seen vs the ideal count,
# gaps between successive scrapes of one slot (a skipped turn is a gap near
# 2x the interval), how late each scrape started against its due time (a
# lower bound: the slot's phase is inferred), the most CPU profiles in flight
# at once, and the ages of pprof_last_success_timestamp_seconds at the end;
# plus the exporter's CPU (whole run and after the first 2 minutes), RSS and
# threads, per target. With KEEP_WORK=1, `python3 bench/scale_report.py
# $(cat $WORK/report_args)` re-runs the report.
source "$(dirname "$0")/lib.sh"

TARGETS="${TARGETS:-1000}"
DURATION="${DURATION:-360}"
INTERVAL="${INTERVAL:-30s}"
CPU_INTERVAL="${CPU_INTERVAL:-60s}"
CPU_SECONDS="${CPU_SECONDS:-10}"

get_exporter
get_fakepprof

fport="$(free_port)"
timeout $((DURATION + 300)) "$WORK/fakepprof" -listen "127.0.0.1:$fport" -targets "$TARGETS" \
  -fixtures "$REPO_DIR/tests/testdata" -duration "$((DURATION + 240))s" -log "$WORK/fake.log" \
  >"$WORK/fake.out" 2>&1 &
fpid=$!
STARTED_PIDS+=("$fpid")
wait_http "$fport" /t0/debug/pprof/heap 30

{
  echo "global: {scrape_interval: $INTERVAL, scrape_timeout: 10s}"
  echo "targets:"
  for ((i = 0; i < TARGETS; i++)); do
    echo "  - {name: t$i, url: 'http://127.0.0.1:$fport/t$i/debug/pprof/', service_label: service,"
    echo "     profiles: {cpu: {interval: $CPU_INTERVAL, seconds: $CPU_SECONDS}, heap: {}, allocs: {}, goroutine: {}, mutex: {}, block: {}}}"
  done
} >"$WORK/config.yml"

eport="$(free_port)"
LOAD_START="$(load_now)"
T_LAUNCH="$(date +%s.%N)"
timeout $((DURATION + 120)) "$WORK/pprof_exporter" --config.file="$WORK/config.yml" \
  --web.listen-address="127.0.0.1:$eport" --log.level=info 2>"$WORK/exporter.log" &
tpid=$!
STARTED_PIDS+=("$tpid")
epid="$(child_pid "$tpid")"
wait_http "$eport" /-/healthy 60
log "exporter pid $epid: $TARGETS targets, $(grep -o 'workers=[0-9]*' "$WORK/exporter.log" | tail -1); running ${DURATION}s (load $LOAD_START)"

# Samples every 5 s: time, utime+stime ticks, RSS kB, threads.
: >"$WORK/samples.txt"
end=$((SECONDS + DURATION))
while ((SECONDS < end)); do
  kill -0 "$epid" 2>/dev/null || { log "exporter died"; tail "$WORK/exporter.log"; exit 1; }
  echo "$(date +%s.%N) $(cpu_ticks "$epid") $(rss_kb "$epid") $(awk '/^Threads:/ { print $2 }' "/proc/$epid/status")" >>"$WORK/samples.txt"
  sleep 5
done
LOAD_END="$(load_now)"
T_METRICS="$(date +%s.%N)"
curl -fsS --max-time 30 -o "$WORK/metrics.txt" -w '%{time_total}\n' "http://127.0.0.1:$eport/metrics" >"$WORK/metrics_time.txt"
HWM="$(hwm_kb "$epid")"
T_STOP="$(date +%s.%N)"
kill "$tpid"; wait "$tpid" 2>/dev/null || true
sleep 1  # let fakepprof log the CPU profiles the exporter abandoned
kill "$fpid"; wait "$fpid" 2>/dev/null || true
BASE_RSS="$(/usr/bin/time -f %M "$WORK/pprof_exporter" --version 2>&1 >/dev/null)"

echo
echo "== scale: $TARGETS targets x 6 kinds on one exporter for ${DURATION}s ($(machine_info))"
echo "   intervals: cpu $CPU_INTERVAL (seconds=$CPU_SECONDS), others $INTERVAL; load avg start $LOAD_START, end $LOAD_END"
echo "   $(grep -o 'workers=[0-9]*' "$WORK/exporter.log" | tail -1) worker threads; fakepprof: $(tail -1 "$WORK/fake.out")"
REPORT_ARGS=("$WORK/fake.log" "$WORK/samples.txt" "$WORK/metrics.txt" "$T_LAUNCH" "$T_STOP" "$T_METRICS"
  "$INTERVAL" "$CPU_INTERVAL" "$CPU_SECONDS" "$TARGETS" "$CLK_TCK" "$HWM" "$BASE_RSS"
  "$(cat "$WORK/metrics_time.txt")")
printf '%q ' "${REPORT_ARGS[@]}" >"$WORK/report_args"  # to re-run scale_report.py on a kept $WORK
"$PY" "$BENCH_DIR/scale_report.py" "${REPORT_ARGS[@]}"
