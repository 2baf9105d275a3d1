#!/usr/bin/env python3
"""Reloading the config file adds and removes targets and keeps the others.

The exporter starts with two unchanged-throughout targets: "stable" (the
demo, healthy) and "dead" (a port that refuses connections, so its
connect-error counter grows). Then:

 1. The file gains a target "second" (the same demo under another name) and
    POST /-/reload answers 200: second's pprof_up appears and turns 1.
    Right after the reload, stable's last success and dead's error counter
    are still there and not smaller than before: their slots were kept, not
    rebuilt (a rebuilt slot has no last success until its first scrape and
    restarts its counters at 0).
 2. The file loses "second" and SIGHUP reloads it: every series of second
    disappears; stable and dead again keep their state.
 3. A broken file: POST /-/reload answers 500 with the file:line error,
    pprof_exporter_config_last_reload_successful drops to 0, the old targets
    are still served and still scraped. SIGHUP with the broken file does
    the same. Fixing the file and reloading sets it back to 1.
"""

import os
import signal
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

HEAD = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: stable
    url: %(demo)s
    service_label: service
    profiles: {goroutine: {interval: 1s, timeout: 1s}, heap: {interval: 5s, timeout: 1s}}
  - name: dead
    url: http://127.0.0.1:%(dead)d/debug/pprof/
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""
SECOND = """\
  - name: second
    url: %(demo)s
    labels: {added: "yes"}
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""
# Line 5 is the stable target's `url:`; the error must name it.
BROKEN = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: stable
    service_label: service
    url: ftp://example.invalid/
"""
BROKEN_LINE = 5


def kept_state(m):
    """What must survive a reload: stable's last success per kind and dead's
    connect errors."""
    return {
        "stable_goroutine": m.get("pprof_last_success_timestamp_seconds",
                                  target="stable", profile="goroutine"),
        "stable_heap": m.get("pprof_last_success_timestamp_seconds",
                             target="stable", profile="heap"),
        "dead_connect": m.get("pprof_scrape_errors_total", target="dead",
                              profile="goroutine", reason="connect"),
    }


def check_kept(before, after, when):
    for key, old in before.items():
        new = after[key]
        h.check(new is not None and new >= old,
                "%s: %s was %r before, %r after (state of an unchanged target lost)"
                % (when, key, old, new))


def test_reload_adds_removes_and_keeps():
    demo = h.Demo()
    sock, dead_port = h.free_port_not_listening()
    try:
        params = {"demo": demo.pprof_url, "dead": dead_port}
        path = h.write_file("reload.yml", HEAD % params)
        ex = h.Exporter("--config.file=" + path)
        h.check_eq(ex.metrics().one("pprof_exporter_config_last_reload_successful"), 1,
                   "config_last_reload_successful at start")
        # dead needs a few failures so that a reset counter would show.
        m = ex.wait_metrics(
            lambda m: m.get("pprof_up", target="stable", profile="goroutine") == 1
            and m.get("pprof_up", target="stable", profile="heap") == 1
            and (m.get("pprof_scrape_errors_total", target="dead", profile="goroutine",
                       reason="connect") or 0) >= 3,
            "stable up and 3 connect errors on dead", timeout=20)
        h.check(not m.with_label(target="second"), "second exists before it is configured")
        before = kept_state(m)

        # 1. Add "second", reload over HTTP.
        h.write_file("reload.yml", HEAD % params + SECOND % params)
        status, _, body = ex.post("/-/reload")
        h.check_eq(status, 200, "POST /-/reload status (body %r)" % body)
        m = ex.metrics()
        check_kept(before, kept_state(m), "after adding a target")
        h.check_eq(m.one("pprof_exporter_config_last_reload_successful"), 1,
                   "config_last_reload_successful after a good reload")
        m = ex.wait_metrics(lambda m: m.get("pprof_up", target="second", profile="goroutine") == 1,
                            "pprof_up of the new target second", timeout=10)
        h.check_eq(m.one("pprof_services", target="second"), 1,
                   "second counts one service (no service_label)")
        h.check(all(d.get("added") == "yes" for d, _ in
                    m.find("pprof_goroutines", target="second")), "second's constant label")
        # Only the configured kind: one pprof_up for second.
        h.check_eq(len(m.find("pprof_up", target="second")), 1, "pprof_up series of second")
        before = kept_state(m)

        # 2. Remove it again, reload on SIGHUP.
        h.write_file("reload.yml", HEAD % params)
        reloads_before = m.one("pprof_exporter_config_last_reload_success_timestamp_seconds")
        ex.proc.signal(signal.SIGHUP)
        m = ex.wait_metrics(lambda m: not m.with_label(target="second"),
                            "every series of second gone after SIGHUP", timeout=10)
        h.check(m.one("pprof_exporter_config_last_reload_success_timestamp_seconds")
                > reloads_before, "reload timestamp did not advance on SIGHUP")
        check_kept(before, kept_state(m), "after removing a target")
        h.check_eq(m.one("pprof_up", target="stable", profile="goroutine"), 1,
                   "stable still up after SIGHUP")
        ex.proc.wait_output(r"msg=\"reloading config on SIGHUP\"")

        # 3. A broken file: rejected, old targets still served.
        h.write_file("reload.yml", BROKEN)
        status, _, body = ex.post("/-/reload")
        text = body.decode("utf-8", "replace")
        h.check_eq(status, 500, "POST /-/reload with a broken file: status")
        h.check("%s:%d:" % (path, BROKEN_LINE) in text,
                "reload error %r does not name %s:%d" % (text, path, BROKEN_LINE))
        m = ex.metrics()
        h.check_eq(m.one("pprof_exporter_config_last_reload_successful"), 0,
                   "config_last_reload_successful after a failed reload")
        last_good = m.one("pprof_exporter_config_last_reload_success_timestamp_seconds")
        h.check_eq(m.one("pprof_up", target="stable", profile="goroutine"), 1,
                   "stable after a failed reload")
        h.check_eq(m.get("pprof_up", target="dead", profile="goroutine"), 0,
                   "pprof_up of dead (still configured) after a failed reload")
        # ... and still scraped.
        last = m.one("pprof_last_success_timestamp_seconds", target="stable", profile="goroutine")
        ex.wait_metrics(lambda m: m.one("pprof_last_success_timestamp_seconds",
                                        target="stable", profile="goroutine") > last,
                        "a new scrape of stable after the failed reload", timeout=10)
        status, _, _ = ex.get("/-/ready")
        h.check_eq(status, 200, "/-/ready after a failed reload")

        # The same on SIGHUP: the failure is logged and flagged, nothing else.
        errors_logged = ex.proc.stderr().count("error loading config")
        ex.proc.signal(signal.SIGHUP)
        h.poll(lambda: ex.proc.stderr().count("error loading config") > errors_logged,
               5, "SIGHUP reload failure logged")
        m = ex.metrics()
        h.check_eq(m.one("pprof_exporter_config_last_reload_successful"), 0,
                   "config_last_reload_successful after a failed SIGHUP reload")
        h.check_eq(m.one("pprof_up", target="stable", profile="goroutine"), 1,
                   "stable after a failed SIGHUP reload")
        h.check(ex.proc.alive(), "exporter died on a failed SIGHUP reload")
        h.check_eq(m.one("pprof_exporter_config_last_reload_success_timestamp_seconds"),
                   last_good, "last successful reload time after failed reloads")

        # Fixed: back to 1, same targets as before the breakage.
        before = kept_state(m)
        h.write_file("reload.yml", HEAD % params)
        status, _, body = ex.post("/-/reload")
        h.check_eq(status, 200, "POST /-/reload after fixing the file (body %r)" % body)
        m = ex.metrics()
        h.check_eq(m.one("pprof_exporter_config_last_reload_successful"), 1,
                   "config_last_reload_successful after the fix")
        check_kept(before, kept_state(m), "after failed reloads and a fix")
    finally:
        sock.close()


if __name__ == "__main__":
    h.run_tests([test_reload_adds_removes_and_keeps])
