#!/bin/sh
# Runs one tests/archive/test_*.py under `bazel test`; see BUILD.bazel.
# exec, so Bazel's SIGTERM on timeout reaches Python directly and its
# cleanup (tests/daemon/harness.py) kills the processes the test started.
set -eu
exec python3 -u "$1"
