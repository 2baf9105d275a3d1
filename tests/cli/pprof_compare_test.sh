#!/usr/bin/env bash
# Bazel wrapper for pprof_compare_test.py (see there). Extra arguments pick
# fixtures: pprof_compare_test.sh cpu heap
set -u
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  HERE="$TEST_SRCDIR/${TEST_WORKSPACE:-pprof_exporter}/tests/cli"
else
  HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fi
exec python3 "$HERE/pprof_compare_test.py" "$@"
