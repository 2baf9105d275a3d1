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
#   tsan  bazel test --config=tsan //exporter:all //tests/daemon:all
# PPROF_QUICK=1 scripts/test.sh skips these three (they take most of the
# time: a cold run builds everything twice more with clang); CI runs
# everything. PPROF_CACHE_DIR moves the three output bases elsewhere. Installs missing Debian packages first. README's second
# command. The last line counts the tests of every stage; a sanitizer
# stage's results are listed as "//target (asan) PASSED" and so on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# --experimental_repository_disable_download: fail on any new download.
bazel test //... --experimental_repository_disable_download "$@" 2>&1 \
  | tee "$log" || status=$?

if [ -d ../shared/fixtures ]; then
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
  stage() {
    local name="$1" base="$2"
    shift 2
    local out rc=0 start=$SECONDS listed unbuilt
    out=$(mktemp)
    echo "== $name: bazel --output_base=$base $*"
    bazel --output_base="$base" "$@" 2>&1 \
      | sed -E "s|^(//[^ ]+) |\1 ($name) |" | tee "$out" || rc=$?
    cat "$out" >>"$log"
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
    //exporter:all //tests/daemon:all
fi

passed=$(grep -cE '^//[^ ]+ .*PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ .*(FAILED|TIMEOUT|NO STATUS)' "$log" || true)
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
