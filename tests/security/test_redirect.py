#!/usr/bin/env python3
"""Redirects are not followed: a target that answers 302 is a failed scrape.

The target (the fault server's "redirect" mode) answers every request
with 302 to another server. That other server (a recording proxy in front
of the real Go demo) would serve a valid profile, so following the
redirect would make the scrape succeed; and a redirect could carry the target's credentials to a
host nobody configured. The exporter must instead count the scrape as
failed with reason="http_status" (pprof_up 0), log the 302, and the other
server must see no request at all.
"""

import os
import sys

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "lib"))
import harness as h  # noqa: E402
import urllib.parse  # noqa: E402


def test_redirect_is_not_followed():
    demo = h.Demo()
    other = h.RecordingProxy(demo.base)
    redirector = h.FaultServer()
    redirector.control("redirect?to=" + urllib.parse.quote("http://127.0.0.1:%d" % other.port))
    secret = "redirect-pass-Vb6"
    password_file = h.write_file("password", secret)
    config = h.write_file("redirect.yml", (
        "global: {scrape_timeout: 1s}\n"
        "targets:\n"
        "  - name: moved\n"
        "    url: %s\n"
        "    basic_auth: {username: scraper, password_file: '%s'}\n"
        "    profiles: {goroutine: {interval: 1s}, heap: {interval: 1s}}\n"
        % (redirector.url("redirect"), password_file)))
    e = h.Exporter("--config.file=" + config)

    def errors(m, kind):
        return m.get("pprof_scrape_errors_total", 0, target="moved", profile=kind,
                     reason="http_status")

    m = e.wait_metrics(lambda m: errors(m, "goroutine") >= 2 and errors(m, "heap") >= 2,
                       "two failed scrapes of each kind", timeout=30)
    for kind in ("goroutine", "heap"):
        h.check_eq(m.get("pprof_up", None, target="moved", profile=kind), 0,
                   "pprof_up{profile=%s}" % kind)
        h.check(not m.find("pprof_last_success_timestamp_seconds", target="moved",
                           profile=kind), "a %s scrape succeeded" % kind)
    h.check_eq(other.records, [], "requests the redirect's destination answered")
    h.check(not other.count("goroutine") and not other.count("heap"),
            "the other server was asked for a profile")
    h.check("HTTP 302" in e.proc.stderr(), "no HTTP 302 in the log:\n" + e.proc.stderr())
    h.check(secret not in e.proc.stderr(), "the password is in the log")
    e.stop()
    redirector.close()
    other.close()


if __name__ == "__main__":
    h.run_tests([test_redirect_is_not_followed])
