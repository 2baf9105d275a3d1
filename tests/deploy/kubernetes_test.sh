#!/usr/bin/env bash
# deploy/kubernetes: YAML parses and the sidecar, Service and ServiceMonitor
# fit together (check_kubernetes.py). Without PyYAML only a basic check runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
K="$DEPLOY/kubernetes"

if ! python3 -c 'import yaml' 2>/dev/null; then
  skip_tool python3-yaml "python3 yaml module missing (Debian package: python3-yaml); basic checks only"
  for f in "$K/sidecar.yaml" "$K/servicemonitor.yaml"; do
    if grep -q $'\t' "$f"; then fail "$f has tabs"; else pass "$f has no tabs"; fi
  done
  if grep -q 'readOnlyRootFilesystem: true' "$K/sidecar.yaml" && grep -q 'runAsNonRoot: true' "$K/sidecar.yaml"; then
    pass "sidecar securityContext present"
  else
    fail "sidecar securityContext missing"
  fi
  finish; exit
fi

check() { python3 "$HERE/check_kubernetes.py" "$1" "$2" "$DEFAULT_PORT"; }
run "manifests parse and fit together" check "$K/sidecar.yaml" "$K/servicemonitor.yaml"

# The check must notice broken manifests.
broken() { # broken NAME FILE SED-EXPR
  sed "$3" "$K/$2" >"$TMP/$2"
  local s="$K/sidecar.yaml" m="$K/servicemonitor.yaml"
  [[ $2 == sidecar.yaml ]] && s="$TMP/$2" || m="$TMP/$2"
  run_fails "check rejects: $1" check "$s" "$m"
}
broken "root filesystem writable" sidecar.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
broken "loopback listen address" sidecar.yaml 's/--web.listen-address=0.0.0.0:/--web.listen-address=127.0.0.1:/'
broken "Service selecting another app" servicemonitor.yaml '/^  selector:/{n;s/name: app/name: other/}'
broken "ServiceMonitor scraping a missing port" servicemonitor.yaml 's/- port: metrics/- port: web/'
broken "invalid YAML" servicemonitor.yaml 's/^spec:/spec: [/'

finish
