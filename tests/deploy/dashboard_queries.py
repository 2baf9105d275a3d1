#!/usr/bin/env python3
"""Print every PromQL query of a Grafana dashboard with its variables filled in.

An end-to-end test can run each printed line against a real Prometheus; the
deploy tests feed them to `promtool check rules` to catch syntax errors.
Before printing, the dashboard is checked for the structure Grafana needs
(unique panel ids, grid positions, a target with an expression in every
panel, the datasource taken from the `datasource` variable) and for the
variables and metric names this project relies on. Problems go to stderr
and the exit status is 1.

  dashboard_queries.py --target tsnsrv --service web --interval 1m
  dashboard_queries.py --check-only
"""

import argparse
import json
import os
import re
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DASHBOARD = os.path.join(HERE, "..", "..", "dashboards", "pprof-exporter.json")
METRIC_NAMES_FILE = os.path.join(HERE, "metric_names.txt")

DATASOURCE_REF = "${datasource}"
# Panel types that hold other panels or text and so have no queries.
NO_QUERY_TYPES = {"row", "text", "news", "dashlist"}

# $name, ${name}, ${name:format} and [[name]], as Grafana accepts them.
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
DURATION_RE = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
# Characters Grafana escapes in multi-value Prometheus variables; doubled
# backslash because the value lands inside a PromQL string literal.
REGEX_SPECIAL = set("\\^$*+?.()|{}[]")


def parse_duration(text):
    m = DURATION_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return int(m.group(1)) * UNIT_SECONDS[m.group(2)]


def format_duration(seconds):
    seconds = int(round(seconds))
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def load_metric_names(path):
    with open(path) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def all_panels(dashboard):
    """Top-level panels and the panels folded into collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:
            yield inner


def variable_query(var):
    q = var.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    return q or var.get("definition", "")


def check(dashboard, metric_names):
    """Return a list of problems; empty means Grafana can import it."""
    errors = []
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            errors.append(f"dashboard: missing {key!r}")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard.get("schemaVersion", 0) < 36:
        errors.append("dashboard: schemaVersion must be an integer >= 36")
    if "__inputs" in dashboard or "${DS_" in json.dumps(dashboard):
        errors.append("dashboard: uses import-time __inputs/${DS_...}; use the datasource variable")

    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("variable datasource: must be type datasource with query prometheus")
    for name, want in (("target", "label_values(pprof_up, target)"),
                       ("service", 'label_values(pprof_service_goroutines{target=~"$target"}, service)')):
        v = variables.get(name)
        if not v:
            errors.append(f"variable {name}: missing")
            continue
        if v.get("type") != "query":
            errors.append(f"variable {name}: must be a query variable")
        if re.sub(r"\s", "", variable_query(v)) != re.sub(r"\s", "", want):
            errors.append(f"variable {name}: query must be {want}")
        if not (v.get("multi") and v.get("includeAll")):
            errors.append(f"variable {name}: needs multi and includeAll")
        if (v.get("datasource") or {}).get("uid") != DATASOURCE_REF:
            errors.append(f"variable {name}: datasource must be {DATASOURCE_REF}")

    seen_ids = {}
    cells = {}
    for panel in all_panels(dashboard):
        label = f"panel {panel.get('id')} ({panel.get('title', '?')!r})"
        pid = panel.get("id")
        if not isinstance(pid, int):
            errors.append(f"{label}: id must be an integer")
        elif pid in seen_ids:
            errors.append(f"{label}: id also used by {seen_ids[pid]!r}")
        else:
            seen_ids[pid] = panel.get("title")

        grid = panel.get("gridPos")
        if not isinstance(grid, dict) or not all(isinstance(grid.get(k), int) for k in "hwxy"):
            errors.append(f"{label}: gridPos needs integer h, w, x, y")
        elif grid["x"] < 0 or grid["w"] < 1 or grid["h"] < 1 or grid["x"] + grid["w"] > 24:
            errors.append(f"{label}: gridPos outside the 24-column grid")
        elif panel.get("type") != "row" or not panel.get("collapsed"):
            for dx in range(grid["w"]):
                for dy in range(grid["h"]):
                    cell = (grid["x"] + dx, grid["y"] + dy)
                    if cell in cells:
                        errors.append(f"{label}: overlaps panel {cells[cell]}")
                        break
                    cells[cell] = pid
                else:
                    continue
                break

        if panel.get("type") in NO_QUERY_TYPES:
            continue
        if (panel.get("datasource") or {}).get("uid") != DATASOURCE_REF:
            errors.append(f"{label}: datasource must be {DATASOURCE_REF}")
        targets = panel.get("targets") or []
        if not targets:
            errors.append(f"{label}: no targets")
        refids = set()
        for t in targets:
            ref = t.get("refId")
            if not ref or ref in refids:
                errors.append(f"{label}: missing or duplicate refId {ref!r}")
            refids.add(ref)
            expr = t.get("expr", "")
            if not expr.strip():
                errors.append(f"{label} {ref}: empty expr")
                continue
            if (t.get("datasource") or {}).get("uid") != DATASOURCE_REF:
                errors.append(f"{label} {ref}: datasource must be {DATASOURCE_REF}")
            if "$target" not in expr:
                errors.append(f"{label} {ref}: expr does not filter by $target")
            for name in re.findall(r"\bpprof_\w+", expr):
                if name not in metric_names:
                    errors.append(f"{label} {ref}: unknown metric {name}")
            for m in VAR_RE.finditer(expr):
                name = next(g for g in m.groups() if g)
                if not name.startswith("__") and name not in variables:
                    errors.append(f"{label} {ref}: undefined variable ${name}")
    return errors


def escape_regex_value(value):
    return "".join("\\\\" + c if c in REGEX_SPECIAL else c for c in value)


def render_variable(var, values):
    """Grafana's Prometheus interpolation of a variable's selected values."""
    if not (var.get("multi") or var.get("includeAll")):
        return values[0]
    if any(v in ("All", "$__all") for v in values):
        return var.get("allValue") or ".*"
    escaped = [escape_regex_value(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def default_values(var):
    current = (var.get("current") or {}).get("value")
    if current is None:
        return []
    return current if isinstance(current, list) else [current]


def substitute(expr, bindings):
    def repl(m):
        name = next(g for g in m.groups() if g)
        if name not in bindings:
            raise KeyError(name)
        return bindings[name]
    return VAR_RE.sub(repl, expr)


def queries(dashboard, args):
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    chosen = {"target": args.target, "service": args.service}
    for item in args.var or []:
        name, _, value = item.partition("=")
        chosen[name] = [value]
    scrape = parse_duration(args.scrape_interval)
    range_s = parse_duration(args.range)
    out = []
    for panel in all_panels(dashboard):
        if panel.get("type") in NO_QUERY_TYPES:
            continue
        # A panel's min interval raises $__interval, as in Grafana.
        interval = parse_duration(args.interval)
        if panel.get("interval"):
            interval = max(interval, parse_duration(panel["interval"]))
        rate_interval = max(interval + scrape, 4 * scrape)
        bindings = {
            "__interval": format_duration(interval),
            "__interval_ms": str(int(interval * 1000)),
            "__rate_interval": format_duration(rate_interval),
            "__rate_interval_ms": str(int(rate_interval * 1000)),
            "__range": format_duration(range_s),
            "__range_s": str(int(range_s)),
            "__range_ms": str(int(range_s * 1000)),
        }
        for name, var in variables.items():
            if name == "datasource":
                continue
            values = chosen.get(name) or default_values(var)
            if values:
                bindings[name] = render_variable(var, values)
        for t in panel.get("targets", []):
            expr = substitute(t["expr"], bindings)
            out.append((panel.get("id"), t.get("refId"), panel.get("title", ""),
                        " ".join(expr.split())))
    return out


def main(argv=None):
    # Behave like a Unix filter when piped into head or grep -q.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dashboard", default=DEFAULT_DASHBOARD)
    p.add_argument("--metric-names", default=METRIC_NAMES_FILE,
                   help="file listing the exporter's metric names, one a line")
    p.add_argument("--target", action="append", help="repeat for several; 'All' for all")
    p.add_argument("--service", action="append", help="repeat for several; 'All' for all")
    p.add_argument("--var", action="append", metavar="NAME=VALUE",
                   help="value for any other dashboard variable (e.g. top=5)")
    p.add_argument("--interval", default="1m", help="$__interval (before panel minimums)")
    p.add_argument("--scrape-interval", default="15s",
                   help="the datasource's scrape interval, used for $__rate_interval")
    p.add_argument("--range", default="1h", help="dashboard time range, for $__range")
    p.add_argument("--format", choices=("plain", "tsv"), default="plain",
                   help="plain: one query a line; tsv: panel id, refId, title, query")
    p.add_argument("--check-only", action="store_true", help="validate, print nothing")
    args = p.parse_args(argv)

    with open(args.dashboard) as f:
        try:
            dashboard = json.load(f)
        except json.JSONDecodeError as e:
            print(f"{args.dashboard}: invalid JSON: {e}", file=sys.stderr)
            return 1
    errors = check(dashboard, load_metric_names(args.metric_names))
    if errors:
        for e in errors:
            print(f"{args.dashboard}: {e}", file=sys.stderr)
        return 1
    if args.check_only:
        return 0
    try:
        rows = queries(dashboard, args)
    except (KeyError, ValueError) as e:
        print(f"cannot substitute: {e}", file=sys.stderr)
        return 1
    for pid, ref, title, expr in rows:
        if args.format == "tsv":
            print(f"{pid}\t{ref}\t{title}\t{expr}")
        else:
            print(expr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
