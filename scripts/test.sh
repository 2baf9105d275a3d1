#!/usr/bin/env bash
# Runs every test: the whole Bazel suite (unit, fixture, CLI, real-process
# and deployment tests), then the fixture test again over ../shared/fixtures
# when that directory exists (it holds large-cpu.pb.gz, too big to commit),
# then the hostile-input stages, each built by clang in a Bazel output base
# of its own under ~/.cache/pprof_exporter/ (the C++ toolchain is configured
# per output base, so sharing one would rebuild everything whenever the
# compiler changes, and keep evicting the others' analysis cache):
#   fuzz  profile/fuzz/run_fuzzer.sh 60: libFuzzer + ASan + UBSan over
#         Decode and every reducer, seeded with the fixtures and
#         tests/corpus/
#   asan  bazel test --config=asan //...: the whole suite under ASan+UBSan
#   tsan  bazel test --config=tsan //exporter/... //tests/daemon:all
# PPROF_QUICK=1 scripts/test.sh skips these three (they take most of the
# time: a cold run builds everything twice more with clang); CI runs
# everything. PPROF_CACHE_DIR moves the three output bases elsewhere. Installs missing Debian packages first. README's second
# command. The last line counts the tests of every stage ("N passed, N
# failed, N skipped"); a sanitizer stage's results are listed as
# "//target (asan) PASSED" and so on. A test that printed the skip marker
# (PPROF_TEST_SKIPPED:, see tests/lib/skip.sh and harness.py) is listed as
# SKIPPED with its reasons and not counted as passed. Under CI=true (passed
# to the tests by .bazelrc) a missing tool that scripts/deps.sh installs is
# a failure, and so is a missing ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

# list_skips OUT TESTLOGS [STAGE]: for each target that OUT lists as PASSED
# whose test.log under TESTLOGS has skip markers, adds a line
# "//target [(STAGE)] SKIPPED: reasons" to the log.
list_skips() {
  local out="$1" testlogs="$2" stage="${3:+ ($3)}" target file reasons
  { grep -oE '^//[^ ]+ .*PASSED' "$out" || true; } | awk '{print $1}' | while read -r target; do
    file="$testlogs/${target#//}"
    file="${file/://}/test.log"
    [ -f "$file" ] || continue
    reasons=$(sed -n 's/^PPROF_TEST_SKIPPED: //p' "$file" | paste -sd ';' -)
    [ -z "$reasons" ] || echo "$target$stage SKIPPED: $reasons" | tee -a "$log"
  done
}

# --experimental_repository_disable_download: fail on any new download.
bazel test //... --experimental_repository_disable_download "$@" 2>&1 \
  | tee "$log" || status=$?
list_skips "$log" "$(bazel info bazel-testlogs 2>/dev/null)"

if [ ! -d ../shared/fixtures ]; then
  if [ "${CI:-}" = true ]; then
    echo "//profile:fixtures_test (shared fixtures) FAILED: CI=true and ../shared/fixtures is absent" | tee -a "$log"
    status=1
  else
    echo "//profile:fixtures_test (shared fixtures) PASSED" >>"$log"
    echo "//profile:fixtures_test (shared fixtures) SKIPPED: ../shared/fixtures is absent" | tee -a "$log"
  fi
else
  echo "== fixture test over $(cd ../shared/fixtures && pwd)"
  if PPROF_FIXTURE_DIR="$(cd ../shared/fixtures && pwd)" \
      bazel run -c opt //profile:fixtures_test 2>&1 | tee -a "$log"; then
    echo "//profile:fixtures_test (shared fixtures) PASSED" | tee -a "$log"
  else
    echo "//profile:fixtures_test (shared fixtures) FAILED" | tee -a "$log"
    status=1
  fi
fi

if [ "${PPROF_QUICK:-0}" = 1 ]; then
  echo "== PPROF_QUICK=1: skipping the fuzz, asan and tsan stages"
else
  cache="${PPROF_CACHE_DIR:-$HOME/.cache/pprof_exporter}"
  mkdir -p "$cache"

  # Runs `bazel --output_base=BASE ARGS...` as stage NAME: its test lines
  # are counted as "//target (NAME) ...". Bazel's summary does not list
  # every test that failed to build (only those whose own rule failed), so
  # the rest, and a failure that reports no test at all, count as one
  # failed line.
  stage_bazel() {
    local name="$1" base="$2" out="$3"
    shift 3
    bazel --output_base="$base" "$@" 2>&1 \
      | sed -E "s|^(//[^ ]+) |\1 ($name) |" | tee "$out"
  }
  stage() {
    local name="$1" base="$2"
    shift 2
    local out rc=0 start=$SECONDS listed unbuilt
    out=$(mktemp)
    echo "== $name: bazel --output_base=$base $*"
    stage_bazel "$name" "$base" "$out" "$@" || rc=$?
    # Exit 36 is Bazel's "local environmental error": its server could not
    # start or be reached (seen in CI with an output base whose server
    # belonged to another checkout). No test has run then, so one retry
    # with a fresh server loses nothing; a second failure counts.
    if [ "$rc" -eq 36 ] && ! grep -qE '^//[^ ]+ ' "$out"; then
      echo "== $name: bazel exit 36 before any test ran; restarting its server once"
      bazel --output_base="$base" shutdown 2>&1 || true
      rc=0
      stage_bazel "$name" "$base" "$out" "$@" || rc=$?
    fi
    cat "$out" >>"$log"
    list_skips "$out" "$(bazel --output_base="$base" info --config="$name" bazel-testlogs 2>/dev/null)" "$name"
    if [ "$rc" -ne 0 ]; then
      status=1
      listed=$(grep -cE '^//[^ ]+ .*FAILED TO BUILD' "$out" || true)
      unbuilt=$(sed -nE 's/.* ([0-9]+) fails? to build.*/\1/p' "$out" | tail -1)
      if [ "${unbuilt:-0}" -gt "$listed" ]; then
        echo "//... ($name) FAILED TO BUILD: $((unbuilt - listed)) more tests" \
          | tee -a "$log"
      elif ! grep -qE '^//[^ ]+ .*(FAILED|TIMEOUT|NO STATUS)' "$out"; then
        echo "//... ($name) FAILED (bazel exit $rc)" | tee -a "$log"
      fi
    fi
    rm -f "$out"
    echo "== $name: $((SECONDS - start)) s"
  }

  # The test targets of //..., package by package: the clang output bases
  # must not see the default output base's bazel-* symlinks, which //...
  # would descend into.
  mapfile -t packages < <(bazel query --output=package //... 2>/dev/null)
  targets=()
  for p in "${packages[@]}"; do targets+=("//$p:all"); done

  start=$SECONDS
  echo "== fuzz: profile/fuzz/run_fuzzer.sh 60"
  if PPROF_FUZZ_OUTPUT_BASE="$cache/bazel-fuzz" \
      profile/fuzz/run_fuzzer.sh 60 2>&1 | tee -a "$log"; then
    echo "//profile/fuzz:decode_reduce_fuzzer (fuzz 60s) PASSED" | tee -a "$log"
  else
    echo "//profile/fuzz:decode_reduce_fuzzer (fuzz 60s) FAILED" | tee -a "$log"
    status=1
  fi
  echo "== fuzz: $((SECONDS - start)) s"

  # --keep_going: a target that fails to build must not hide the
  # sanitizers' results for all the others.
  stage asan "$cache/bazel-asan" test --config=asan --keep_going \
    --experimental_repository_disable_download "$@" -- "${targets[@]}"
  stage tsan "$cache/bazel-tsan" test --config=tsan --keep_going \
    --experimental_repository_disable_download "$@" -- \
    //exporter/... //tests/daemon:all
fi

# A skipped target also has its PASSED line (Bazel's verdict).
skipped=$(grep -cE '^//[^ ]+ .*SKIPPED' "$log" || true)
passed=$(( $(grep -cE '^//[^ ]+ .*PASSED' "$log" || true) - skipped ))
failed=$(grep -cE '^//[^ ]+ .*(FAILED|TIMEOUT|NO STATUS)' "$log" || true)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] || status=1
exit "$status"
