# shellcheck shell=bash disable=SC2034
# Shared helpers for the bench/*.sh scripts; sourced, not run.
#
# Every script works in its own temp directory ($WORK), copies the binaries
# it measures there (so a concurrent `bazel build` cannot swap them
# mid-run), and kills only the processes it started (by PID) on exit.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
FIXTURES="${PPROF_FIXTURES:-$REPO_DIR/../shared/fixtures}"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pprof-bench.XXXXXX")"
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]:-}"; do
    if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${STARTED_PIDS[@]:-}"; do
    if [[ -n $pid ]]; then wait "$pid" 2>/dev/null || true; fi
  done
  if [[ -z ${KEEP_WORK:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

load_now() { cut -d' ' -f1-3 /proc/loadavg; }

# Copies the opt-built exporter to $WORK/pprof_exporter, building it unless
# $PPROF_EXPORTER names a binary to use instead.
get_exporter() {
  if [[ -n ${PPROF_EXPORTER:-} ]]; then
    cp "$PPROF_EXPORTER" "$WORK/pprof_exporter"
  else
    log "bazel build -c opt //exporter:pprof_exporter"
    (cd "$REPO_DIR" && timeout 1800 bazel build -c opt //exporter:pprof_exporter) >"$WORK/build.log" 2>&1 ||
      { tail -20 "$WORK/build.log"; exit 1; }
    # bazel info waits for the server lock while another bazel command runs;
    # bazel-out/k8-opt/bin is where it points on x86-64 Linux.
    local bin
    bin="$(cd "$REPO_DIR" && timeout 120 bazel info -c opt bazel-bin 2>/dev/null)" ||
      bin="$REPO_DIR/bazel-out/k8-opt/bin"
    cp "$bin/exporter/pprof_exporter" "$WORK/pprof_exporter"
    log "measuring $bin/exporter/pprof_exporter (git $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- profile exporter || echo ', with uncommitted changes in profile/ or exporter/'))"
  fi
  chmod u+w "$WORK/pprof_exporter"
}

# go build in GOPATH mode against Debian's golang-github-google-pprof-dev;
# HOME and GOCACHE stay inside $WORK. $1: package dir, $2: output.
go_build() {
  (cd "$1" && HOME="$WORK/home" GOCACHE="$WORK/gocache" GOPATH=/usr/share/gocode \
    GO111MODULE=off GOFLAGS='' timeout 600 go build -o "$2" .)
}

# Builds tests/demo (the Go demo service) to $WORK/demo.
get_demo() { go_build "$REPO_DIR/tests/demo" "$WORK/demo"; }

# Builds bench/fakepprof to $WORK/fakepprof.
get_fakepprof() { go_build "$BENCH_DIR/fakepprof" "$WORK/fakepprof"; }

# A free loopback TCP port.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until http://127.0.0.1:$1$2 answers 200, at most $3 seconds.
wait_http() {
  local deadline=$((SECONDS + ${3:-30}))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1$2" 2>/dev/null; do
    ((SECONDS < deadline)) || { log "no answer from 127.0.0.1:$1$2"; return 1; }
    sleep 0.2
  done
}

# utime+stime of a process in clock ticks (children not included).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Resident set size and its peak (VmHWM), in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
CLK_TCK="$(getconf CLK_TCK)"

machine_info() {
  echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.1f GB", $2/1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
}

# Processes are started as `timeout N CMD &`, so $! is timeout's PID (kill
# that one: timeout passes the signal on). The measured process is its
# child: prints the child's PID.
child_pid() {
  local t=$1 c i
  for ((i = 0; i < 100; i++)); do
    c="$(cat "/proc/$t/task/$t/children" 2>/dev/null || true)"
    if [[ -n $c ]]; then echo "${c%% *}"; return; fi
    sleep 0.05
  done
  echo "$t"
}
