#!/usr/bin/env bash
# dashboards/pprof-exporter.json: Grafana structure (dashboard_queries.py),
# PromQL syntax of every query after variable substitution (promtool), and
# that the structure check rejects broken dashboards.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DASH="$ROOT/dashboards/pprof-exporter.json"
Q=(python3 "$HERE/dashboard_queries.py" --dashboard "$DASH" --metric-names "$HERE/metric_names.txt")

run "dashboard structure" "${Q[@]}" --check-only

# Queries with single values, several values (regex-escaped), and All.
for args in "--target tsnsrv --service web" \
            "--target a.b --target c --service x --service y" \
            "--target All --service All --interval 30s"; do
  # shellcheck disable=SC2086
  if ! "${Q[@]}" $args >"$TMP/queries.txt" 2>"$TMP/err.txt"; then
    fail "print queries ($args)"; sed 's/^/    /' "$TMP/err.txt" >&2; continue
  fi
  n_queries=$(wc -l <"$TMP/queries.txt")
  n_exprs=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(p.get("targets",[])) for p in d["panels"] + [q for p in d["panels"] for q in p.get("panels",[])]))' "$DASH")
  if [[ "$n_queries" -ne "$n_exprs" || "$n_queries" -lt 20 ]]; then
    fail "print queries ($args): $n_queries lines for $n_exprs targets"; continue
  fi
  if grep -nE '\$|\[\[' "$TMP/queries.txt" >&2; then
    fail "print queries ($args): unsubstituted variables"; continue
  fi
  pass "print queries ($args): $n_queries queries"

  if need promtool; then
    # promtool checks PromQL syntax of recording rules; one rule per query.
    python3 - "$TMP/queries.txt" "$TMP/queries_rules.yml" <<'PY'
import sys, yaml
exprs = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
PY
    run "PromQL syntax ($args)" promtool check rules "$TMP/queries_rules.yml"
  fi
done

expect_selected() {
  local name=$1 want=$2
  shift 2
  "${Q[@]}" "$@" >"$TMP/selected.txt" || true
  if grep -qF -- "$want" "$TMP/selected.txt"; then pass "$name"; else fail "$name: no query contains $want"; fi
}
expect_selected "service filter substituted" 'service=~"web"' --target tsnsrv --service web
expect_selected "multi-value targets become an escaped alternation" 'target=~"(a\\.b|c)"' --target a.b --target c
expect_selected "All becomes .*" 'target=~".*"' --target All
expect_selected "panel minimum interval feeds \$__rate_interval" '[135s]' --target t --interval 1m
expect_selected "--var overrides a variable" 'topk by (target) (5,' --target t --var top=5

# Broken variants of the dashboard must be rejected by the check itself
# (exit 1 with a message), not by a crash.
rejects() {
  local name=$1 rc=0
  shift
  "$@" >/dev/null 2>"$TMP/reject.err" || rc=$?
  if [[ $rc -eq 1 ]] && [[ -s "$TMP/reject.err" ]] && ! grep -q Traceback "$TMP/reject.err"; then
    pass "$name"
  else
    fail "$name (exit $rc)"; sed 's/^/    /' "$TMP/reject.err" >&2
  fi
}
mutate() {
  python3 - "$DASH" "$TMP/bad.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
graphs = [p for p in d["panels"] if p["type"] != "row"]
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}
bad_cases=(
  'duplicate panel id|graphs[1]["id"] = graphs[0]["id"]'
  'missing gridPos|del graphs[0]["gridPos"]'
  'overlapping panels|graphs[1]["gridPos"] = dict(graphs[0]["gridPos"])'
  'panel without targets|graphs[0]["targets"] = []'
  'empty expr|graphs[0]["targets"][0]["expr"] = " "'
  'hard-coded datasource uid|graphs[0]["datasource"] = {"type": "prometheus", "uid": "abc123"}'
  'target datasource hard-coded|graphs[0]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "abc123"}'
  'expr ignores $target|graphs[0]["targets"][0]["expr"] = "sum(pprof_goroutines)"'
  'unknown metric|graphs[0]["targets"][0]["expr"] = "pprof_goroutine_count{target=~\"$target\"}"'
  'undefined variable|graphs[0]["targets"][0]["expr"] = "pprof_goroutines{target=~\"$target\", host=~\"$host\"}"'
  'target variable not multi|[v.update(multi=False) for v in d["templating"]["list"] if v["name"] == "target"]'
  'service variable wrong query|[v.update(query="label_values(pprof_up, service)", definition="") for v in d["templating"]["list"] if v["name"] == "service"]'
  'no datasource variable|d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "datasource"]'
  'import-time inputs|d["__inputs"] = [{"name": "DS_PROMETHEUS"}]'
  'old schemaVersion|d["schemaVersion"] = 16'
)
for c in "${bad_cases[@]}"; do
  desc=${c%%|*}
  code=${c#*|}
  if ! mutate "$code"; then fail "could not build bad dashboard: $desc"; continue; fi
  rejects "structure check rejects: $desc" \
    python3 "$HERE/dashboard_queries.py" --dashboard "$TMP/bad.json" --metric-names "$HERE/metric_names.txt" --check-only
done
echo '{"panels": [' >"$TMP/bad.json"
rejects "structure check rejects: invalid JSON" \
  python3 "$HERE/dashboard_queries.py" --dashboard "$TMP/bad.json" --check-only

finish
