#!/bin/sh
# Runs one tests/discovery/test_*.py under `bazel test`; see BUILD.bazel. The
# script finds the binaries in the runfiles (harness.py) and writes to
# $TEST_TMPDIR. exec, so Bazel's SIGTERM on timeout reaches Python directly
# and its cleanup kills the processes the test started.
set -eu
exec python3 -u "$1"
