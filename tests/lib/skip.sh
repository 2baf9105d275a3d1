# Honest skips for shell tests; source it. Bazel's sh_test has no skip
# status, so a skip exits 0 after printing the marker line that
# scripts/test.sh looks for in the test's log to report the target as
# SKIPPED, not PASSED (harness.py's SKIPPED_MARKER is the same line). Under
# CI=true scripts/deps.sh has installed every tool, so a missing one is a
# broken setup: a failure, never a skip.

pprof_skip() {  # REASON...: ends the test as skipped
  echo "PPROF_TEST_SKIPPED: $*"
  exit 0
}

# pprof_have_tool TOOL PACKAGE WHAT: returns 0 if TOOL (a name on PATH or a
# path) is there. Otherwise: under CI=true exits 1; else prints the marker
# ("WHAT skipped") and returns 1, so the caller leaves that part out.
pprof_have_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "${CI:-}" = true ]; then
    echo "FAIL: CI=true and $1 is missing (Debian package $2; scripts/deps.sh installs it)" >&2
    exit 1
  fi
  echo "PPROF_TEST_SKIPPED: $3 skipped: $1 not found (Debian package $2; scripts/deps.sh installs it)"
  return 1
}

# pprof_require_tool TOOL PACKAGE: the whole test needs TOOL.
pprof_require_tool() {
  pprof_have_tool "$1" "$2" "the test" || exit 0
}
