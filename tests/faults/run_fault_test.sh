#!/bin/sh
# Runs tests/faults/fault_matrix_test.py under `bazel test` (see BUILD.bazel):
# the script finds the exporter in the runfiles through tests/daemon's
# harness and writes to $TEST_TMPDIR. exec, so Bazel's SIGTERM on timeout
# reaches Python directly and its cleanup kills the processes it started.
set -eu
exec python3 -u "$1"
