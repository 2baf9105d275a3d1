#!/usr/bin/env bash
# The live demo (README's first command): builds everything, starts the Go
# demo service (8 services in one process, like tsnsrv) and the exporter on
# loopback, and prints the headline metrics every 15 s until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
bazel build -c opt //exporter:pprof_exporter //tests/demo:demo >&2
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() {  # wait_for FILE PATTERN: print the first match within 30 s
  for _ in $(seq 300); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -oE "$2" "$1" | head -1; return; fi
    sleep 0.1
  done
  echo "demo: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}

"$bin/tests/demo/demo" -listen 127.0.0.1:0 >"$work/demo.log" 2>&1 &
pids+=($!)
demo=$(wait_for "$work/demo.log" '127\.0\.0\.1:[0-9]+')

cat >"$work/config.yml" <<YAML
global: {scrape_interval: 15s, scrape_timeout: 5s}
targets:
  - name: demo
    url: http://$demo/debug/pprof/
    service_label: service
    profiles:
      cpu: {interval: 15s, seconds: 5}
      goroutine: {interval: 5s, timeout: 5s}
      heap: {}
      allocs: {}
      mutex: {}
      block: {}
YAML
listen=127.0.0.1:10066
if (exec 3<>/dev/tcp/127.0.0.1/10066) 2>/dev/null; then listen=127.0.0.1:0; fi
"$bin/exporter/pprof_exporter" --config.file="$work/config.yml" \
  --web.listen-address="$listen" 2>"$work/exporter.log" &
pids+=($!)
exporter=$(wait_for "$work/exporter.log" 'address=127\.0\.0\.1:[0-9]+' | cut -d= -f2)

echo "Go demo service:  http://$demo/debug/pprof/"
echo "pprof_exporter:   http://$exporter/  (metrics at /metrics)"
echo "Waiting for the first CPU profile (5 s)..."
for _ in $(seq 300); do
  curl -sf "http://$exporter/metrics" | grep -q '^pprof_cpu_gc_ratio' && break
  sleep 0.1
done
while :; do
  curl -sf "http://$exporter/metrics" | python3 scripts/headline.py
  echo "(refreshing every 15 s; Ctrl-C stops the demo)"
  sleep 15
done
