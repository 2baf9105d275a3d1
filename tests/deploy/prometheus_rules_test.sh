#!/usr/bin/env bash
# promtool's own checks of deploy/prometheus plus check_alerts.py.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
P="$DEPLOY/prometheus"

if ! need promtool; then
  fail "promtool not found (Debian package: prometheus; scripts/deps.sh installs it)"
  finish; exit
fi

run "promtool check rules alerts.yml" promtool check rules "$P/alerts.yml"
# From elsewhere, to prove the relative rule_files paths resolve against the
# files' own directory.
cd "$TMP"
run "promtool test rules alerts_test.yml" promtool test rules "$P/alerts_test.yml"
run "promtool check config prometheus.yml" promtool check config "$P/prometheus.yml"
run "alerts: annotations, runbook anchors, metric names, test cases" \
  python3 "$HERE/check_alerts.py" "$P/alerts.yml" "$P/alerts_test.yml" \
  "$DEPLOY/README.md" "$HERE/metric_names.txt"

# The checker itself must notice a broken rule file.
sed 's|#pproftargetdown|#no-such-heading|' "$P/alerts.yml" > "$TMP/bad_anchor.yml"
run_fails "check_alerts rejects a runbook_url without README heading" \
  python3 "$HERE/check_alerts.py" "$TMP/bad_anchor.yml" "$P/alerts_test.yml" \
  "$DEPLOY/README.md" "$HERE/metric_names.txt"
sed 's|pprof_cpu_gc_idle_ratio or|pprof_cpu_gc_idle_share or|' "$P/alerts.yml" > "$TMP/bad_metric.yml"
run_fails "check_alerts rejects an unknown metric name" \
  python3 "$HERE/check_alerts.py" "$TMP/bad_metric.yml" "$P/alerts_test.yml" \
  "$DEPLOY/README.md" "$HERE/metric_names.txt"

finish
