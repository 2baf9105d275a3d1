#!/usr/bin/env bash
# Fuzzes Decode, GuessKind and every reducer for SECONDS (default 60) and
# fails on any crash, sanitizer report, leak, timeout (> 20 s for one input:
# a hang; tests/corpus bounds the pathological inputs' CPU time per input,
# while an ASan run of the largest seed, huge-packed-location-ids-dangling,
# took 15 s of wall time with a sanitizer build beside it on 2 cores)
# or out-of-memory (> 2 GiB). Builds //profile/fuzz:decode_reduce_fuzzer
# with --config=fuzz (clang, libFuzzer, ASan, UBSan; see .bazelrc) in an
# output base of its own, so the shared Bazel server keeps its gcc build.
#
#   profile/fuzz/run_fuzzer.sh [SECONDS] [LIBFUZZER_FLAG...]
#
# Seeds: tests/testdata/*.pb.gz, the same gunzipped (the fuzzer mutates raw
# protobuf far better than deflate streams), and tests/corpus/inputs/*.
#
# Environment:
#   PPROF_FUZZ_TARGET       goroutine_dump_fuzzer fuzzes the goroutine text
#                           dump parser instead (seeds tests/testdata/*.txt)
#   PPROF_FUZZ_OUTPUT_BASE  Bazel output base for the clang build
#                           (default: ~/.cache/pprof_exporter/bazel-fuzz)
#   PPROF_FUZZ_WORKDIR      keep the grown corpus here across runs (default:
#                           a temporary directory, removed after a clean run)
#
# A failure leaves the input in WORKDIR/artifacts-<time>/ (crash-*, leak-*,
# timeout-*, oom-*). Reproduce and minimise it with
#   FUZZER CRASH_FILE
#   FUZZER -minimize_crash=1 -runs=100000 -exact_artifact_path=min CRASH_FILE
# (FUZZER is printed below), then add the minimised file to
# tests/corpus/inputs/ as fuzz-<what>.pb with its expected outcome in
# tests/corpus/EXPECTED.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-60}"
[ $# -gt 0 ] && shift
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [LIBFUZZER_FLAG...]" >&2; exit 2 ;;
esac

output_base="${PPROF_FUZZ_OUTPUT_BASE:-$HOME/.cache/pprof_exporter/bazel-fuzz}"
bazel=(bazel --output_base="$output_base")
target="${PPROF_FUZZ_TARGET:-decode_reduce_fuzzer}"
"${bazel[@]}" build --config=fuzz "//profile/fuzz:$target"
fuzzer="$("${bazel[@]}" info --config=fuzz bazel-bin 2>/dev/null)/profile/fuzz/$target"
echo "fuzzer: $fuzzer"

if [ -n "${PPROF_FUZZ_WORKDIR:-}" ]; then
  work="$PPROF_FUZZ_WORKDIR"
  keep=1
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/pprof-fuzz.XXXXXX")"
  keep=0
fi
# A fresh artifacts directory per run: only this run's findings fail it.
artifacts="$work/artifacts-$(date +%Y%m%dT%H%M%S)"
mkdir -p "$work/corpus" "$work/seeds" "$artifacts"
if [ "$target" = goroutine_dump_fuzzer ]; then
  cp tests/testdata/*.txt "$work/seeds/"
else
  for f in tests/testdata/*.pb.gz; do
    name="$(basename "$f" .pb.gz)"
    cp "$f" "$work/seeds/fixture-$name.pb.gz"
    gzip -dc "$f" >"$work/seeds/fixture-$name.pb"
  done
  cp tests/corpus/inputs/* "$work/seeds/"
fi

echo "== fuzzing for ${seconds}s in $work"
status=0
# New inputs go to corpus/ (the first directory); seeds/ is only read.
# ASan's and UBSan's defaults (halt on the first error) make any report a
# crash; libFuzzer reports leaks, timeouts and RSS over the limit itself.
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer}" \
  "$fuzzer" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
    -use_value_profile=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    "$@" "$work/corpus" "$work/seeds" || status=$?

found="$(ls -A "$artifacts")"
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  echo "FUZZER FAILED (exit $status); inputs kept in $artifacts:" >&2
  ls -l "$artifacts" >&2
  echo "reproduce: $fuzzer $artifacts/<file>" >&2
  exit 1
fi
echo "fuzzer: no crash, leak or timeout in ${seconds}s ($(ls "$work/corpus" | wc -l) new corpus inputs)"
[ "$keep" -eq 1 ] || rm -rf "$work"
