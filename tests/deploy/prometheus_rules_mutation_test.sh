#!/usr/bin/env bash
# The unit tests in alerts_test.yml are only worth something if they fail
# when an alert changes. Apply small edits to a copy of alerts.yml, one at a
# time, and require `promtool test rules` to fail for each.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
P="$DEPLOY/prometheus"

if ! need promtool; then
  fail "promtool not found (Debian package: prometheus)"
  finish; exit
fi

# Unmodified copy must pass, or every mutation below "fails" for nothing.
cp "$P/alerts_test.yml" "$TMP/alerts_test.yml"
cp "$P/alerts.yml" "$TMP/alerts.yml"
run "baseline copy passes" promtool test rules "$TMP/alerts_test.yml"

# Each line: description | text in alerts.yml | replacement [| which
# occurrence, default 1].
mutations=(
  'goroutines threshold raised|pprof_goroutines_per_service > 10|pprof_goroutines_per_service > 11'
  'goroutines comparison made inclusive|pprof_goroutines_per_service > 10|pprof_goroutines_per_service >= 10'
  'GC threshold raised|pprof_cpu_gc_ratio * 0) > 0.05|pprof_cpu_gc_ratio * 0) > 0.07'
  'GC threshold lowered|pprof_cpu_gc_ratio * 0) > 0.05|pprof_cpu_gc_ratio * 0) > 0.04'
  'GC idle marking not subtracted|pprof_cpu_gc_ratio - (pprof_cpu_gc_idle_ratio or pprof_cpu_gc_ratio * 0) > 0.05|pprof_cpu_gc_ratio > 0.05'
  'GC without idle series no longer counts idle as 0|(pprof_cpu_gc_idle_ratio or pprof_cpu_gc_ratio * 0)|pprof_cpu_gc_idle_ratio'
  'stuck threshold raised|pprof_goroutines_stuck > 10|pprof_goroutines_stuck > 11'
  'stuck comparison inclusive|pprof_goroutines_stuck > 10|pprof_goroutines_stuck >= 10'
  'stuck for: shortened|for: 15m|for: 10m|2'
  'leak threshold raised|pprof_goroutine_leaks > 0|pprof_goroutine_leaks > 2'
  'leak for: shortened|for: 5m|for: 3m|2'
  'growing threshold raised|[6h]) > 10|[6h]) > 20'
  'growing window shortened|pprof_goroutines_per_service[6h]|pprof_goroutines_per_service[3h]'
  'growing for: dropped|for: 1h|for: 0s'
  'GC busy-CPU guard dropped|pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds > 0.05|pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds >= 0|1'
  'hot-function busy-CPU guard dropped|pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds > 0.05|pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds >= 0|2'
  'join loses instance|and on (job, instance, target)|and on (target)'
  'profiler_busy exclusion dropped|[15m]) > 0|[15m]) > 1000'
  'target-down for shortened|for: 10m|for: 5m'
  'profiler-busy threshold inclusive|reason="profiler_busy"}[15m]) > 3|reason="profiler_busy"}[15m]) >= 3'
  'profiler-busy reason filter dropped|{profile="cpu", reason="profiler_busy"}|{profile="cpu"}'
  'hot function threshold raised|pprof_cpu_flat_ratio > 0.1|pprof_cpu_flat_ratio > 0.12'
  'hot function comparison inclusive|pprof_cpu_flat_ratio > 0.1|pprof_cpu_flat_ratio >= 0.1'
  'exporter job filter dropped|up{job="pprof-exporter"} == 0|up == 0'
  'goroutines for: shortened|for: 30m|for: 20m|1'
  'GC for: shortened|for: 30m|for: 20m|2'
  'hot function for: shortened|for: 30m|for: 20m|3'
  'severity changed|severity: info|severity: critical'
  'summary changed|goroutines per service"|goroutines/service"'
)

for m in "${mutations[@]}"; do
  IFS='|' read -r desc from to nth <<<"$m"
  if ! python3 - "$P/alerts.yml" "$TMP/alerts.yml" "$from" "$to" "${nth:-1}" <<'PY'
import sys
src, dst, old, new, nth = sys.argv[1:]
text = open(src).read()
parts = text.split(old)
n = int(nth)
if len(parts) <= n:
    sys.exit(f"occurrence {n} of {old!r} not found in alerts.yml")
open(dst, "w").write(old.join(parts[:n]) + new + old.join(parts[n:]))
PY
  then
    fail "mutation '$desc' no longer applies; update this test"
    continue
  fi
  run_fails "unit tests catch: $desc" promtool test rules "$TMP/alerts_test.yml"
done

finish
