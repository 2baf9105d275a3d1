#!/usr/bin/env python3
"""A kind the target's Go does not have: goroutineleak (Go 1.27+) against a
target that answers 404, as every Go before 1.27 does.

test_missing_goroutineleak_is_said_once_and_backs_off: scraped every
second, the 404s count as reason http_status, the log says once in plain
words that the target's Go has no such profile (no warning per scrape),
and the slot backs off (interval x 1, 3, 7, ... after each 404 in a row), so
the target sees a handful of requests, not one a second. The other kind of
the same target (goroutine, healthy) is scraped as usual.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness as h  # noqa: E402

PLAIN_WORDS = "the target's Go version has no goroutineleak profile"


def test_missing_goroutineleak_is_said_once_and_backs_off():
    faults = h.FaultServer()
    config = h.write_file("leak.yml", """targets:
  - name: old-go
    url: %s
    profiles: {goroutineleak: {interval: 1s, timeout: 1s}}
""" % faults.url("notfound"))
    ex = h.Exporter("--config.file=" + config)
    ex.wait_metrics(lambda m: m.get("pprof_scrape_errors_total", 0, target="old-go",
                                    profile="goroutineleak", reason="http_status") >= 2,
                    "two 404s counted as http_status", timeout=20)
    # Over the next 8 s a scrape a second would make 8 more requests; the
    # back-off (3 s, then 7 s) allows at most 2.
    # This waits out a window on purpose: it counts what happens in it.
    before = faults.stats().get("notfound", 0)
    end = time.monotonic() + 8
    while time.monotonic() < end:
        h.check(ex.proc.alive(), "exporter exited:\n" + ex.proc.stderr())
        time.sleep(0.5)
    after = faults.stats().get("notfound", 0)
    h.check(after - before <= 2, "requests in 8 s while backing off: %d" % (after - before))
    m = ex.metrics()
    h.check_eq(m.get("pprof_up", None, target="old-go", profile="goroutineleak"), 0,
               "pprof_up of the missing kind")
    log = ex.proc.stderr()
    h.check_eq(log.count(PLAIN_WORDS), 1, "plain-words lines in the log:\n" + log)
    h.check("level=warn" not in log, "a warning was logged:\n" + log)
    ex.stop()


if __name__ == "__main__":
    h.run_tests([test_missing_goroutineleak_is_said_once_and_backs_off])
