#!/usr/bin/env bash
# deploy/grafana/provisioning: the Grafana-managed rules pass
# check_grafana_rules.py (Grafana's parser requirements, `$` escaping, and
# equality with deploy/prometheus/alerts.yml and the dashboard's threshold
# lines); each deliberate breakage below must make it fail. The provider
# and datasource files parse and point at what the rules and dashboard use.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
GRAFANA="$DEPLOY/grafana/provisioning"
RULES="$GRAFANA/alerting/pprof-exporter.yml"
ALERTS="$DEPLOY/prometheus/alerts.yml"
DASHBOARD="$ROOT/dashboards/pprof-exporter.json"

if ! python3 -c 'import yaml' 2>/dev/null; then
  skip_tool python3-yaml "python3 yaml module missing (Debian package: python3-yaml)"
  finish; exit
fi
check() { python3 "$HERE/check_grafana_rules.py" "$1" "${2:-$ALERTS}" "${3:-$DASHBOARD}"; }

run "Grafana rules: parser requirements, escaping, equal to alerts.yml and the dashboard" check "$RULES"

# mutate NAME FILE SED-SCRIPT: the check must reject FILE changed by SED-SCRIPT.
mutate() {
  local name=$1 file=$2 script=$3 copy="$TMP/mutated.$(basename "$2")"
  sed "$script" "$file" >"$copy"
  if cmp -s "$file" "$copy"; then fail "mutation '$name' changed nothing"; return; fi
  case $file in
    "$RULES") run_fails "rejects: $name" check "$copy" ;;
    "$ALERTS") run_fails "rejects: $name" check "$RULES" "$copy" ;;
    "$DASHBOARD") run_fails "rejects: $name" check "$RULES" "$ALERTS" "$copy" ;;
  esac
}
mutate "Grafana threshold differs from alerts.yml" "$RULES" 's/params: \[10\]/params: [11]/'
mutate "alerts.yml threshold differs from Grafana" "$ALERTS" 's/pprof_cpu_flat_ratio > 0.1/pprof_cpu_flat_ratio > 0.2/'
mutate "dashboard threshold line differs" "$DASHBOARD" 's/"query": "0.05"/"query": "0.06"/'
mutate "dashboard stuck threshold differs" "$DASHBOARD" '/"name": "stuck_goroutines_threshold"/,/"query"/s/"query": "10"/"query": "11"/'
mutate "for differs" "$RULES" '0,/for: 30m/s//for: 20m/'
mutate "uid longer than 40 characters" "$RULES" 's/uid: pprof-hot-function/uid: pprof-hot-function-with-a-much-too-long-uid/'
mutate "uid with a dot" "$RULES" 's/uid: pprof-hot-function/uid: pprof.hot/'
mutate "condition names no refId" "$RULES" '0,/condition: C/s//condition: D/'
mutate "zero relativeTimeRange" "$RULES" '0,/from: 600, to: 0/s//from: 0, to: 0/'
mutate "no folder" "$RULES" 's/^    folder: .*/    folder: ""/'
mutate "interval not a multiple of 10s" "$RULES" 's/^    interval: 1m/    interval: 65s/'
mutate "escaped \$\$ in a model Grafana does not expand" "$RULES" '0,/"\$B == 0"/s//"$$B == 0"/'
mutate "single \$ in a label Grafana expands" "$RULES" '0,/severity: info/s//severity: "{{ $labels.severity }}"/'
mutate "evidence link differs" "$RULES" '0,/goroutine\/archive/s//heap\/archive/'

run "datasource file provisions UID prometheus, which every rule query uses" python3 - "$GRAFANA" <<'PY'
import sys, yaml
d = sys.argv[1]
(ds,) = yaml.safe_load(open(d + "/datasources/prometheus.yml"))["datasources"]
assert ds["type"] == "prometheus" and ds["uid"] == "prometheus", ds
rules = yaml.safe_load(open(d + "/alerting/pprof-exporter.yml"))
uids = {q["datasourceUid"] for g in rules["groups"] for r in g["rules"] for q in r["data"]}
assert uids == {"prometheus", "__expr__"}, uids
(p,) = yaml.safe_load(open(d + "/dashboards/pprof-exporter.yml"))["providers"]
assert p["type"] == "file" and p["options"]["path"], p
PY

finish
