#!/usr/bin/env bash
# Bazel wrapper for go_crosscheck.go: EXPECTED against Go's pprof library
# (Debian's golang-go and golang-github-google-pprof-dev, GOPATH mode; go
# writes only under $TEST_TMPDIR). Without them: SKIP, and under CI=true a
# failure, since scripts/deps.sh installs both.
set -u
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  HERE="$TEST_SRCDIR/${TEST_WORKSPACE:-pprof_exporter}/tests/corpus"
else
  HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fi
GOPATH_PPROF=/usr/share/gocode
if ! command -v go >/dev/null || [[ ! -d "$GOPATH_PPROF/src/github.com/google/pprof/profile" ]]; then
  echo "SKIP: needs go and $GOPATH_PPROF/src/github.com/google/pprof/profile (golang-github-google-pprof-dev)"
  [[ "${CI:-}" == "true" ]] && exit 1
  exit 0
fi
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
exec env HOME="$TMP" GOCACHE="$TMP/gocache" GOPATH="$GOPATH_PPROF" GO111MODULE=off \
  GOFLAGS= CGO_ENABLED=0 go run "$HERE/go_crosscheck.go" "$HERE/EXPECTED" "$HERE/inputs"
