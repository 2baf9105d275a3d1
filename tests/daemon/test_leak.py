#!/usr/bin/env python3
"""A goroutine leak in the demo shows in pprof_goroutines_per_service.

POST /demo/leak?on=1 makes every service leak goroutines (20/s each, under
the service's pprof label): pprof_goroutines_per_service must rise above its
quiet value and above 10, and every service's pprof_service_goroutines above
its quiet 4. POST ?on=0 releases the leaked goroutines: the per-service
counts must return to exactly 4 and goroutines per service to its quiet
value (give or take two HTTP handler goroutines).
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

SERVICES = ["svc-%d" % i for i in range(8)]
CONFIG = """\
targets:
  - name: demo
    url: %s
    service_label: service
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""


def per_service(m):
    return {d["service"]: v for d, v in m.find("pprof_service_goroutines", target="demo")}


def test_leak_on_and_off():
    demo = h.Demo()
    ex = h.Exporter("--config.file=" + h.write_file("leak.yml", CONFIG % demo.pprof_url))

    m = ex.wait_metrics(lambda m: m.get("pprof_up", target="demo", profile="goroutine") == 1,
                        "first goroutine scrape")
    h.check_eq(m.one("pprof_services", target="demo"), 8, "pprof_services")
    h.check_eq(per_service(m), {s: 4 for s in SERVICES}, "quiet per-service goroutines")
    quiet = m.one("pprof_goroutines_per_service", target="demo")
    h.check(quiet < 10, "quiet goroutines per service already %r" % quiet)

    status, _, body = demo.post("/demo/leak?on=1")
    h.check_eq(status, 200, "POST /demo/leak?on=1 status (body %r)" % body)
    m = ex.wait_metrics(
        lambda m: m.one("pprof_goroutines_per_service", target="demo") > max(10, quiet)
        and all(v > 4 for v in per_service(m).values()),
        "goroutines per service above 10 while leaking", timeout=15)
    leaking = m.one("pprof_goroutines_per_service", target="demo")
    h.check_eq(m.one("pprof_services", target="demo"), 8, "pprof_services while leaking")
    h.check_eq(sorted(per_service(m)), SERVICES, "services while leaking")
    # Leaked goroutines carry their service's label: the labelled ones grew
    # by as much as the total did (the unlabelled rest is unchanged).
    labelled_growth = sum(per_service(m).values()) - 4 * 8
    total_growth = m.one("pprof_goroutines", target="demo") - quiet * 8
    h.check(abs(total_growth - labelled_growth) <= 2,
            "total grew by %r but labelled goroutines by %r" % (total_growth, labelled_growth))
    print("  quiet %.3f, leaking %.3f goroutines per service" % (quiet, leaking))

    status, _, body = demo.post("/demo/leak?on=0")
    h.check_eq(status, 200, "POST /demo/leak?on=0 status (body %r)" % body)
    h.check_eq(demo.state()["leaked_goroutines"], 0, "demo's leaked_goroutines after on=0")
    ex.wait_metrics(
        lambda m: per_service(m) == {s: 4 for s in SERVICES}
        and m.one("pprof_goroutines_per_service", target="demo") <= quiet + 2 / 8,
        "goroutines per service back to quiet %r" % quiet, timeout=15)


if __name__ == "__main__":
    h.run_tests([test_leak_on_and_off])
