#!/usr/bin/env python3
"""A target with nothing listening is down; a healthy one next to it is not.

The down target (a bound but never listening port, so connections are
refused) must show pprof_up 0 and pprof_scrape_errors_total{reason="connect"}
>= 1 (then growing) for each kind, no other error reason, no last-success or
derived series, and a "down" row with the connect error on the landing page;
the healthy target beside it keeps pprof_up 1 and keeps being scraped.

test_error_reasons then covers the other reasons with a stub server: 404 and
a 500 without X-Go-Pprof are http_status, a 200 that is no profile is
decode, a Content-Length over the 64 MiB cap is too_large, no answer within
the timeout is timeout; each counts under its own reason only and leaves
the target down without derived series.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

CONFIG = """\
targets:
  - name: healthy
    url: %(demo)s
    profiles: {goroutine: {interval: 1s, timeout: 1s}, heap: {interval: 1s, timeout: 1s}}
  - name: down
    url: http://127.0.0.1:%(down)d/debug/pprof/
    profiles: {goroutine: {interval: 1s, timeout: 1s}, heap: {interval: 1s, timeout: 1s}}
"""
KINDS = ("goroutine", "heap")


def test_down_target_beside_healthy_one():
    demo = h.Demo()
    sock, down_port = h.free_port_not_listening()
    try:
        path = h.write_file("down.yml", CONFIG % {"demo": demo.pprof_url, "down": down_port})
        ex = h.Exporter("--config.file=" + path)

        def connect_errors(m):
            return [m.get("pprof_scrape_errors_total", target="down", profile=k,
                          reason="connect", default=0) for k in KINDS]

        # Two failures per kind: the counter counts, and a repeated failure
        # does not bring the target back up.
        m = ex.wait_metrics(
            lambda m: min(connect_errors(m)) >= 2
            and all(m.get("pprof_up", target="healthy", profile=k) == 1 for k in KINDS),
            "connect errors on down and healthy up", timeout=15)
        for k in KINDS:
            h.check_eq(m.one("pprof_up", target="down", profile=k), 0, "pprof_up{down,%s}" % k)
            h.check_eq(m.one("pprof_up", target="healthy", profile=k), 1,
                       "pprof_up{healthy,%s}" % k)
            for reason in h.ERROR_REASONS:
                if reason != "connect":
                    h.check_eq(m.one("pprof_scrape_errors_total", target="down", profile=k,
                                     reason=reason), 0,
                               "pprof_scrape_errors_total{down,%s,%s}" % (k, reason))
                h.check_eq(m.one("pprof_scrape_errors_total", target="healthy", profile=k,
                                 reason=reason), 0,
                           "pprof_scrape_errors_total{healthy,%s,%s}" % (k, reason))
            h.check(m.get("pprof_last_success_timestamp_seconds", target="down", profile=k)
                    is None, "down has a last success timestamp for " + k)
            h.check(m.get("pprof_profile_bytes", target="down", profile=k) is None,
                    "down has pprof_profile_bytes for " + k)
            h.check(m.get("pprof_scrape_duration_seconds", target="down", profile=k) is not None,
                    "down lacks pprof_scrape_duration_seconds for " + k)
        h.check_eq(h.derived_series(m, "down"), {}, "derived series of the down target")
        h.check(h.derived_series(m, "healthy"), "no derived series for healthy")

        # The healthy target keeps being scraped while the other fails.
        last = m.one("pprof_last_success_timestamp_seconds", target="healthy", profile="goroutine")
        errors = connect_errors(m)
        m = ex.wait_metrics(
            lambda m: m.one("pprof_last_success_timestamp_seconds", target="healthy",
                            profile="goroutine") > last
            and all(a > b for a, b in zip(connect_errors(m), errors)),
            "another success of healthy and another failure of down", timeout=10)
        h.check_eq(m.one("pprof_up", target="healthy", profile="goroutine"), 1,
                   "healthy still up")

        status, _, body = ex.get("/")
        page = body.decode("utf-8")
        h.check_eq(status, 200, "GET / status")
        h.check("class=down" in page and "connect" in page and str(down_port) in page,
                "landing page does not show the down target's connect error:\n" + page)
        ex.proc.wait_output(r'level=warn msg="scrape failed" target=down')
    finally:
        sock.close()


STUB_CONFIG_HEAD = """\
targets:
"""
STUB_TARGET = """\
  - name: %(mode)s
    url: %(url)s
    profiles: {heap: {interval: 1s, timeout: 1s}}
"""
STUB_REASONS = {  # fault server mode: reason
    "notfound": "http_status",
    "error500": "http_status",
    "garbage": "decode",
    "huge_length": "too_large",
    "silent": "timeout",
}


def test_error_reasons():
    stub = h.FaultServer()
    try:
        path = h.write_file("stub.yml", STUB_CONFIG_HEAD + "".join(
            STUB_TARGET % {"mode": mode, "url": stub.url(mode)} for mode in STUB_REASONS))
        ex = h.Exporter("--config.file=" + path)

        def errors(m, mode):
            return {reason: m.get("pprof_scrape_errors_total", target=mode, profile="heap",
                                  reason=reason, default=0) for reason in h.ERROR_REASONS}

        m = ex.wait_metrics(
            lambda m: all(errors(m, mode)[reason] >= 2 for mode, reason in STUB_REASONS.items()),
            "two errors of the expected reason on every stub target", timeout=15)
        for mode, reason in STUB_REASONS.items():
            got = errors(m, mode)
            h.check(all(v == 0 for r, v in got.items() if r != reason),
                    "target %s: want only %s errors, got %r" % (mode, reason, got))
            h.check_eq(m.one("pprof_up", target=mode, profile="heap"), 0,
                       "pprof_up of stub target " + mode)
            h.check_eq(h.derived_series(m, mode), {}, "derived series of stub target " + mode)
        # A timeout gives up at the configured 1s, not later.
        took = m.one("pprof_scrape_duration_seconds", target="silent", profile="heap")
        h.check(0.9 <= took <= 2.5, "scrape of the silent stub took %rs, timeout 1s" % took)
    finally:
        stub.close()


if __name__ == "__main__":
    h.run_tests([test_down_target_beside_healthy_one, test_error_reasons])
