#!/usr/bin/env python3
"""A CPU profile already running in the target gives reason="profiler_busy".

The test starts its own `GET /debug/pprof/profile?seconds=6` on the demo in
a background thread (and makes sure it is the one running), then starts the
exporter with a CPU scrape every 2s. Go answers the exporter's overlapping
request with 500 and X-Go-Pprof: 1, which must count as
pprof_scrape_errors_total{profile="cpu",reason="profiler_busy"} (not
http_status) with pprof_up{profile="cpu"} 0 and no CPU series, while the
goroutine profile of the same target stays up. The hand-made profile must
complete undisturbed, and once it has, the exporter's CPU scrapes succeed
again (pprof_up 1, CPU series back) without the error counter being reset.
"""

import http.client
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

HAND_SECONDS = 6
CONFIG = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: demo
    url: %s
    profiles: {cpu: {interval: 2s, seconds: 1}, goroutine: {interval: 1s, timeout: 1s}}
"""


class HandProfile(threading.Thread):
    """GET /debug/pprof/profile?seconds=HAND_SECONDS: the request is sent
    before start() returns, the answer is read in the background."""

    def __init__(self, demo):
        super().__init__(daemon=True, name="hand-cpu-profile")
        self.conn = http.client.HTTPConnection(demo.host, demo.port,
                                               timeout=HAND_SECONDS + 30)
        self.conn.request("GET", "/debug/pprof/profile?seconds=%d" % HAND_SECONDS)
        self.result = None

    def run(self):
        try:
            resp = self.conn.getresponse()
            self.result = (resp.status, resp.headers, resp.read())
        except Exception as e:  # noqa: BLE001 - inspected by the test
            self.result = e
        finally:
            self.conn.close()


def is_busy_answer(result):
    status, headers, _ = result
    return status == 500 and headers.get("X-Go-Pprof") == "1"


def start_hand_profile(demo):
    """Starts the background profile; returns the thread once a probe has
    seen the demo's profiler busy with it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        hand = HandProfile(demo)
        hand.start()
        # The hand request was sent first, but Go could still start the
        # probe's profile first: then the probe takes 1s and the hand request
        # may have been refused; start over if so.
        while hand.is_alive():
            probe = demo.get("/debug/pprof/profile?seconds=1", timeout=20)
            if is_busy_answer(probe):
                return hand
            h.check_eq(probe[0], 200, "probe CPU profile status")
        hand.join()
    raise h.TestFailure("could not get a hand-made CPU profile running")


def test_concurrent_cpu_profile_is_profiler_busy():
    demo = h.Demo()
    hand = start_hand_profile(demo)
    started = time.monotonic()
    ex = h.Exporter("--config.file=" + h.write_file("busy.yml", CONFIG % demo.pprof_url))

    def busy(m):
        return m.get("pprof_scrape_errors_total", target="demo", profile="cpu",
                     reason="profiler_busy", default=0)

    m = ex.wait_metrics(lambda m: busy(m) >= 1, "a profiler_busy error", timeout=HAND_SECONDS)
    h.check(hand.is_alive() and time.monotonic() - started < HAND_SECONDS,
            "hand profile ended before the check; the busy error may be stale")
    h.check_eq(m.one("pprof_up", target="demo", profile="cpu"), 0, "pprof_up{cpu} while busy")
    for reason in h.ERROR_REASONS:
        if reason != "profiler_busy":
            h.check_eq(m.one("pprof_scrape_errors_total", target="demo", profile="cpu",
                             reason=reason), 0, "pprof_scrape_errors_total{cpu,%s}" % reason)
    h.check(not m.find("pprof_cpu_duration_seconds", target="demo"),
            "CPU series present although no CPU scrape succeeded")
    h.check(m.get("pprof_last_success_timestamp_seconds", target="demo", profile="cpu") is None,
            "cpu has a last success although every scrape was refused")
    ex.wait_metrics(lambda m: m.get("pprof_up", target="demo", profile="goroutine") == 1,
                    "goroutine of the same target up meanwhile", timeout=5)
    status, _, body = ex.get("/")
    h.check("profiler_busy" in body.decode("utf-8"),
            "landing page does not show the profiler_busy error")
    busy_count = busy(m)

    hand.join(timeout=HAND_SECONDS + 30)
    h.check(not hand.is_alive(), "hand-made profile did not finish")
    h.check(isinstance(hand.result, tuple) and hand.result[0] == 200 and
            hand.result[2][:2] == b"\x1f\x8b",
            "hand-made profile failed: %r" % (hand.result,))

    m = ex.wait_metrics(lambda m: m.get("pprof_up", target="demo", profile="cpu") == 1,
                        "cpu up again after the hand-made profile", timeout=10)
    h.check(busy(m) >= busy_count, "profiler_busy counter went from %r to %r"
            % (busy_count, busy(m)))
    h.check(m.get("pprof_cpu_duration_seconds", target="demo") is not None,
            "no CPU series after a successful CPU scrape")


if __name__ == "__main__":
    h.run_tests([test_concurrent_cpu_profile_is_profiler_busy])
