#!/usr/bin/env python3
"""The configuration of issue 11 starts and scrapes: targets inherit global's
scrape_interval and scrape_timeout as Prometheus's scrape configs do.

`global: {scrape_interval: 3s, scrape_timeout: 3s}` with `goroutine:
{interval: 2s}` on one target and the default profiles on another: the
inherited timeout is lowered to 2s and the default CPU window to 2s. The
daemon must start, scrape both targets of the Go demo, and show the
effective values on its landing page.
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CONFIG = """\
global: {scrape_interval: 3s, scrape_timeout: 3s}
targets:
  - name: fast
    url: %(demo)s
    profiles:
      goroutine: {interval: 2s}
  - name: plain
    url: %(demo)s
"""


def test_inherited_timeout_and_cpu_window_fit_the_interval():
    demo = h.Demo()
    path = h.write_file("inherit.yml", CONFIG % {"demo": demo.pprof_url})
    ex = h.Exporter("--config.file=" + path)
    ex.wait_metrics(
        lambda m: m.get("pprof_up", target="fast", profile="goroutine") == 1
        and m.get("pprof_up", target="plain", profile="cpu") == 1,
        "goroutine of fast and cpu of plain up", timeout=20)
    status, _, body = ex.get("/")
    page = body.decode("utf-8")
    h.check_eq(status, 200, "GET / status")
    for kind, every, timeout in (("goroutine", "2s", "2s"), ("cpu", "3s", r"6s \(2s profile\)"),
                                 ("heap", "3s", "3s")):
        h.check(re.search(r">%s</a></td><td>%s</td><td>%s</td>" % (kind, every, timeout), page),
                "landing page lacks %s every %s, timeout %s:\n%s" % (kind, every, timeout, page))
    h.check("profile?seconds=2\"" in page, "cpu is not scraped with ?seconds=2:\n" + page)
    ex.stop()


if __name__ == "__main__":
    h.run_tests([test_inherited_timeout_and_cpu_window_fit_the_interval])
