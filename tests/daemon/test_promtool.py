#!/usr/bin/env python3
"""`promtool check metrics` accepts the live /metrics page.

The exporter scrapes every profile kind of the real demo (so all derived
families are present, including function names full of punctuation), plus a
target that is down (health series without last-success ones) and constant
labels whose values need escaping (backslash, quote, newline). promtool must
print nothing and exit 0, and the harness's parser must get the label values
back unescaped.
"""

import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

PROMTOOL = os.environ.get("PROMTOOL", shutil.which("promtool") or "/usr/bin/promtool")

# YAML double-quoted: the value is  back\slash "quoted"<newline>line
TRICKY = 'back\\slash "quoted"\nline'
CONFIG = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: demo
    url: %(demo)s
    service_label: service
    labels: {host: "back\\\\slash \\"quoted\\"\\nline", zone: plain}
    profiles:
      cpu: {interval: 3s, seconds: 1}
      heap: {interval: 1s, timeout: 1s}
      allocs: {interval: 1s, timeout: 1s}
      goroutine: {interval: 1s, timeout: 1s}
      mutex: {interval: 1s, timeout: 1s}
      block: {interval: 1s, timeout: 1s}
  - name: down
    url: http://127.0.0.1:%(down)d/
    profiles: {heap: {interval: 1s, timeout: 1s}}
"""


def test_promtool_check_metrics():
    h.check(os.path.exists(PROMTOOL), "promtool not found at " + PROMTOOL)
    demo = h.Demo()
    sock, down_port = h.free_port_not_listening()
    try:
        path = h.write_file("promtool.yml", CONFIG % {"demo": demo.pprof_url, "down": down_port})
        ex = h.Exporter("--config.file=" + path)
        ex.wait_metrics(
            lambda m: all(m.get("pprof_up", target="demo", profile=k) == 1 for k in h.KINDS)
            and m.get("pprof_scrape_errors_total", target="down", profile="heap",
                      reason="connect", default=0) >= 1,
            "all kinds of demo up and target down failing", timeout=20)
        text = ex.metrics_text()
        h.write_file("promtool.metrics.txt", text)
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode("utf-8"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        h.check(p.returncode == 0 and out == "",
                "promtool check metrics: exit %d, output:\n%s" % (p.returncode, out))

        # The escaped constant label comes back intact on every demo series.
        m = h.parse_metrics(text)
        demo_series = m.with_label(target="demo")
        h.check(len(demo_series) > 50, "only %d demo series" % len(demo_series))
        for name, labels in demo_series:
            d = dict(labels)
            h.check_eq(d.get("host"), TRICKY, "host label of " + name)
            h.check_eq(d.get("zone"), "plain", "zone label of " + name)
        # Every family has HELP and TYPE, counters end in _total.
        for family in {n for n, _ in m.samples}:
            h.check(family in m.types and family in m.help, "no TYPE/HELP for " + family)
            if m.types[family] == "counter":
                h.check(family.endswith("_total"), "counter %s lacks _total" % family)
    finally:
        sock.close()


if __name__ == "__main__":
    h.run_tests([test_promtool_check_metrics])
