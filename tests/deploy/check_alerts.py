#!/usr/bin/env python3
"""Checks of deploy/prometheus/alerts.yml that promtool doesn't make.

Every alert must have a `for:`, a known severity, summary, description and
a runbook_url whose anchor is a heading of deploy/README.md; every alert
about a target an evidence_url to the exporter's archive list of the
profile behind it; use only metric
names the exporter exports; and have both a firing and a not-firing case in
alerts_test.yml.

  check_alerts.py ALERTS_YML ALERTS_TEST_YML README_MD METRIC_NAMES_TXT
"""

import re
import sys

import yaml

RUNBOOK_PREFIX = "https://github.com/pprof-exporter/pprof_exporter/blob/main/deploy/README.md#"
REQUIRED_ALERTS = {
    "PprofGoroutinesPerServiceHigh", "PprofGCCPUShareHigh", "PprofTargetDown",
    "PprofProfilerBusy", "PprofHotFunction", "PprofGoroutinesStuck",
    "PprofGoroutineLeak", "PprofGoroutinesGrowing",
}
SEVERITIES = {"info", "warning", "critical"}


def github_anchor(heading):
    """The id GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def main(alerts_path, tests_path, readme_path, names_path):
    errors = []
    with open(alerts_path) as f:
        alerts = yaml.safe_load(f)
    with open(tests_path) as f:
        tests = yaml.safe_load(f)
    with open(readme_path) as f:
        anchors = {github_anchor(m.group(1))
                   for m in re.finditer(r"^#+\s+(.*)$", f.read(), re.M)}
    with open(names_path) as f:
        names = {l.strip() for l in f if l.strip() and not l.startswith("#")}

    rules = [r for g in alerts["groups"] for r in g["rules"] if "alert" in r]
    seen = {r["alert"] for r in rules}
    for missing in sorted(REQUIRED_ALERTS - seen):
        errors.append(f"missing alert {missing}")

    cases = {}
    for test in tests.get("tests", []):
        for case in test.get("alert_rule_test", []):
            kinds = cases.setdefault(case["alertname"], set())
            kinds.add("firing" if case.get("exp_alerts") else "silent")

    for r in rules:
        name = r["alert"]
        if not r.get("for"):
            errors.append(f"{name}: no for:")
        if r.get("labels", {}).get("severity") not in SEVERITIES:
            errors.append(f"{name}: severity must be one of {sorted(SEVERITIES)}")
        ann = r.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                errors.append(f"{name}: no {key} annotation")
        url = ann.get("runbook_url", "")
        if not url.startswith(RUNBOOK_PREFIX):
            errors.append(f"{name}: runbook_url must start with {RUNBOOK_PREFIX}")
        elif url[len(RUNBOOK_PREFIX):] not in anchors:
            errors.append(f"{name}: README has no heading for #{url[len(RUNBOOK_PREFIX):]}")
        if "target" in ann.get("summary", "") and not re.fullmatch(
                r"http://\{\{ \$labels\.instance \}\}/debug/pprof/\{\{ \$labels\.target \}\}/"
                r"(cpu|goroutine|goroutine_dump|goroutineleak|heap|allocs|mutex|block|\{\{ \$labels\.profile \}\})/archive",
                ann.get("evidence_url", "")):
            errors.append(f"{name}: no evidence_url to the exporter's archive list")
        for metric in re.findall(r"\bpprof_\w+", r["expr"]):
            if metric not in names:
                errors.append(f"{name}: unknown metric {metric}")
        for kind in ("firing", "silent"):
            if kind not in cases.get(name, set()):
                errors.append(f"{name}: alerts_test.yml has no {kind} case")

    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
