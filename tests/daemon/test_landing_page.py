#!/usr/bin/env python3
"""The landing page, against the Go demo and a real exporter.

 * A service_label that no goroutine carries (the demo labels its goroutines
   `service`; the target asks for `tenant`) is logged once per target, not
   once per scrape, and again after a reload changes it; the page shows the
   same warning for that target only.
 * tsnsrv's real, empty mutex and block profiles (it never sets a profile
   rate), served as a Go program would: the page tells the user to call
   runtime.SetMutexProfileFraction / runtime.SetBlockProfileRate.
 * In headless chromium (Debian's `chromium`), the page's figures equal
   /metrics: goroutines, services, goroutines per service, goroutines of
   each service, the GC share of CPU, the top CPU functions with their flat
   and cum percentages. Every link the browser sees answers 200 (a target
   that was never scraped shows no "latest" link); the `go tool pprof`
   command's URL is the exporter's own and `go tool pprof` reads it. A
   screenshot is kept in $TEST_UNDECLARED_OUTPUTS_DIR.

Without chromium the browser test prints SKIPPED (and writes it to
$TEST_WARNINGS_OUTPUT_FILE); under CI=true that is a failure, since
scripts/deps.sh installs it.
"""

import html.parser
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness as h  # noqa: E402

WARNING = 'msg="service_label matches no goroutine" target=%s profile=goroutine service_label=%s '


def warning_lines(ex, target, label):
    return ex.proc.stderr().count(WARNING % (target, label))


def goroutine_scrapes(m, target):
    return m.get("pprof_last_success_timestamp_seconds", 0, target=target,
                 profile="goroutine")


def test_service_label_warning_logged_once():
    demo = h.Demo()
    config = """\
targets:
  - name: wrong
    url: %(demo)s
    service_label: %(label)s
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
  - name: right
    url: %(demo)s
    service_label: service
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""
    path = h.write_file("label.yml", config % {"demo": demo.pprof_url, "label": "tenant"})
    ex = h.Exporter("--config.file=" + path)
    h.poll(lambda: warning_lines(ex, "wrong", "tenant"), h.STARTUP_TIMEOUT,
           "the service_label warning in the log:\n" + ex.proc.describe())
    # Three more scrapes of the wrong target: still one line.
    first = goroutine_scrapes(ex.metrics(), "wrong")
    seen = set()

    def more_scrapes():
        seen.add(goroutine_scrapes(ex.metrics(), "wrong"))
        return len(seen - {first}) >= 3
    h.poll(more_scrapes, h.STARTUP_TIMEOUT, "three more goroutine scrapes")
    h.check_eq(warning_lines(ex, "wrong", "tenant"), 1, "warning lines for target wrong")
    h.check("advice=" in ex.proc.stderr() and "service_count_regex" in ex.proc.stderr(),
            "the warning does not say what to do:\n" + ex.proc.stderr())
    h.check_eq(ex.proc.stderr().count("target=right profile=goroutine service_label"), 0,
               "warnings for target right, whose label the goroutines carry")
    m = ex.metrics()
    h.check_eq(m.one("pprof_services", target="wrong"), 0, "pprof_services of wrong")
    h.check(m.one("pprof_services", target="right") > 0, "pprof_services of right")

    status, _, body = ex.get("/")
    h.check_eq(status, 200, "GET /")
    page = body.decode()
    sections = dict(re.findall(r'<section data-target="([^"]+)">(.*?)</section>', page))
    h.check("service_label matches no goroutine" in sections.get("wrong", ""),
            "no warning in the section of target wrong:\n" + page)
    h.check("<code>tenant</code>" in sections["wrong"], "the warning does not name the label")
    h.check("class=warning" not in sections.get("right", "-"),
            "a warning in the section of target right:\n" + page)

    # A changed label is a new warning.
    h.write_file("label.yml", config % {"demo": demo.pprof_url, "label": "tenant2"})
    status, _, body = ex.post("/-/reload")
    h.check_eq(status, 200, "POST /-/reload: %r" % body)
    h.poll(lambda: warning_lines(ex, "wrong", "tenant2") == 1, h.STARTUP_TIMEOUT,
           "the warning for the new label")
    ex.stop()


def test_empty_contention_profiles_explained():
    fake = h.FaultServer()
    path = h.write_file("empty.yml", """targets:
  - name: tsnsrv
    url: %s
    profiles: {mutex: {interval: 5m}, block: {interval: 5m}}
""" % fake.url("tsnsrv"))
    ex = h.Exporter("--config.file=" + path)
    ex.wait_metrics(lambda m: all(m.get("pprof_up", 0, target="tsnsrv", profile=k) == 1
                                  for k in ("mutex", "block")),
                    "both profiles scraped")
    m = ex.metrics()
    h.check_eq(m.one("pprof_mutex_delay_seconds_total", target="tsnsrv"), 0, "mutex delay")
    status, _, body = ex.get("/")
    h.check_eq(status, 200, "GET /")
    page = body.decode()
    for kind, call in (("mutex", "runtime.SetMutexProfileFraction(n)"),
                       ("block", "runtime.SetBlockProfileRate(ns)")):
        h.check(re.search(r"<li class=warning data-profile=%s><b>%s profile is empty</b>"
                          r"\. [^<]*%s" % (kind, kind, re.escape(call)), page),
                "no advice for the empty %s profile:\n%s" % (kind, page))
    ex.stop()
    fake.close()


class Dom(html.parser.HTMLParser):
    """The page as chromium rendered it: per target section the text of each
    element with a class, the top CPU rows, and every link."""

    def __init__(self):
        super().__init__()
        self.sections = {}
        self.links = []
        self.commands = []
        self._section = None
        self._open = []  # (tag, class or None, attrs)
        self._text = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = self.sections.setdefault(
                a["data-target"], {"values": {}, "services": {}, "top": [], "warnings": []})
        if tag == "a":
            self.links.append(a["href"])
        if tag in ("br", "meta", "img"):
            return
        self._open.append((tag, a.get("class"), a))
        self._text[len(self._open)] = ""

    def handle_data(self, data):
        for depth in self._text:
            self._text[depth] += data

    def handle_endtag(self, tag):
        if not self._open:
            return
        depth = len(self._open)
        otag, cls, attrs = self._open.pop()
        text = self._text.pop(depth).strip()
        s = self._section
        if otag == "section":
            self._section = None
        elif otag == "code" and text.startswith("go tool pprof"):
            self.commands.append(text)
        elif s is None:
            return
        elif cls == "service":
            s["services"][attrs["data-service"]] = text
        elif cls == "warning":
            s["warnings"].append(text)
        elif otag == "li" and self._open and self._open[-1][1] == "top":
            s["top"].append(self._row)
        elif cls in ("fn", "flat", "cum"):
            if cls == "fn":
                self._row = {"fn": attrs["title"]}
            else:
                self._row[cls] = text
        elif cls and otag == "dd":
            s["values"][cls] = text


def percent(text):
    m = re.fullmatch(r"(?:cum )?([0-9.]+)%", text)
    h.check(m, "not a percentage: %r" % text)
    return float(m.group(1))


def check_close(got_percent, ratio, what):
    h.check(abs(got_percent - 100 * ratio) <= 0.05 + 1e-9,
            "%s: page %.1f%%, metrics %r" % (what, got_percent, ratio))


def chromium(*args):
    """Runs headless chromium with a profile of its own; returns stdout."""
    home = os.path.join(h.tmpdir(), "chromium-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home)
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--user-data-dir=" + home, "--no-first-run"] + list(args),
        env=env, capture_output=True, timeout=120)
    h.check_eq(proc.returncode, 0, "chromium exit code; stderr:\n%s"
               % proc.stderr.decode(errors="replace")[-3000:])
    return proc.stdout.decode()


def test_page_in_chromium_matches_metrics():
    h.require_tool("chromium", "chromium")
    demo = h.Demo()
    closed, port = h.free_port_not_listening()
    # Long intervals, so the figures mostly hold still while the page and
    # /metrics are compared (CPU's first scrape comes within its interval).
    config = """\
targets:
  - name: demo
    url: %s
    service_label: service
    profiles:
      goroutine: {interval: 5m}
      cpu: {interval: 15s, seconds: 1}
      heap: {interval: 5m}
      mutex: {interval: 5m}
  - name: wrong-label
    url: %s
    service_label: tenant
    profiles: {goroutine: {interval: 5m}}
  - name: down
    url: http://127.0.0.1:%d/debug/pprof/
    profiles: {heap: {interval: 5m}}
""" % (demo.pprof_url, demo.pprof_url, port)
    path = h.write_file("browser.yml", config)
    ex = h.Exporter("--config.file=" + path, "--web.enable-pprof-reserve")

    def ready(m):
        return all(m.get("pprof_up", 0, target="demo", profile=k) == 1
                   for k in ("goroutine", "cpu", "heap", "mutex")) and \
            m.get("pprof_up", None, target="down", profile="heap") == 0 and \
            m.get("pprof_up", 0, target="wrong-label", profile="goroutine") == 1
    ex.wait_metrics(ready, "all of demo's profiles scraped", timeout=40)
    url = ex.base + "/"

    def stamps(m):
        return [m.one("pprof_last_success_timestamp_seconds", target="demo", profile=k)
                for k in ("goroutine", "cpu")]

    def load_between_scrapes():
        before = ex.metrics()
        text = chromium("--dump-dom", url)
        after = ex.metrics()
        return (text, after) if stamps(before) == stamps(after) else None
    dom_text, m = h.poll(load_between_scrapes, 120, "a page load between two scrapes",
                         fatal=(h.TestFailure,))
    dom = Dom()
    dom.feed(dom_text)
    h.check("demo" in dom.sections, "no section for target demo:\n" + dom_text)
    demo_s = dom.sections["demo"]
    values = demo_s["values"]

    h.check_eq(int(values["goroutines"]), int(m.one("pprof_goroutines", target="demo")),
               "goroutines")
    h.check_eq(int(values["services"]), int(m.one("pprof_services", target="demo")), "services")
    h.check(abs(float(values["goroutines-per-service"])
                - m.one("pprof_goroutines_per_service", target="demo")) <= 0.05,
            "goroutines per service: page %s, metrics %r"
            % (values["goroutines-per-service"], m.one("pprof_goroutines_per_service", target="demo")))
    want_services = {d["service"]: v for d, v in m.find("pprof_service_goroutines", target="demo")}
    h.check(want_services, "the demo's goroutines carry no service label")
    got_services = {k: int(v.rsplit(": ", 1)[1]) for k, v in demo_s["services"].items()}
    h.check_eq(got_services, {k: int(v) for k, v in want_services.items()},
               "goroutines by service")
    check_close(percent(values["gc-share"]), m.one("pprof_cpu_gc_ratio", target="demo"),
                "GC share")

    flat = {d["function"]: v for d, v in m.find("pprof_cpu_flat_ratio", target="demo")}
    cum = {d["function"]: v for d, v in m.find("pprof_cpu_cum_ratio", target="demo")}
    h.check(flat, "no pprof_cpu_flat_ratio series")
    h.check_eq([r["fn"] for r in demo_s["top"]], sorted(flat, key=lambda f: (-flat[f], f)),
               "top CPU functions, in order")
    for row in demo_s["top"]:
        check_close(percent(row["flat"]), flat[row["fn"]], "flat of " + row["fn"])
        if row["fn"] in cum:
            check_close(percent(row["cum"]), cum[row["fn"]], "cum of " + row["fn"])
    h.check_eq(demo_s["warnings"], [], "warnings for the demo (it sets both profile rates)")
    wrong = dom.sections["wrong-label"]["warnings"]
    h.check(len(wrong) == 1 and wrong[0].startswith(
        "service_label matches no goroutine (service_label: tenant). "),
        "warnings of target wrong-label: %r" % wrong)

    # No dead links: every href, and the pprof commands' URLs, answer 200.
    h.check("/debug/pprof/down/heap" not in dom.links,
            "a latest link for target down, never scraped: %r" % dom.links)
    h.check_eq(sorted(c.split()[-1] for c in dom.commands),
               sorted([ex.base + "/debug/pprof/demo/" + k
                       for k in ("goroutine", "cpu", "heap", "mutex")]
                      + [ex.base + "/debug/pprof/wrong-label/goroutine"]),
               "go tool pprof commands")
    for link in dom.links + [c.split()[-1] for c in dom.commands]:
        absolute = urllib.parse.urljoin(url, link)
        if absolute.startswith("http://127.0.0.1:%d/" % port):
            continue  # target down's own endpoint: down by design
        status, _, _ = h.http_get(absolute, timeout=30)
        h.check_eq(status, 200, "GET %s (from the page)" % absolute)
    if shutil.which("go"):
        command = [c for c in dom.commands if c.endswith("/goroutine")][0].split()
        proc = subprocess.run(["go", "tool", "pprof", "-top", command[-1]],
                              capture_output=True, timeout=120,
                              env=dict(os.environ, HOME=h.tmpdir(),
                                       PPROF_TMPDIR=h.tmpdir()))
        h.check(proc.returncode == 0 and b"goroutine" in proc.stdout,
                "go tool pprof -top %s: %s" % (command[-1], proc.stderr.decode()[-2000:]))

    outdir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or h.tmpdir()
    shot = os.path.join(outdir, "landing_page.png")
    chromium("--screenshot=" + shot, "--window-size=1280,1600", "--hide-scrollbars", url)
    with open(shot, "rb") as f:
        h.check(f.read(8) == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG")
    print("screenshot: " + shot, flush=True)
    closed.close()
    ex.stop()


if __name__ == "__main__":
    h.run_tests([test_service_label_warning_logged_once,
                 test_empty_contention_profiles_explained,
                 test_page_in_chromium_matches_metrics])
