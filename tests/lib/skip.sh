# Honest skips for shell tests; source it. Bazel's sh_test has no skip
# status, so a skip exits 0 after printing the marker line that
# scripts/test.sh looks for in the test's log to report the target as
# SKIPPED, not PASSED (harness.py's SKIPPED_MARKER is the same line).

pprof_skip() {  # REASON...: ends the test as skipped
  echo "PPROF_TEST_SKIPPED: $*"
  exit 0
}

# TOOL PACKAGE: returns if TOOL is on PATH. Otherwise the test is skipped,
# or fails under CI=true when scripts/deps.sh installs PACKAGE (CI has run
# deps.sh, so a missing tool there is a broken setup, not a reason to skip).
pprof_require_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "${CI:-}" = true ]; then
    echo "FAIL: CI=true and $1 is missing (Debian package $2; scripts/deps.sh installs it)" >&2
    exit 1
  fi
  pprof_skip "$1 not found (Debian package $2; scripts/deps.sh installs it)"
}
