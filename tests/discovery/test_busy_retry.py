#!/usr/bin/env python3
"""A CPU profile refused as profiler_busy is retried within its interval.

The exporter scrapes the demo's CPU profile every 60 s (2 s window). While
its first CPU scrape comes due, the test keeps the demo's profiler busy with
back-to-back 2 s profiles of its own, so that scrape is refused (Go's 500
with X-Go-Pprof: 1). As soon as the refusal shows in /metrics the test stops
competing; the exporter must then get its CPU profile by a retry (after
5-15 s, then 10-30 s, ...) well before its next regular turn 60 s after the
refused one, instead of losing the whole interval. The episode is logged
once, at info level, and never as a warning.
"""

import http.client
import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import harness as h  # noqa: E402

INTERVAL = 60
SECONDS = 2
CONFIG = """\
global: {scrape_interval: 60s, scrape_timeout: 5s}
targets:
  - name: demo
    url: %s
    profiles: {cpu: {interval: 60s, seconds: 2}, goroutine: {interval: 1s, timeout: 1s}}
"""
HAND_SECONDS = 2


class Competitor(threading.Thread):
    """Back-to-back CPU profiles on the demo until stop(); counts the ones
    refused because another profile (the exporter's) was running."""

    def __init__(self, demo):
        super().__init__(daemon=True, name="competing-cpu-profiles")
        self.demo = demo
        self.stopping = threading.Event()
        self.completed = 0
        self.refused = 0
        self.errors = []

    def run(self):
        while not self.stopping.is_set():
            conn = http.client.HTTPConnection(self.demo.host, self.demo.port,
                                              timeout=HAND_SECONDS + 30)
            try:
                conn.request("GET", "/debug/pprof/profile?seconds=%d" % HAND_SECONDS)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    self.completed += 1
                elif resp.status == 500 and resp.headers.get("X-Go-Pprof") == "1":
                    self.refused += 1
                    self.stopping.wait(0.05)  # the exporter's profile runs
                else:
                    self.errors.append(resp.status)
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))
            finally:
                conn.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=HAND_SECONDS + 35)


def busy_count(m):
    return m.get("pprof_scrape_errors_total", target="demo", profile="cpu",
                 reason="profiler_busy", default=0)


def refused_then_recovered(demo):
    """One attempt of the scenario. Returns False if the exporter's first CPU
    scrape slipped in between two competing profiles (then nothing was
    refused and the scenario must start over)."""
    competitor = Competitor(demo)
    competitor.start()
    h.poll(lambda: competitor.completed >= 1 or competitor.refused >= 1, 15,
           "the first competing profile")
    ex = h.Exporter("--config.file=" + h.write_file("busy.yml", CONFIG % demo.pprof_url))
    try:
        # The first CPU scrape comes within one interval: CPU phases are
        # spread over the whole interval.
        m = ex.wait_metrics(lambda m: busy_count(m) >= 1 or
                            m.get("pprof_up", target="demo", profile="cpu") is not None,
                            "the exporter's first CPU scrape", timeout=INTERVAL + 15)
        refused_at = time.time()
    finally:
        competitor.stop()
    h.check(not competitor.errors, "competing profiles failed: %r" % competitor.errors)
    if busy_count(m) == 0:
        ex.stop()
        return False
    h.check_eq(m.one("pprof_up", target="demo", profile="cpu"), 0, "cpu up after a refusal")

    # The retry gets the profile well before the next regular turn.
    m = ex.wait_metrics(lambda m: m.get("pprof_up", target="demo", profile="cpu") == 1,
                        "a CPU profile by a retry", timeout=INTERVAL - SECONDS - 5)
    success = m.one("pprof_last_success_timestamp_seconds", target="demo", profile="cpu")
    h.check(success < refused_at + INTERVAL - SECONDS,
            "the CPU profile came %.1fs after the refusal: not before the next turn"
            % (success - refused_at))
    h.check(m.get("pprof_cpu_duration_seconds", target="demo") is not None,
            "no CPU series after the retry")
    # A retry's refusals count like any other; there was at least one.
    h.check(busy_count(m) >= 1, "profiler_busy counter reset")

    log = ex.proc.stderr()
    infos = re.findall(r"level=info msg=\"profiler busy; retrying\" target=demo "
                       r"profile=cpu err=.*profiler_busy", log)
    h.check_eq(len(infos), 1, "info lines for the busy episode (%d refusals)\n%s"
               % (busy_count(m), log))
    h.check(not re.search(r"level=warn.*profiler_busy", log),
            "profiler_busy logged as a warning:\n%s" % log)
    h.check(re.search(r'level=info msg="scrape recovered" target=demo profile=cpu', log),
            "recovery not logged:\n%s" % log)
    return True


def test_busy_cpu_profile_is_retried_before_the_next_turn():
    demo = h.Demo()
    for _ in range(3):
        if refused_then_recovered(demo):
            return
        print("the exporter's CPU scrape ran between two competing profiles; again",
              flush=True)
    raise h.TestFailure("could not make the exporter's CPU scrape meet a busy profiler")


if __name__ == "__main__":
    h.run_tests([test_busy_cpu_profile_is_retried_before_the_next_turn])
