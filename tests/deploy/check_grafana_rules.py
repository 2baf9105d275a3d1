#!/usr/bin/env python3
"""Checks of deploy/grafana/provisioning/alerting/pprof-exporter.yml.

1. What Grafana's provisioning parser (pkg/services/provisioning/alerting,
   ngalert's rule validation) requires: apiVersion 1; per group orgId,
   name, folder and an interval that is a positive multiple of 10s; per
   rule a uid of at most 40 characters from [A-Za-z0-9_-] (unique), a title
   (unique), data, a condition naming one of its refIds, a parseable `for`,
   known noDataState/execErrState; datasource queries with a non-zero
   relativeTimeRange; expressions of known types that name existing refIds.
2. Dollar signs: Grafana expands $VAR in every field but data[].model and
   annotations (recent versions: only ${...} there), so those two hold the
   only `$`, and never `$$` or `${`, and no other field has a `$` at all.
3. One source of truth: every rule equals its deploy/prometheus/alerts.yml
   twin: same title, `for`, labels, runbook and evidence links, and the
   PromQL of query A with the condition put back gives alerts.yml's expr
   text; and the dashboard's threshold variables default to the same
   numbers.

  check_grafana_rules.py GRAFANA_RULES_YML ALERTS_YML DASHBOARD_JSON
"""

import json
import re
import sys

import yaml

UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
EXPRESSION_TYPES = {"reduce", "threshold", "math", "resample", "classic_conditions"}
NO_DATA = {"Alerting", "NoData", "OK", "KeepLast"}
EXEC_ERR = {"Alerting", "Error", "OK", "KeepLast"}
# Dashboard variable -> the alert whose threshold it draws.
DASHBOARD_THRESHOLDS = {"goroutines_per_service_threshold": "PprofGoroutinesPerServiceHigh",
                        "gc_ratio_threshold": "PprofGCCPUShareHigh",
                        "stuck_goroutines_threshold": "PprofGoroutinesStuck",
                        "goroutines_growth_threshold": "PprofGoroutinesGrowing"}


def seconds(d):
    m = DURATION.fullmatch(str(d))
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + s


def norm(text):
    return " ".join(str(text).split())


def dollars(node, path, errors):
    """No `$` in interpolated fields; no `$$`/`${` in models and annotations."""
    if isinstance(node, dict):
        for k, v in node.items():
            dollars(v, path + [str(k)], errors)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            dollars(v, path + [str(i)], errors)
    elif isinstance(node, str):
        raw = "model" in path or "annotations" in path
        where = ".".join(path)
        if raw and ("$$" in node or "${" in node):
            errors.append(f"{where}: $$ or ${{ in a field Grafana does not expand: {node!r}")
        if not raw and "$" in node.replace("$$", ""):
            errors.append(f"{where}: a single $ in a field Grafana expands: {node!r}")


def condition_of(rule):
    """('>', N) or ('==', N) from the condition expression, else None."""
    by_ref = {d["refId"]: d for d in rule["data"]}
    model = by_ref[rule["condition"]]["model"]
    if model.get("type") == "threshold":
        ev = model["conditions"][0]["evaluator"]
        ops = {"gt": ">", "lt": "<"}
        return ops[ev["type"]], ev["params"][0]
    if model.get("type") == "math":
        m = re.fullmatch(r"\$B (==|>|<) ([0-9.]+)", model["expression"])
        if m:
            return m.group(1), float(m.group(2))
    return None


def num(x):
    return json.dumps(x if x != int(x) else int(x))


def promql_of(rule):
    """alerts.yml's form: query A's head, the comparison, then A's guard."""
    a = {d["refId"]: d for d in rule["data"]}["A"]["model"]["expr"]
    op, n = condition_of(rule)
    m = re.match(r"(.*?)\s+((?:and|unless) on .*)$", a, re.S)
    head, tail = (m.group(1), m.group(2)) if m else (a, "")
    return norm(f"{head} {op} {num(n)} {tail}")


def check_structure(doc, errors):
    if doc.get("apiVersion") != 1:
        errors.append("apiVersion must be 1")
    uids, titles = set(), set()
    for g in doc.get("groups", []):
        gname = g.get("name")
        for key in ("name", "folder", "interval"):
            if not str(g.get(key, "")).strip():
                errors.append(f"group {gname}: no {key}")
        if not isinstance(g.get("orgId"), int) or g["orgId"] < 1:
            errors.append(f"group {gname}: orgId must be a positive integer")
        iv = seconds(g.get("interval", ""))
        if not iv or iv % 10:
            errors.append(f"group {gname}: interval must be a positive multiple of 10s")
        for r in g.get("rules", []):
            t = r.get("title") or "<no title>"
            uid = str(r.get("uid", ""))
            if not UID.fullmatch(uid):
                errors.append(f"{t}: uid {uid!r} must be 1-40 characters of [A-Za-z0-9_-]")
            if uid in uids or t in titles:
                errors.append(f"{t}: uid or title used twice")
            uids.add(uid)
            titles.add(t)
            data = r.get("data") or []
            refs = [d.get("refId") for d in data]
            if not data or len(set(refs)) != len(refs) or None in refs:
                errors.append(f"{t}: data must be non-empty with unique refIds")
            if r.get("condition") not in refs:
                errors.append(f"{t}: condition {r.get('condition')!r} names no refId of {refs}")
            if seconds(r.get("for", "")) is None:
                errors.append(f"{t}: for {r.get('for')!r} is no duration")
            if r.get("noDataState") not in NO_DATA or r.get("execErrState") not in EXEC_ERR:
                errors.append(f"{t}: bad noDataState/execErrState")
            for d in data:
                model = d.get("model") or {}
                if model.get("refId") != d.get("refId"):
                    errors.append(f"{t}/{d.get('refId')}: model.refId differs")
                if d.get("datasourceUid") == "__expr__":
                    if model.get("type") not in EXPRESSION_TYPES:
                        errors.append(f"{t}/{d['refId']}: unknown expression type")
                    named = re.findall(r"\$([A-Za-z]\w*)", model.get("expression", "")) \
                        if model.get("type") == "math" else [model.get("expression")]
                    for ref in named:
                        if ref not in refs or ref == d["refId"]:
                            errors.append(f"{t}/{d['refId']}: expression names {ref!r}")
                else:
                    tr = d.get("relativeTimeRange") or {}
                    if not (isinstance(tr.get("from"), int) and isinstance(tr.get("to"), int)
                            and tr["from"] > tr["to"] >= 0):
                        errors.append(f"{t}/{d.get('refId')}: relativeTimeRange must be from > to >= 0")
                    if not model.get("expr"):
                        errors.append(f"{t}/{d.get('refId')}: datasource query without expr")


def main(grafana_path, alerts_path, dashboard_path):
    errors = []
    doc = yaml.safe_load(open(grafana_path))
    check_structure(doc, errors)
    dollars(doc, [], errors)

    prom = {r["alert"]: r for g in yaml.safe_load(open(alerts_path))["groups"]
            for r in g["rules"] if "alert" in r}
    graf = {r["title"]: r for g in doc["groups"] for r in g["rules"]}
    if set(prom) != set(graf):
        errors.append(f"alerts differ: only Prometheus {sorted(set(prom) - set(graf))}, "
                      f"only Grafana {sorted(set(graf) - set(prom))}")
    for name in sorted(set(prom) & set(graf)):
        p, g = prom[name], graf[name]
        if condition_of(g) is None:
            errors.append(f"{name}: condition is neither a threshold nor `$B op N`")
            continue
        if promql_of(g) != norm(p["expr"]):
            errors.append(f"{name}: Grafana query+condition\n    {promql_of(g)}\n  "
                          f"!= alerts.yml expr\n    {norm(p['expr'])}")
        if seconds(g["for"]) != seconds(p["for"]):
            errors.append(f"{name}: for {g['for']} != {p['for']}")
        if g.get("labels") != p.get("labels"):
            errors.append(f"{name}: labels {g.get('labels')} != {p.get('labels')}")
        for key in ("runbook_url", "evidence_url"):
            if g["annotations"].get(key) != p["annotations"].get(key):
                errors.append(f"{name}: {key} differs")
        _, n = condition_of(g)
        if f"threshold {num(n)})" not in g["annotations"]["description"] and \
                f"humanizePercentage {num(n)} " not in g["annotations"]["description"] and \
                "threshold" in p["annotations"]["description"]:
            errors.append(f"{name}: description does not state the threshold {num(n)}")

    variables = {v["name"]: v for v in json.load(open(dashboard_path))["templating"]["list"]}
    for var, alert in DASHBOARD_THRESHOLDS.items():
        if alert not in graf or condition_of(graf[alert]) is None:
            continue
        want = condition_of(graf[alert])[1]
        got = variables.get(var, {}).get("query")
        if got is None or float(got) != float(want) or \
                float(variables[var].get("current", {}).get("value", "nan")) != float(want):
            errors.append(f"dashboard variable {var} = {got}, alert {alert} threshold {want}")

    for e in errors:
        print(e, file=sys.stderr)
    print(f"{len(graf)} Grafana rules checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
