#!/usr/bin/env bash
# Black-box tests of `pprof_exporter reduce`: exit codes and error lines,
# promtool lint of the exposition, labels/HELP/TYPE and values (the value
# checks live in reduce_output_checks.py), and label escaping with a
# generated profile whose function names and label values need escaping.
#
# Runs under `bazel test //tests/cli:reduce_cli_test`, or by hand after
# `bazel build //exporter:pprof_exporter`: tests/cli/reduce_cli_test.sh
# Overrides: PPROF_EXPORTER (binary), PPROF_TESTDATA (fixtures), PROMTOOL.
set -u

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  ROOT="$TEST_SRCDIR/${TEST_WORKSPACE:-pprof_exporter}"
else
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fi
HERE="$ROOT/tests/cli"
# shellcheck source=../lib/skip.sh
source "$ROOT/tests/lib/skip.sh"
BIN="${PPROF_EXPORTER:-$ROOT/exporter/pprof_exporter}"
[[ -x "$BIN" ]] || BIN="$ROOT/bazel-bin/exporter/pprof_exporter"
TD="${PPROF_TESTDATA:-$ROOT/tests/testdata}"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
PROMTOOL="${PROMTOOL:-/usr/bin/promtool}"
export PPROF_EXPORTER="$BIN" PPROF_TESTDATA="$TD"

[[ -x "$BIN" ]] || { echo "FATAL: no pprof_exporter binary at $BIN"; exit 1; }
[[ -f "$TD/cpu.pb.gz" ]] || { echo "FATAL: no fixtures in $TD"; exit 1; }

FAILURES=0
CHECKS=0
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { CHECKS=$((CHECKS + 1)); }
assert() {  # assert DESCRIPTION COMMAND...
  local desc="$1"; shift
  CHECKS=$((CHECKS + 1))
  if ! "$@"; then fail "$desc"; fi
}

# run OUTPREFIX ARGS...: runs `pprof_exporter reduce ARGS`, leaving
# OUTPREFIX.out, OUTPREFIX.err and the exit code in $RC.
run() {
  local prefix="$1"; shift
  "$BIN" reduce "$@" >"$prefix.out" 2>"$prefix.err"
  RC=$?
}

expect_rc() {  # expect_rc WANT PREFIX DESCRIPTION
  if [[ "$RC" != "$1" ]]; then
    fail "$3: exit $RC, want $1; stderr: $(head -c 600 "$2.err")"
  else
    pass
  fi
}

has_line() { grep -qxF -- "$2" "$1"; }
# reason_line FILE PATH: FILE has a line "PATH: <non-empty reason>".
reason_line() {
  P="$2: " awk 'index($0, ENVIRON["P"]) == 1 && length($0) > length(ENVIRON["P"]) { found = 1 }
    END { exit !found }' "$1"
}

# promtool check metrics prints lint problems (and exits non-zero on them);
# any output at all counts as failure.
PROMTOOL_OK=1
pprof_have_tool "$PROMTOOL" prometheus "the promtool checks" || PROMTOOL_OK=0
promtool_clean() {  # promtool_clean FILE DESCRIPTION
  [[ "$PROMTOOL_OK" == 1 ]] || return 0
  local out rc
  out="$("$PROMTOOL" check metrics <"$1" 2>&1)"
  rc=$?
  CHECKS=$((CHECKS + 1))
  if [[ $rc -ne 0 || -n "$out" ]]; then
    fail "$2: promtool check metrics (exit $rc): $out"
  fi
  # The exposition must not be empty either.
  assert "$2: empty output" test -s "$1"
}

cd "$TMP" || exit 1
echo "binary: $BIN"
echo "fixtures: $TD"

# --- 1. Good files: exit 0, promtool-clean exposition -----------------------

run all --service-label=service "$TD/cpu.pb.gz" "$TD/heap.pb.gz" "$TD/allocs.pb.gz" \
  "$TD/goroutine.pb.gz"
expect_rc 0 all "cpu+heap+allocs+goroutine --service-label=service"
assert "cpu+heap+allocs+goroutine: stderr not empty: $(head -c 300 all.err)" test ! -s all.err
promtool_clean all.out "cpu+heap+allocs+goroutine --service-label=service"

# Heap and allocs of one target: the heap totals come from the heap
# profile, once (KindSpec::totals_from), never from neither.
run onehost --target=host "$TD/heap.pb.gz" "$TD/allocs.pb.gz"
expect_rc 0 onehost "--target=host heap.pb.gz allocs.pb.gz"
assert "--target=host heap+allocs: pprof_heap_inuse_bytes not exactly once" \
  test "$(grep -c '^pprof_heap_inuse_bytes{target="host"}' onehost.out)" = 1
promtool_clean onehost.out "--target=host heap.pb.gz allocs.pb.gz"

run mutex --kind=mutex "$TD/mutex.pb.gz"
expect_rc 0 mutex "--kind=mutex mutex.pb.gz"
assert "--kind=mutex mutex.pb.gz: stderr not empty" test ! -s mutex.err
assert "--kind=mutex mutex.pb.gz: no pprof_mutex_contentions_total 8434" \
  has_line mutex.out 'pprof_mutex_contentions_total{target="mutex"} 8434'
promtool_clean mutex.out "--kind=mutex mutex.pb.gz"

run block --kind=block "$TD/block.pb.gz"
expect_rc 0 block "--kind=block block.pb.gz"
assert "--kind=block block.pb.gz: no pprof_block_contentions_total 13580" \
  has_line block.out 'pprof_block_contentions_total{target="block"} 13580'
promtool_clean block.out "--kind=block block.pb.gz"

# mutex and block in one exposition (distinct families), with the rest.
cat all.out mutex.out block.out >everything.out
promtool_clean everything.out "all six fixtures, concatenated"
# Two files of one kind: both targets land in one family.
run two --kind=heap --top=3 "$TD/heap.pb.gz" "$TD/allocs.pb.gz"
expect_rc 0 two "--kind=heap heap.pb.gz allocs.pb.gz"
promtool_clean two.out "--kind=heap heap.pb.gz allocs.pb.gz"
assert "--kind=heap on two files: HELP pprof_heap_inuse_bytes not exactly once" \
  test "$(grep -c '^# HELP pprof_heap_inuse_bytes ' two.out)" = 1

# --- 2. Bad files: exit 1, `FILE: reason`, good files still printed --------

printf '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>no such profile</body></html>\n' \
  >page.pb.gz
head -c 1000 "$TD/cpu.pb.gz" >truncated.pb.gz
size=$(wc -c <"$TD/cpu.pb.gz")
head -c $((size - 4)) "$TD/cpu.pb.gz" >truncated-trailer.pb.gz  # gzip ISIZE cut off
head -c 15 "$TD/cpu.pb.gz" >truncated-header.pb.gz
gzip -c page.pb.gz >gzipped-html.pb.gz  # valid gzip, not a profile
: >empty.pb.gz
printf 'PK\003\004 not a profile, just some bytes \377\376\001\002' >garbage.pb.gz
missing="$TMP/does-not-exist.pb.gz"

GOOD_LINE='pprof_goroutines{target="goroutine"} 48'
for bad in "$missing" "$TMP/page.pb.gz" "$TMP/truncated.pb.gz" \
  "$TMP/truncated-trailer.pb.gz" "$TMP/truncated-header.pb.gz" "$TMP/gzipped-html.pb.gz" \
  "$TMP/empty.pb.gz" "$TMP/garbage.pb.gz"; do
  name="$(basename "$bad" .pb.gz)"
  for order in bad-first good-first; do
    desc="$name ($order) with goroutine.pb.gz"
    if [[ $order == bad-first ]]; then
      run bad "$bad" "$TD/goroutine.pb.gz"
    else
      run bad "$TD/goroutine.pb.gz" "$bad"
    fi
    expect_rc 1 bad "$desc"
    # Exactly one stderr line for the one bad file: "FILE: reason".
    assert "$desc: stderr has no '$bad: <reason>' line: $(cat bad.err)" \
      reason_line bad.err "$bad"
    assert "$desc: stderr should have exactly 1 line, has $(wc -l <bad.err)" \
      test "$(wc -l <bad.err)" = 1
    assert "$desc: good file's series missing" has_line bad.out "$GOOD_LINE"
    assert "$desc: series of the bad file printed" \
      bash -c "! grep -qF 'target=\"$name\"' bad.out"
    promtool_clean bad.out "$desc"
  done
done
# Two bad files: one line each.
run twobad "$missing" "$TMP/page.pb.gz" "$TD/cpu.pb.gz"
expect_rc 1 twobad "two bad files and cpu.pb.gz"
assert "two bad files: want 2 stderr lines, got $(cat twobad.err)" test "$(wc -l <twobad.err)" = 2
assert "two bad files: no line for the missing file" reason_line twobad.err "$missing"
assert "two bad files: no line for page.pb.gz" reason_line twobad.err "$TMP/page.pb.gz"
assert "two bad files: cpu series missing" grep -qF 'pprof_cpu_sampled_seconds{target="cpu"} 3.08' twobad.out

# An uncompressed profile.proto is a good file (go tool pprof reads it too).
gzip -dc "$TD/cpu.pb.gz" >cpu-raw.pb
run raw "$TMP/cpu-raw.pb"
expect_rc 0 raw "uncompressed cpu-raw.pb"
assert "uncompressed cpu-raw.pb: pprof_cpu_sampled_seconds missing" \
  has_line raw.out 'pprof_cpu_sampled_seconds{target="cpu-raw"} 3.08'

# --- 3. Usage errors: exit 2 ------------------------------------------------

usage_error() {  # usage_error DESCRIPTION ARGS...
  local desc="$1"; shift
  run usage "$@"
  expect_rc 2 usage "$desc"
  assert "$desc: no message on stderr" test -s usage.err
  assert "$desc: metrics printed despite the usage error: $(head -c 200 usage.out)" \
    test ! -s usage.out
}
usage_error "unknown flag --bogus" --bogus "$TD/cpu.pb.gz"
usage_error "--kind=bogus" --kind=bogus "$TD/cpu.pb.gz"
usage_error "--services=3 with --service-label=x" --services=3 --service-label=x "$TD/goroutine.pb.gz"
usage_error "--service-label=x with --service-count-regex" --service-label=x \
  '--service-count-regex=^main\.' "$TD/goroutine.pb.gz"
usage_error "--gc-regex='('" '--gc-regex=(' "$TD/cpu.pb.gz"
usage_error "--service-count-regex='('" '--service-count-regex=(' "$TD/goroutine.pb.gz"
usage_error "no files" --kind=cpu
usage_error "no arguments at all"
usage_error "--top=0" --top=0 "$TD/cpu.pb.gz"
usage_error "--top=abc" --top=abc "$TD/cpu.pb.gz"
# The config's rules (config.h, ApplyReduceOptions): empty is no regex or label.
usage_error "--gc-regex=" --gc-regex= "$TD/cpu.pb.gz"
usage_error "--service-label=" --service-label= "$TD/goroutine.pb.gz"
usage_error "--service-count-regex=" --service-count-regex= "$TD/goroutine.pb.gz"

# mutex/block profiles look alike: without --kind that is exit 2 with a
# `FILE: reason` line; a good file next to it is still printed.
run amb "$TD/mutex.pb.gz"
expect_rc 2 amb "mutex.pb.gz without --kind"
assert "mutex.pb.gz without --kind: no '$TD/mutex.pb.gz: <reason>' line: $(cat amb.err)" \
  reason_line amb.err "$TD/mutex.pb.gz"
run amb "$TD/block.pb.gz"
expect_rc 2 amb "block.pb.gz without --kind"
run amb "$TD/mutex.pb.gz" "$TD/goroutine.pb.gz"
expect_rc 2 amb "mutex.pb.gz without --kind, with goroutine.pb.gz"
assert "mutex.pb.gz without --kind: goroutine series missing" has_line amb.out "$GOOD_LINE"

# --- 4. Labels, HELP/TYPE, values (python) ---------------------------------

CHECKS=$((CHECKS + 1))
if ! python3 "$HERE/reduce_output_checks.py" fixtures; then
  fail "reduce_output_checks.py fixtures (see above)"
fi
CHECKS=$((CHECKS + 1))
python3 "$HERE/reduce_output_checks.py" structure all.out cpu=cpu heap=heap allocs=allocs \
  goroutine=goroutine+label || fail "structure of all.out"
CHECKS=$((CHECKS + 1))
python3 "$HERE/reduce_output_checks.py" structure everything.out cpu=cpu heap=heap \
  allocs=allocs goroutine=goroutine+label mutex=mutex block=block ||
  fail "structure of everything.out"

# --- 5. Goroutine text dumps (debug=1, debug=2) -----------------------------

# Totals, functions and states against counts taken straight from the text.
for dump in "$TD/tsnsrv-goroutine-debug1.txt" "$TD/goroutine-debug1.txt" \
  "$TD/demo-goroutine-debug2.txt"; do
  CHECKS=$((CHECKS + 1))
  python3 "$HERE/reduce_output_checks.py" dump "$dump" "$(basename "$dump" .txt)" ||
    fail "reduce_output_checks.py dump $dump (see above)"
done
run dumps --stuck-after=1m "$TD/tsnsrv-goroutine-debug1.txt" "$TD/demo-goroutine-debug2.txt" \
  "$TD/cpu.pb.gz"
expect_rc 0 dumps "two text dumps and cpu.pb.gz"
promtool_clean dumps.out "two text dumps and cpu.pb.gz"
assert "tsnsrv dump: want pprof_goroutines 6257 (its header's total)" \
  has_line dumps.out 'pprof_goroutines{target="tsnsrv-goroutine-debug1"} 6257'
assert "debug=2 dump: want 8 goroutines stuck for >= 1m" \
  has_line dumps.out 'pprof_goroutines_stuck{target="demo-goroutine-debug2"} 8'
assert "debug=1 dump: no state series expected" \
  bash -c "! grep -q 'pprof_goroutines_stuck{target=\"tsnsrv' dumps.out"
# A truncated dump no longer adds up to its header's total.
head -c 20000 "$TD/tsnsrv-goroutine-debug1.txt" >cut-debug1.txt
run cut "$TMP/cut-debug1.txt" "$TD/goroutine.pb.gz"
expect_rc 1 cut "truncated debug=1 dump"
assert "truncated dump: no '$TMP/cut-debug1.txt: <reason>' line: $(cat cut.err)" \
  reason_line cut.err "$TMP/cut-debug1.txt"
assert "truncated dump: reason should say it is truncated: $(cat cut.err)" \
  grep -q "truncated" cut.err
assert "truncated dump: good file's series missing" has_line cut.out "$GOOD_LINE"
run wrongkind --kind=cpu "$TD/goroutine-debug1.txt"
expect_rc 1 wrongkind "--kind=cpu on a goroutine dump"
usage_error "--stuck-after=10x" --stuck-after=10x "$TD/goroutine-debug1.txt"

# --- 6. Escaping: a generated profile with odd names -------------------------

if command -v go >/dev/null 2>&1 && [[ -d /usr/share/gocode/src/github.com/google/pprof/profile ]]; then
  mkdir -p "$TMP/escape" "$TMP/gohome"
  if (cd "$TMP/escape" && HOME="$TMP/gohome" GOCACHE="$TMP/gocache" GOPATH=/usr/share/gocode \
    GO111MODULE=off GOFLAGS='' CGO_ENABLED=0 go run "$HERE/gen_profiles.go" "$TMP/escape") \
    >"$TMP/escape.log" 2>&1; then
    run esc --top=100 "$TMP/escape/escape-cpu.pb.gz"
    expect_rc 0 esc "escape-cpu.pb.gz"
    promtool_clean esc.out "escape-cpu.pb.gz (odd function names)"
    run escg --service-label=service "$TMP/escape/escape-goroutine.pb.gz"
    expect_rc 0 escg "escape-goroutine.pb.gz"
    promtool_clean escg.out "escape-goroutine.pb.gz (odd service label values)"
    run esct '--target=odd "target"\ ü' "$TMP/escape/escape-goroutine.pb.gz"
    expect_rc 0 esct "--target with a quote and a backslash"
    promtool_clean esct.out "--target with a quote and a backslash"
    CHECKS=$((CHECKS + 1))
    python3 "$HERE/reduce_output_checks.py" escape "$TMP/escape" || fail "escape checks (see above)"
  else
    fail "could not build/run gen_profiles.go: $(cat "$TMP/escape.log")"
  fi
else
  missing=go package=golang-go
  if command -v go >/dev/null 2>&1; then
    missing=/usr/share/gocode/src/github.com/google/pprof/profile
    package=golang-github-google-pprof-dev
  fi
  pprof_have_tool "$missing" "$package" "the escaping checks" || true
fi

echo
if [[ $FAILURES -ne 0 ]]; then
  echo "reduce_cli_test: $FAILURES of $CHECKS checks FAILED"
  exit 1
fi
echo "reduce_cli_test: all $CHECKS checks passed"
