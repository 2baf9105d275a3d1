#!/usr/bin/env bash
# Runs every test: the whole Bazel suite (unit, fixture, CLI, real-process
# and deployment tests), then the fixture test again over ../shared/fixtures
# when that directory exists (it holds large-cpu.pb.gz, too big to commit).
# Installs missing Debian packages first. README's second command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# --experimental_repository_disable_download: fail on any new download.
bazel test //... --experimental_repository_disable_download "$@" 2>&1 \
  | tee "$log" || status=$?

if [ -d ../shared/fixtures ]; then
  echo "== fixture test over $(cd ../shared/fixtures && pwd)"
  if PPROF_FIXTURE_DIR="$(cd ../shared/fixtures && pwd)" \
      bazel run -c opt //profile:fixtures_test 2>&1 | tee -a "$log"; then
    echo "//profile:fixtures_test (shared fixtures) PASSED" | tee -a "$log"
  else
    echo "//profile:fixtures_test (shared fixtures) FAILED" | tee -a "$log"
    status=1
  fi
fi

passed=$(grep -cE '^//[^ ]+ .*PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ .*(FAILED|TIMEOUT|NO STATUS)' "$log" || true)
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
