#!/usr/bin/env python3
"""Windows over the allocs profile follow a change of allocation pattern.

The demo allocates through main.allocPatternA until POST /demo/alloc?mode=b
switches it to main.allocPatternB. The cumulative top list
(pprof_allocs_flat_ratio) keeps showing A, which allocated since start-up;
the window since the previous scrape (pprof_allocs_window_flat_ratio) must
show B and no longer A, as `go tool pprof -base previous current` would.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

CONFIG = """\
targets:
  - name: demo
    url: %s
    top: 100
    profiles: {allocs: {interval: 2s, timeout: 2s}}
"""
A, B = "main.allocPatternA", "main.allocPatternB"


def window(m, function):
    return m.get("pprof_allocs_window_flat_ratio", 0, target="demo", function=function)


def cumulative(m, function):
    return m.get("pprof_allocs_flat_ratio", 0, target="demo", function=function)


def test_window_follows_the_allocation_pattern():
    demo = h.Demo()
    ex = h.Exporter("--config.file=" + h.write_file("window.yml", CONFIG % demo.pprof_url))

    m = ex.wait_metrics(lambda m: window(m, A) > 0, "a window showing " + A, timeout=30)
    h.check_eq(window(m, B), 0, "window share of %s before the switch" % B)
    h.check(m.one("pprof_allocs_window_bytes", target="demo") > 0, "window bytes > 0")
    seconds = m.one("pprof_allocs_window_seconds", target="demo")
    h.check(0 < seconds < 30, "window length %r s" % seconds)

    status, _, body = demo.post("/demo/alloc?mode=b")
    h.check_eq(status, 200, "POST /demo/alloc?mode=b status (body %r)" % body)
    # The first window after the switch may still straddle it; wait for one
    # that holds B only.
    m = ex.wait_metrics(lambda m: window(m, B) > 0 and window(m, A) == 0,
                        "a window with %s and without %s" % (B, A), timeout=30)
    h.check(cumulative(m, A) > 0,
            "cumulative allocs still list %s (%r)" % (A, cumulative(m, A)))
    h.check(window(m, B) > cumulative(m, B),
            "%s's window share %r exceeds its cumulative share %r"
            % (B, window(m, B), cumulative(m, B)))
    print("  %s: window %.3f, cumulative %.3f; %s cumulative %.3f"
          % (B, window(m, B), cumulative(m, B), A, cumulative(m, A)))


if __name__ == "__main__":
    h.run_tests([test_window_follows_the_allocation_pattern])
