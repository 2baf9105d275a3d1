#!/usr/bin/env python3
"""pprof_heap_alloc_bytes_total must not go backwards when the heap scrape
fails.

The heap and the allocs profile both reduce to the pprof_heap_* totals under
the same labels ({target, constant labels}, no profile label). Once, /metrics
kept the heap slot's copy and dropped the other; when the heap scrape failed,
its series went and the allocs slot's older copy showed instead, so the
counter jumped back and rate() read a counter reset. Now a target that
scrapes heap exports the totals from heap only.

Setup: a recording proxy in front of the demo; heap every 1s, allocs every
4s. Once the heap copy is clearly newer than the allocs one, the proxy
fails heap with 503. The counter must not decrease.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

CONFIG = """\
targets:
  - name: t
    url: %s
    profiles: {heap: {interval: 1s, timeout: 1s}, allocs: {interval: 4s, timeout: 1s}}
"""


def test_alloc_counter_survives_failing_heap_scrape():
    demo = h.Demo()
    proxy = h.RecordingProxy(demo.base)
    try:
        ex = h.Exporter("--config.file=" + h.write_file("heap_allocs.yml",
                                                         CONFIG % proxy.pprof_url))
        m = ex.wait_metrics(lambda m: m.get("pprof_up", target="t", profile="heap") == 1
                            and m.get("pprof_up", target="t", profile="allocs") == 1,
                            "heap and allocs up")
        allocs_at = m.one("pprof_last_success_timestamp_seconds", target="t", profile="allocs")
        m = ex.wait_metrics(
            lambda m: m.one("pprof_last_success_timestamp_seconds", target="t",
                            profile="heap") > allocs_at + 1.5,
            "a heap scrape 1.5s newer than the allocs one")
        before = m.one("pprof_heap_alloc_bytes_total", target="t")
        proxy.fail_kinds.add("heap")
        m = ex.wait_metrics(lambda m: m.one("pprof_up", target="t", profile="heap") == 0,
                            "heap scrape failing")
        after = m.get("pprof_heap_alloc_bytes_total", target="t")
        h.check(after is None or after >= before,
                "pprof_heap_alloc_bytes_total went back from %r to %r when the heap scrape "
                "failed (the allocs slot's older copy took over)" % (before, after))
    finally:
        proxy.close()


if __name__ == "__main__":
    h.run_tests([test_alloc_counter_survives_failing_heap_scrape])
