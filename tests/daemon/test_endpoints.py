#!/usr/bin/env python3
"""The daemon's HTTP endpoints and its clean exit on SIGTERM.

 * /-/healthy and /-/ready answer 200; GET /-/reload 405 with Allow: POST;
   an unknown path 404; the metrics live at --web.telemetry-path (here
   /custom-metrics) and not at /metrics.
 * / is an HTML page listing every target and profile kind, with target
   names HTML-escaped (a name full of <&"'> from the config file) and a
   --target=NAME=URL flag target showing all six kinds; the same name is
   label-escaped on the metrics page; build_info carries the version that
   --version prints.
 * SIGTERM while a CPU scrape is in flight ends the process with exit code 0
   within a few seconds. The scrape goes to a stand-in pprof server that
   reads the request and, like Go during a CPU profile, sends nothing back;
   the exporter's timeout for it is 23s, so only cancelling it makes the
   exit quick.
"""

import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

# YAML single-quoted: the name is  a<b>&"c'd
ODD_NAME = "a<b>&\"c'd"
ODD_NAME_HTML = "a&lt;b&gt;&amp;&quot;c&#39;d"
CONFIG = """\
global: {scrape_interval: 30s, scrape_timeout: 20s}
targets:
  - name: 'a<b>&"c''d'
    url: %(demo)s
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
  - name: silent
    url: http://127.0.0.1:%(silent)d/debug/pprof/
    profiles: {cpu: {interval: 3s, seconds: 2}}
"""


class SilentPprof:
    """Accepts connections, reads the request, never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.conns = []
        self.closed_by_peer = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data.split(b"\r\n", 1)[0].decode())
            while conn.recv(4096):  # until the exporter gives up on it
                pass
            self.closed_by_peer.set()
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_http_endpoints():
    demo = h.Demo()
    path = h.write_file("endpoints.yml", "targets:\n  - name: 'a<b>&\"c''d'\n    url: %s\n"
                        "    profiles: {goroutine: {interval: 1s, timeout: 1s}}\n"
                        % demo.pprof_url)
    ex = h.Exporter("--config.file=" + path, "--target=flagged=" + demo.base,
                    telemetry_path="/custom-metrics")
    for p in ("/-/healthy", "/-/ready"):
        status, _, body = ex.get(p)
        h.check_eq(status, 200, "GET %s status (body %r)" % (p, body))
    status, headers, _ = ex.get("/-/reload")
    h.check_eq(status, 405, "GET /-/reload status")
    h.check_eq(headers.get("Allow"), "POST", "Allow header of GET /-/reload")
    for p in ("/nope", "/metrics", "/-/healthyx", "/custom-metrics/x"):
        status, _, _ = ex.get(p)
        h.check_eq(status, 404, "GET %s status" % p)

    m = ex.wait_metrics(lambda m: m.get("pprof_up", target=ODD_NAME, profile="goroutine") == 1,
                        "the oddly named target up")
    status, headers, body = ex.get("/custom-metrics")
    h.check(b'target="a<b>&\\"c\'d"' in body, "target label not escaped as expected")
    h.check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
            "metrics Content-Type %r" % headers.get("Content-Type"))
    # Health series exist from a slot's first attempt on; the flag target's
    # six kinds (60s interval, first scrape within 10s) need not all have
    # had one yet, so the landing page below is where all six must show.
    kinds_up = [d["profile"] for d, _ in m.find("pprof_up", target="flagged")]
    h.check(set(kinds_up) <= set(h.KINDS), "odd kinds for target flagged: %r" % kinds_up)
    code, out, _ = h.run_cli(["--version"])
    h.check_eq(code, 0, "--version exit code")
    version = out.split()[-1]
    h.check_eq(m.one("pprof_exporter_build_info"), 1, "build_info value")
    h.check_eq(m.find("pprof_exporter_build_info")[0][0], {"version": version},
               "build_info labels vs --version")

    status, headers, body = ex.get("/")
    page = body.decode("utf-8")
    h.check_eq(status, 200, "GET / status")
    h.check(headers.get("Content-Type", "").startswith("text/html"),
            "landing page Content-Type %r" % headers.get("Content-Type"))
    h.check(ODD_NAME_HTML in page, "landing page lacks the escaped name %r:\n%s"
            % (ODD_NAME_HTML, page))
    h.check("<b>" not in page and ODD_NAME not in page, "landing page has the name unescaped")
    rows = [r for r in page.split("<tr>") if r.startswith("<td>")]
    flagged_kinds = sorted(k for r in rows if r.startswith("<td>flagged</td>")
                           for k in h.KINDS if ">%s</a>" % k in r)
    h.check_eq(flagged_kinds, sorted(h.KINDS), "kinds of target flagged on the landing page")
    odd_rows = [r for r in rows if r.startswith("<td>%s</td>" % ODD_NAME_HTML)]
    h.check(len(odd_rows) == 1 and ">goroutine</a>" in odd_rows[0],
            "landing page row of %r: %r" % (ODD_NAME, odd_rows))
    h.check('href="/custom-metrics"' in page, "landing page does not link the telemetry path")
    h.check(version in page, "landing page lacks the version")


def test_sigterm_with_cpu_scrape_in_flight():
    demo = h.Demo()
    silent = SilentPprof()
    try:
        path = h.write_file("sigterm.yml", CONFIG % {"demo": demo.pprof_url,
                                                    "silent": silent.port})
        ex = h.Exporter("--config.file=" + path)
        ex.wait_metrics(lambda m: m.get("pprof_up", target=ODD_NAME, profile="goroutine") == 1,
                        "demo target up")
        h.poll(lambda: silent.requests, 10, "the CPU scrape request to arrive")
        h.check(silent.requests[0].startswith("GET /debug/pprof/profile?seconds=2 "),
                "unexpected request %r" % silent.requests[0])
        h.check(ex.proc.alive(), "exporter died")
        sent = time.monotonic()
        ex.proc.signal(signal.SIGTERM)
        code = ex.proc.wait_exit(timeout=5)
        took = time.monotonic() - sent
        h.check(code is not None, "exporter still running 5s after SIGTERM with a CPU "
                "scrape in flight\n" + ex.proc.describe())
        h.check_eq(code, 0, "exit code after SIGTERM")
        print("  exited %.2fs after SIGTERM" % took)
        h.check(silent.closed_by_peer.wait(2), "in-flight request not closed by the exporter")
        err = ex.proc.stderr()
        h.check('msg="shutting down" signal=SIGTERM' in err and "msg=stopped" in err,
                "shutdown not logged:\n" + err)
    finally:
        silent.close()


if __name__ == "__main__":
    h.run_tests([test_http_endpoints, test_sigterm_with_cpu_scrape_in_flight])
