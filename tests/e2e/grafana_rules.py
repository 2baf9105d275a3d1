"""Evaluates Grafana-managed alert rules against a real Prometheus.

There is no Grafana here, so this does what Grafana's alerting does with a
rule of deploy/grafana/provisioning/alerting/pprof-exporter.yml: run each
datasource query (refId A, an instant PromQL query) against Prometheus's
HTTP API, then the server-side expressions in order, per series:

  reduce     one number per series (last/mean/min/max/sum/count) with
             Grafana's modes: "" (strict: NaN stays NaN), dropNN (drop NaN
             first; nothing left is NaN), replaceNN (NaN -> replaceWithValue);
  threshold  gt/lt/within_range/outside_range -> 1 or 0 (NaN -> 0);
  math       an expression over $refs, numbers and + - * / == != > < >= <=
             && || ( ) (comparisons give 1 or 0); refs join on equal labels.

A series fires when the condition's value is non-zero and not NaN.

  firing = evaluate_rule(prom_url, rule, at)      # {frozenset(labels)}
  check_rules(prom_url, rules_path, leaky, quiet, at, alerts_path, must_fire, silent)

check_rules also runs each rule's twin in deploy/prometheus/alerts.yml
(when given) at the same instant: a rule must fire for exactly the series
that expression returns.
"""

import json
import math
import re
import urllib.parse
import urllib.request

import yaml


def instant_query(prom_url, expr, at):
    url = prom_url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success" or body["data"]["resultType"] != "vector":
        raise ValueError(f"{expr}: {body.get('error') or body['data']['resultType']}")
    # Grafana's Prometheus frames carry the series labels without __name__.
    return {frozenset((k, v) for k, v in s["metric"].items() if k != "__name__"): float(s["value"][1])
            for s in body["data"]["result"]}


def _reduce(series, model):
    reducer = model.get("reducer", "last")
    settings = model.get("settings") or {}
    mode = settings.get("mode", "")
    out = {}
    for labels, values in series.items():
        values = values if isinstance(values, list) else [values]
        if mode == "dropNN":
            values = [v for v in values if not math.isnan(v)]
        elif mode == "replaceNN":
            values = [settings["replaceWithValue"] if math.isnan(v) else v for v in values]
        if reducer == "count":
            out[labels] = float(len(values))
        elif not values:
            out[labels] = math.nan
        else:
            out[labels] = {"last": values[-1], "mean": sum(values) / len(values), "min": min(values),
                           "max": max(values), "sum": sum(values)}[reducer]
    return out


def _threshold(series, model):
    ev = model["conditions"][0]["evaluator"]
    p = ev["params"]
    test = {"gt": lambda v: v > p[0], "lt": lambda v: v < p[0],
            "within_range": lambda v: p[0] < v < p[1],
            "outside_range": lambda v: v < p[0] or v > p[1]}[ev["type"]]
    return {labels: float(not math.isnan(v) and test(v)) for labels, v in series.items()}


_MATH_TOKEN = re.compile(r"\s*(\$[A-Za-z]\w*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|==|!=|>=|<=|&&|\|\||[-+*/()<>])")


def _math(results, model):
    expr = model["expression"]
    tokens, pos = [], 0
    while pos < len(expr.rstrip()):
        m = _MATH_TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"math expression {expr!r}: cannot parse at {expr[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    refs = sorted({t[1:] for t in tokens if t.startswith("$")})
    py = " ".join({"&&": " and ", "||": " or "}.get(t, f"_{t[1:]}" if t.startswith("$") else t)
                  for t in tokens)
    # Series join on identical labels, as Grafana's math does.
    keys = set.intersection(*(set(results[r]) for r in refs)) if refs else {frozenset()}
    out = {}
    for labels in keys:
        env = {f"_{r}": results[r][labels] for r in refs}
        if any(math.isnan(v) for v in env.values()):
            out[labels] = math.nan
            continue
        out[labels] = float(eval(py, {"__builtins__": {}}, env))  # tokens checked above
    return out


def evaluate_rule(prom_url, rule, at):
    """The label sets for which the rule's condition is true at `at`."""
    results = {}
    for q in rule["data"]:
        model = q["model"]
        if q["datasourceUid"] != "__expr__":
            results[q["refId"]] = instant_query(prom_url, model["expr"], at)
            continue
        kind = model["type"]
        if kind == "reduce":
            results[q["refId"]] = _reduce(results[model["expression"]], model)
        elif kind == "threshold":
            results[q["refId"]] = _threshold(results[model["expression"]], model)
        elif kind == "math":
            results[q["refId"]] = _math(results, model)
        else:
            raise ValueError(f"{rule['title']}: expression type {kind} not supported here")
    cond = results[rule["condition"]]
    return {labels for labels, v in cond.items() if not math.isnan(v) and v != 0}


def load_rules(path):
    with open(path) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]


def check_rules(prom_url, rules_path, leaky, quiet, at, alerts_path=None, must_fire=(), silent=()):
    """Evaluates every rule at `at`; returns (rule title, ok, detail) tuples.

    Rules in must_fire must fire for `leaky` and not for `quiet`; rules in
    silent must not fire at all; every rule must fire for exactly the series
    its alerts.yml twin returns at the same instant."""
    twins = {}
    if alerts_path:
        with open(alerts_path) as f:
            twins = {r["alert"]: r["expr"] for g in yaml.safe_load(f)["groups"]
                     for r in g["rules"] if "alert" in r}
    out = []
    for rule in load_rules(rules_path):
        title = rule["title"]
        firing = evaluate_rule(prom_url, rule, at)
        targets = sorted({dict(l).get("target", "") for l in firing})
        problems = []
        if title in must_fire:
            if quiet in targets:
                problems.append(f"fires for the quiet target {quiet}")
            if leaky not in targets:
                problems.append(f"does not fire for the leaky target {leaky}")
        if title in silent and firing:
            problems.append(f"fires for {[dict(l) for l in firing][:2]}")
        if title in twins:
            want = set(instant_query(prom_url, twins[title], at))
            if want != firing:
                problems.append(f"fires for {len(firing)} series, alerts.yml's expr returns "
                                f"{len(want)}: only Grafana {[dict(l) for l in firing - want][:2]}, "
                                f"only Prometheus {[dict(l) for l in want - firing][:2]}")
        out.append((title, not problems, "; ".join(problems) or f"fires for targets {targets}"))
    return out
