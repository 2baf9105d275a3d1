#!/usr/bin/env bash
# Bazel wrapper for prometheus_e2e_test.py (see there).
set -u
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  HERE="$TEST_SRCDIR/${TEST_WORKSPACE:-pprof_exporter}/tests/e2e"
else
  HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fi
exec python3 "$HERE/prometheus_e2e_test.py" "$@"
