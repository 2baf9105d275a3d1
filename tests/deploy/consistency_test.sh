#!/usr/bin/env bash
# Facts repeated across deploy/ and dashboards/ must agree: the exporter's
# default port, the repository URL placeholder, and README anchors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

files=(deploy/README.md deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml
       deploy/prometheus/alerts_test.yml deploy/systemd/pprof-exporter.service
       deploy/nixos/module.nix deploy/nixos/alerts.nix deploy/nixos/example.nix
       deploy/grafana/provisioning/alerting/pprof-exporter.yml
       deploy/grafana/provisioning/datasources/prometheus.yml
       deploy/grafana/provisioning/dashboards/pprof-exporter.yml
       deploy/kubernetes/sidecar.yaml deploy/kubernetes/servicemonitor.yaml
       dashboards/pprof-exporter.json)

for f in deploy/README.md deploy/prometheus/prometheus.yml deploy/nixos/module.nix \
         deploy/kubernetes/sidecar.yaml deploy/kubernetes/servicemonitor.yaml; do
  if grep -q "\b$DEFAULT_PORT\b" "$f"; then pass "$f uses port $DEFAULT_PORT"; else fail "$f does not mention port $DEFAULT_PORT"; fi
done

# Ports written as host:port or as a port field: only the exporter's and the
# well-known ones of its neighbours (tsnsrv pprof, a Go app's pprof and
# HTTP, Prometheus, Alertmanager, node_exporter, Grafana) may appear.
allowed=" $DEFAULT_PORT 9099 6060 8080 9090 9093 9100 3000 8081 "
bad_ports=$(python3 - "${files[@]}" <<'PY'
import re, sys
pat = re.compile(r'(?:[\w\]\.]:|[Pp]ort: "?|port = )(\d{4,5})\b')
for path in sys.argv[1:]:
    for n, line in enumerate(open(path), 1):
        for m in pat.finditer(line):
            print(f"{m.group(1)} {path}:{n}")
PY
)
unexpected=$(while read -r port where; do
  [[ -z "$port" || "$allowed" == *" $port "* ]] || echo "$port at $where"
done <<<"$bad_ports")
if [[ -z "$unexpected" ]]; then pass "no stray port numbers"; else fail "unexpected ports:"; echo "$unexpected" | sed 's/^/    /' >&2; fi

# One placeholder for the project's repository everywhere.
others=$(grep -ohE 'github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+' "${files[@]}" | sort -u | grep -vx 'github.com/pprof-exporter/pprof_exporter' || true)
if [[ -z "$others" ]]; then pass "repository URL placeholder is consistent"; else fail "other repository URLs: $others"; fi

# Links into deploy/README.md must land on a heading.
anchors=$(python3 - deploy/README.md <<'PY'
import re, sys
for m in re.finditer(r"^#+\s+(.*)$", open(sys.argv[1]).read(), re.M):
    print(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
PY
)
missing=""
for a in $(grep -ohE 'deploy/README\.md#[A-Za-z0-9_-]+' "${files[@]}" | sed 's/.*#//' | sort -u); do
  grep -qx "$a" <<<"$anchors" || missing+=" $a"
done
if [[ -z "$missing" ]]; then pass "README anchors exist"; else fail "README lacks headings for:$missing"; fi

finish
