# Shared by tests/deploy/*_test.sh. Source it; it sets ROOT (the repository,
# or Bazel's runfiles tree of it), TMP, and the helpers below. Works both as
# a Bazel sh_test and run directly from a checkout.
set -euo pipefail

if [[ -n "${TEST_SRCDIR:-}" && -n "${TEST_WORKSPACE:-}" ]]; then
  ROOT="$TEST_SRCDIR/$TEST_WORKSPACE"
else
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fi
# Bazel runs tests without HOME; some tools (nix) want one.
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="${HOME:-$TMP}"
[[ -n "${TEST_TMPDIR:-}" ]] || trap 'rm -rf "$TMP"' EXIT

DEPLOY="$ROOT/deploy"
HERE="$ROOT/tests/deploy"
# The port the exporter listens on by default (see deploy/README.md).
DEFAULT_PORT=10066

FAILURES=0
PASSES=0
SKIPS=0

pass() { echo "PASS: $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
# skip REASON: a check that cannot run here. The marker line makes
# scripts/test.sh report the target SKIPPED, not PASSED (Bazel has no
# "skipped" status); under CI=true, where scripts/deps.sh has installed
# every tool and ../shared is present, it is a failure.
skip() {
  if [[ "${CI:-}" == true ]]; then
    fail "CI=true, so this is not skipped: $*"
    return
  fi
  echo "SKIP: $*"
  echo "PPROF_TEST_SKIPPED: $*"
  SKIPS=$((SKIPS + 1))
}

# skip_tool TOOL REASON: TOOL (installed by scripts/deps.sh) is missing.
skip_tool() { skip "$1 missing: $2"; }

# run NAME CMD...: runs CMD, PASS if it exits 0, FAIL (with its output) if not.
run() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$name"
  else
    fail "$name"
    printf '%s\n' "$out" | sed 's/^/    /' >&2
  fi
}

# run_fails NAME CMD...: the opposite, for checks that must reject bad input.
run_fails() {
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    fail "$name (expected a failure, got success)"
  else
    pass "$name"
  fi
}

finish() {
  echo "$PASSES passed, $FAILURES failed, $SKIPS skipped"
  [[ $SKIPS -eq 0 ]] || echo "SKIPPED: $SKIPS check(s) did not run; see the SKIP lines above"
  [[ $FAILURES -eq 0 ]]
}

need() {
  command -v "$1" >/dev/null 2>&1
}

# The exporter binary: $PPROF_EXPORTER, Bazel's runfiles, or a checkout's
# bazel-bin (after `bazel build //exporter:pprof_exporter`). Empty if none.
exporter_bin() {
  local c
  for c in "${PPROF_EXPORTER:-}" "$ROOT/exporter/pprof_exporter" "$ROOT/bazel-bin/exporter/pprof_exporter"; do
    [[ -n "$c" && -x "$c" && ! -d "$c" ]] && { echo "$c"; return; }
  done
}
