#!/bin/sh
# Runs one Python test under `bazel test` (see defs.bzl). exec, so Bazel's
# SIGTERM on timeout reaches Python directly and the harness's cleanup stops
# the processes the test started.
set -eu
exec python3 -u "$@"
