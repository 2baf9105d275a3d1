#!/usr/bin/env python3
"""End to end: Go demo -> pprof_exporter -> a real Prometheus, until every
shipped alert fires.

Starts tests/demo (quiet: no leak, no GC churn, its background load paused), a
second demo ("peer"), the fault server, pprof_exporter scraping the demos,
and Debian's Prometheus scraping the exporter every second with the shipped
deploy/prometheus/prometheus.yml (intervals shortened, target replaced) and
a copy of deploy/prometheus/alerts.yml as its rule file.

THE TEST'S COPY OF THE RULES SHORTENS EVERY `for:` TO 1s (FOR_SHORTENED; the
shipped values are 5 minutes to an hour) AND PprofGoroutinesGrowing's 6h
WINDOW TO 30s (WINDOWS_SHORTENED). Other expressions, labels and thresholds
are the shipped ones. Then, in this order, each a scenario made for one alert:

  quiet      nothing wrong for two CPU profiles: no alert pending or firing
             (then the forensics targets are added by reload, below)
  leak       /demo/leak on         -> PprofGoroutinesPerServiceHigh and
                                      PprofGoroutinesGrowing firing
  hot        /demo/load on         -> PprofHotFunction firing (hashLoop)
  gc         /demo/gc on           -> PprofGCCPUShareHigh firing (on GC
                                      without idle marking; Go 1.19's idle
                                      share is 0)
  grafana    Grafana's rules, evaluated as Grafana would (grafana_rules.py),
             select the demo and never the quiet peer
             (then every dashboard panel query returns data, and with leak
             and churn off again both alerts go back to inactive)
  down       the peer demo stopped -> PprofTargetDown firing
  busy       a target added by reload whose CPU profiler is always busy
                                   -> PprofProfilerBusy firing
  stuck      a third demo started at setup with BLOCKED goroutines parked
             for ever and a GC every 5 s (the runtime's wait clock starts at
             a GC), its goroutine_dump scraped every 5 s with stuck_after 1m
                                   -> PprofGoroutinesStuck firing, about 70 s
             after setup, so it runs alongside the scenarios above
  leak profile  the fault server's goroutineleak target (Go 1.27's profile
             shape, built by fault_server.leak_profile)
                                   -> PprofGoroutineLeak firing
  exporter   the exporter stopped  -> PprofExporterDown firing

Every wait polls with a deadline; the whole run takes about two to three
minutes. Runs under `bazel test //tests/e2e:all` and from a checkout after
`bazel build //exporter:pprof_exporter //tests/demo:demo`:

  python3 tests/e2e/prometheus_e2e_test.py [scenario regex]

Overrides: PPROF_EXPORTER_BIN, DEMO_BIN (binaries). Prometheus and promtool
come from PATH (Debian package prometheus); missing, the test is skipped,
or fails under CI=true.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml  # python3-yaml, see scripts/deps.sh

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

FOR_SHORTENED = "1s"
# Range windows of the shipped rules -> the test's copy. The demo's leak
# adds 20 goroutines per service a second, so 30 s shows it many times over
# the threshold, and the quiet demo's level moves by less than 1.
WINDOWS_SHORTENED = {"[6h]": "[30s]"}

ALERTS = ("PprofGoroutinesPerServiceHigh", "PprofGCCPUShareHigh", "PprofTargetDown",
          "PprofProfilerBusy", "PprofHotFunction", "PprofExporterDown",
          "PprofGoroutinesStuck", "PprofGoroutineLeak", "PprofGoroutinesGrowing")
TARGET = "demo"
PEER = "peer"
BUSY = "busy"
STUCK = "stuck"
LEAKY = "leaky"
# Goroutines the stuck demo parks in main.blockedForever: above the shipped
# PprofGoroutinesStuck threshold (10) on their own.
BLOCKED = 20
# The exporter's schedule for the demo. Goroutines every 2 s so the leak
# shows within seconds. The rest is about the quiet demo's GC share, which
# must stay under the alert's 5%: serving heap/allocs/mutex/block profiles
# every 2 s makes the demo allocate enough to put its GC share at ~2.3% on
# average with 2 of 30 five-second CPU profiles above 5%; at 10 s it is
# ~0.6%. A 10 s CPU window (the README's default) has ~130 samples, so one
# GC cycle is ~1-2%, not ~5% as in a 2 s window.
CPU_INTERVAL_S, CPU_SECONDS = 11, 10
PROFILE_INTERVALS = {"goroutine": "2s", "heap": "10s", "allocs": "10s",
                     "mutex": "10s", "block": "10s"}
QUIET_CPU_PROFILES = 2
# A CPU profile that starts after a switch is published within two intervals.
CPU_DEADLINE_S = 2 * CPU_INTERVAL_S + 20
FIRING_DEADLINE_S = 60
POLL_S = 0.25


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------------------
# Prometheus


class QueryError(Exception):
    pass


class Prometheus:
    def __init__(self, base):
        self.base = base

    def _get(self, path, params=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                raise QueryError("HTTP %d" % e.code) from None
        except (urllib.error.URLError, OSError) as e:
            raise QueryError(str(e)) from None
        if body.get("status") != "success":
            raise QueryError("%s: %s" % (body.get("errorType"), body.get("error")))
        return body["data"]

    def query(self, expr, at=None):
        """(resultType, result) of an instant query."""
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        data = self._get("/api/v1/query", params)
        return data["resultType"], data["result"]

    def vector(self, expr, at=None):
        kind, result = self.query(expr, at)
        if kind != "vector":
            raise QueryError("%s: %s, want vector" % (expr, kind))
        return result

    def rules(self):
        return {r["name"]: r for g in self._get("/api/v1/rules", {"type": "alert"})["groups"]
                for r in g["rules"]}


def rules_copy(workdir):
    """deploy/prometheus/alerts.yml with every `for` shortened to
    FOR_SHORTENED, written next to prometheus.yml; returns {alert: expr}."""
    shipped = h.find("deploy/prometheus/alerts.yml")
    with open(shipped) as f:
        doc = yaml.safe_load(f)
    exprs = {}
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                h.check("for" in rule, "%s: alert %s has no `for`" % (shipped, rule["alert"]))
                rule["for"] = FOR_SHORTENED
                for window, short in WINDOWS_SHORTENED.items():
                    rule["expr"] = rule["expr"].replace(window, short)
                exprs[rule["alert"]] = " ".join(rule["expr"].split())
    h.check_eq(sorted(exprs), sorted(ALERTS), "alerts in " + shipped)
    with open(os.path.join(workdir, "alerts.yml"), "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return exprs


def start_prometheus(prom_bin, workdir, exporter_addr):
    """Writes prometheus.yml from the shipped example and starts Prometheus
    on a port it picks; returns (Proc, Prometheus)."""
    shipped = h.find("deploy/prometheus/prometheus.yml")
    with open(shipped) as f:
        cfg = yaml.safe_load(f)
    cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "pprof-exporter"]
    h.check(len(jobs) == 1, "%s: no scrape job named pprof-exporter" % shipped)
    jobs[0].update(scrape_interval="1s", scrape_timeout="1s",
                   static_configs=[{"targets": [exporter_addr]}])
    h.check_eq(cfg.get("rule_files"), ["alerts.yml"], shipped + ": rule_files")
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    proc = h.Proc([prom_bin, "--config.file=" + config,
                   "--storage.tsdb.path=" + os.path.join(workdir, "data"),
                   "--web.listen-address=127.0.0.1:0", "--web.enable-lifecycle",
                   "--log.level=info"], "prometheus")
    m = proc.wait_output(r'msg="Listening on" address=127\.0\.0\.1:(\d+)',
                         timeout=60)
    prom = Prometheus("http://127.0.0.1:%s" % m.group(1))
    def ready():
        h.check(proc.alive(), "prometheus exited (code %s)\n%s"
                % (proc.popen.returncode, proc.stderr_tail()))
        return h.http_get(prom.base + "/-/ready")[0] == 200

    h.poll(ready, 60, "Prometheus ready", fatal=(h.TestFailure,))
    return proc, prom


# ---------------------------------------------------------------------------
# The processes, shared by the scenarios in order


class Env:
    pass


env = Env()


def check_alive():
    for p in env.procs:
        if p.exit_seen:
            continue  # stopped on purpose
        h.check(p.alive(), "%s exited (code %s)\n%s"
                % (p.name, p.popen.returncode, p.stderr_tail()))
    return True


def demo_switch(demo, **switches):
    for name, on in switches.items():
        status, _, body = demo.post("/demo/%s?on=%d" % (name, 1 if on else 0))
        h.check_eq(status, 200, "POST /demo/%s: %r" % (name, body))
    return demo.state()


def exporter_config(demo_url, peer_url, busy_url=None, forensics=False):
    targets = [{
        "name": TARGET,
        "url": demo_url,
        "service_label": "service",
        "labels": {"host": "e2e"},
        "profiles": {
            "cpu": {"interval": "%ds" % CPU_INTERVAL_S, "seconds": CPU_SECONDS},
            **{k: {"interval": v, "timeout": "2s"} for k, v in PROFILE_INTERVALS.items()},
        },
    }, {
        # Quiet all along (its load paused): Grafana's rules must never
        # select it. Goroutines every second, for the down scenario.
        "name": PEER,
        "url": peer_url,
        "service_label": "service",
        "profiles": {
            "cpu": {"interval": "%ds" % CPU_INTERVAL_S, "seconds": CPU_SECONDS},
            "goroutine": {"interval": "1s", "timeout": "1s"},
        },
    }]
    if busy_url:
        targets.append({"name": BUSY, "url": busy_url,
                        "profiles": {"cpu": {"interval": "2s", "timeout": "1s", "seconds": 1}}})
    if forensics:
        targets.append({"name": STUCK, "url": env.stuck.pprof_url, "profiles": {
            "goroutine_dump": {"interval": "5s", "timeout": "3s", "stuck_after": "1m"}}})
        targets.append({"name": LEAKY, "url": env.faults.url("goroutineleak"), "profiles": {
            "goroutineleak": {"interval": "2s", "timeout": "1s"}}})
    return yaml.safe_dump({"global": {"scrape_interval": "10s", "scrape_timeout": "3s"},
                           "targets": targets}, sort_keys=False)


def setup():
    env.procs = []
    env.ready = "setup failed"
    env.prom_bin = h.require_tool("prometheus", "prometheus")
    env.promtool = h.require_tool("promtool", "prometheus")
    env.workdir = os.path.join(h.tmpdir(), "e2e")
    os.makedirs(env.workdir, exist_ok=True)
    env.exprs = rules_copy(env.workdir)
    env.demo = h.shared(h.Demo("-load-paused"))
    env.peer = h.shared(h.Demo("-load-paused"))
    # Started first thing: its goroutines must wait a minute to be stuck.
    env.stuck = h.shared(h.Demo("-load-paused", "-services=1", "-blocked=%d" % BLOCKED,
                                "-gc-every=5s"))
    env.forensics = False
    env.faults = h.shared(h.FaultServer())
    env.config = os.path.join(env.workdir, "exporter.yml")
    with open(env.config, "w") as f:
        f.write(exporter_config(env.demo.pprof_url, env.peer.pprof_url))
    env.exporter = h.shared(h.Exporter("--config.file=" + env.config))
    env.prom_proc, env.prom = start_prometheus(
        env.prom_bin, env.workdir, "127.0.0.1:%d" % env.exporter.port)
    h.shared(env.prom_proc)
    env.procs = [env.demo.proc, env.peer.proc, env.stuck.proc, env.faults.proc,
                 env.exporter.proc, env.prom_proc]
    env.t0 = time.time()
    h.poll(lambda: check_alive() and env.prom.vector('up{job="pprof-exporter"} == 1'), 30,
           "Prometheus scraping the exporter", fatal=(h.TestFailure,))
    env.ready = None


def needs_setup():
    """Each scenario builds on the processes setup() started."""
    reason = getattr(env, "ready", "setup did not run")
    if reason is None:
        return
    if isinstance(reason, h.Skipped):
        h.skip(str(reason))
    raise h.TestFailure(reason)


def poll(fn, timeout, what):
    """h.poll that fails at once if a process the scenarios need has died."""
    return h.poll(lambda: check_alive() and fn(), timeout, what, interval=POLL_S,
                  fatal=(h.TestFailure,))


def profile_start(profile, target=TARGET):
    """When the last published profile of `profile` began (Prometheus's view)."""
    psel = '{target="%s", profile="%s"}' % (target, profile)
    v = env.prom.vector("pprof_last_success_timestamp_seconds%s - "
                        "pprof_scrape_duration_seconds%s" % (psel, psel))
    return float(v[0]["value"][1]) if v else None


def wait_profiles_since(t, profile, count=1, deadline=CPU_DEADLINE_S):
    """Waits until `count` profiles of `profile` that began after t are in."""
    seen = set()

    def enough():
        start = profile_start(profile)
        if start and start >= t:
            seen.add(start)
        return len(seen) >= count

    poll(enough, deadline * count, "%d %s profile(s) begun after the switch" % (count, profile))


def wait_firing(alert, deadline=FIRING_DEADLINE_S, match=lambda labels: True, **labels):
    """Waits for Prometheus to hold `alert` firing with labels including
    `labels` (and match(labels) true); returns that alert's labels."""
    def firing():
        rule = env.prom.rules().get(alert)
        h.check(rule is not None, "Prometheus has no rule %s" % alert)
        h.check(rule.get("health") == "ok", "%s: %s" % (alert, rule.get("lastError")))
        for a in rule.get("alerts", []):
            if (a["state"] == "firing" and match(a["labels"])
                    and all(a["labels"].get(k) == v for k, v in labels.items())):
                return a["labels"]
        return None

    try:
        got = poll(firing, deadline, "%s firing with %r" % (alert, labels))
    except h.TestFailure:
        rule = env.prom.rules().get(alert, {})
        log("%s: state %s, alerts %s\n    expr %s" % (alert, rule.get("state"),
                                                    rule.get("alerts"), env.exprs[alert]))
        raise
    log("%s firing: %s" % (alert, got))
    return got


def wait_inactive(alerts, deadline, target=TARGET):
    """Waits until none of `alerts` is pending or firing for `target` (the
    forensics targets may hold the goroutine alerts meanwhile)."""
    def inactive():
        rules = env.prom.rules()
        return all(all(x["labels"].get("target") != target for x in rules[a]["alerts"])
                   for a in alerts) or None
    try:
        poll(inactive, deadline, "%s inactive" % ", ".join(alerts))
    except h.TestFailure:
        rules = env.prom.rules()
        log("; ".join("%s: %s %s" % (a, rules[a]["state"], [x["labels"] for x in rules[a]["alerts"]])
                      for a in alerts))
        raise


# ---------------------------------------------------------------------------
# The scenarios (run in this order by h.run_tests)


def test_promtool_accepts_rules():
    try:
        setup()
    except h.Skipped as e:
        env.ready = e
        raise
    for path in (h.find("deploy/prometheus/alerts.yml"), os.path.join(env.workdir, "alerts.yml")):
        p = subprocess.run([env.promtool, "check", "rules", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        h.check(p.returncode == 0, "promtool check rules %s:\n%s" % (path, p.stdout))


def test_quiet_fires_nothing():
    """Two CPU profiles of the quiet demo in: no alert was ever pending or
    firing (Prometheus's ALERTS series holds both states)."""
    needs_setup()
    state = env.demo.state()
    h.check(not (state["leak"] or state["gc_heavy"] or state["load"]),
            "demo not quiet: %r" % state)
    wait_profiles_since(env.t0, "cpu", count=QUIET_CPU_PROFILES)
    wait_profiles_since(env.t0, "goroutine")
    span = int(time.time() - env.t0) + 5
    got = env.prom.vector("count_over_time(ALERTS[%ds])" % span)
    h.check(not got, "alerts while quiet: %s" % [s["metric"] for s in got])
    rules = env.prom.rules()
    h.check_eq(sorted(rules), sorted(ALERTS), "alert rules Prometheus evaluates")
    bad = {n: (r["health"], r.get("lastError")) for n, r in rules.items() if r["health"] != "ok"}
    h.check(not bad, "rules evaluated with errors: %r" % bad)
    # Now the forensics targets, which fire by design (the stuck demo's
    # clock has been running since setup).
    env.forensics = True
    reload_exporter()


def reload_exporter(busy_url=None):
    with open(env.config, "w") as f:
        f.write(exporter_config(env.demo.pprof_url, env.peer.pprof_url, busy_url=busy_url,
                                forensics=env.forensics))
    env.exporter.proc.signal(signal.SIGHUP)


def test_leak_fires_goroutines_per_service():
    needs_setup()
    demo_switch(env.demo, leak=True)
    wait_firing("PprofGoroutinesPerServiceHigh", target=TARGET, host="e2e",
                job="pprof-exporter")
    # The same leak seen as growth (over the copy's 30 s window).
    wait_firing("PprofGoroutinesGrowing", target=TARGET, host="e2e")


def test_gc_churn_fires_gc_share():
    needs_setup()
    demo_switch(env.demo, gc=True)
    wait_firing("PprofGCCPUShareHigh", deadline=CPU_DEADLINE_S, target=TARGET, host="e2e")


def test_grafana_rules_select_the_leaky_target():
    """With leak and churn on, Grafana's rules (deploy/grafana/...), as
    Grafana's expressions would evaluate them (grafana_rules.py), select the
    leaking demo and never the quiet peer for the leak and GC alerts; the
    health rules select nothing; and each rule selects exactly the series of
    its alerts.yml twin at the same instant."""
    needs_setup()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import grafana_rules
    rules = h.find("deploy/grafana/provisioning/alerting/pprof-exporter.yml")
    alerts = h.find("deploy/prometheus/alerts.yml")
    last = []

    def all_ok():
        check_alive()
        # 3 s back, so no scrape lands inside the instant both sides read.
        last[:] = grafana_rules.check_rules(
            env.prom.base, rules, TARGET, PEER, time.time() - 3, alerts,
            must_fire=("PprofGoroutinesPerServiceHigh", "PprofGCCPUShareHigh",
                       "PprofGoroutinesGrowing"),
            silent=("PprofTargetDown", "PprofProfilerBusy", "PprofExporterDown"))
        return all(ok for _, ok, _ in last)

    try:
        h.poll(all_ok, FIRING_DEADLINE_S, "every Grafana rule as expected")
    except h.TestFailure:
        raise h.TestFailure("Grafana rules: " + "; ".join(
            "%s: %s" % (title, detail) for title, ok, detail in last if not ok))


# ---------------------------------------------------------------------------
# Dashboards


def dashboard_queries(variant_args):
    script = h.find("tests/deploy/dashboard_queries.py")
    args = [sys.executable, script,
            "--dashboard", h.find("dashboards/pprof-exporter.json"),
            "--metric-names", h.find("tests/deploy/metric_names.txt"),
            "--scrape-interval", "1s", "--format", "tsv"] + variant_args
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        raise h.TestFailure(f"dashboard_queries.py {' '.join(variant_args)}: exit {p.returncode}\n{p.stderr}")
    rows = []
    for line in p.stdout.splitlines():
        pid, ref, title, expr = line.split("\t", 3)
        rows.append((pid, ref, title, expr))
    return rows


def has_data(kind, result):
    """'ok', or why Grafana would show nothing."""
    if kind == "scalar":
        values = [result[1]]
    elif kind == "vector":
        values = [s["value"][1] for s in result]
    elif kind == "matrix":
        values = [v[1] for s in result for v in s["values"]]
    else:
        return f"unexpected result type {kind}"
    if not values:
        return "empty"
    if all(v in ("NaN", "+Inf", "-Inf") for v in values):
        return f"only {sorted(set(values))}"
    return "ok"


def test_dashboard_queries_return_data():
    """Every panel query, for each variable choice, returns data (leak and
    churn on, so every panel has something to show)."""
    needs_setup()
    variants = [
        # The forensics panels show the targets that have those profiles.
        ["--target", TARGET, "--target", STUCK, "--target", LEAKY, "--service", "svc-0",
         "--interval", "15s"],
        ["--target", "All", "--service", "svc-1", "--service", "svc-7", "--interval", "15s"],
    ]
    for variant in variants:
        rows = dashboard_queries(variant)
        h.check(rows, "no dashboard queries for %s" % variant)
        status = {}

        def all_have_data():
            for row in rows:
                if status.get(row) != "ok":
                    try:
                        status[row] = has_data(*env.prom.query(row[3]))
                    except QueryError as e:
                        status[row] = "error: %s" % e
            return all(v == "ok" for v in status.values())

        try:
            poll(all_have_data, 60, "every panel query of %s returning data" % variant)
        except h.TestFailure:
            for (pid, ref, title, expr), s in status.items():
                if s != "ok":
                    print("    panel %s%s %r: %s\n      %s" % (pid, ref, title, s, expr))
            raise
    # The service variable must really filter.
    rows = dashboard_queries(["--target", TARGET, "--service", "svc-3", "--interval", "15s"])
    got = set()
    for r in rows:
        if "pprof_service_goroutines" in r[3]:
            got |= {s["metric"].get("service") for s in env.prom.vector(r[3])}
    h.check_eq(got, {"svc-3"}, "services selected by $service=svc-3")


def test_quiet_again_resolves():
    """Leak and churn off: once profiles taken after the switch are in, both
    alerts go back to inactive for the demo."""
    needs_setup()
    t = time.time()
    demo_switch(env.demo, leak=False, gc=False)
    wait_profiles_since(t, "cpu")
    wait_inactive(["PprofGoroutinesPerServiceHigh", "PprofGCCPUShareHigh"], CPU_DEADLINE_S)


def test_hot_function_fires():
    needs_setup()
    demo_switch(env.demo, load=True)
    # hashLoop burns ~12% of a core, about a third of the demo's CPU; its
    # flat time shows in the inlined main.mix64.
    wait_firing("PprofHotFunction", deadline=CPU_DEADLINE_S, target=TARGET,
                match=lambda labels: labels.get("function") in ("main.mix64", "main.hashLoop"))


def test_target_down_fires():
    needs_setup()
    env.peer.stop()  # checked: exit 0 after SIGTERM
    wait_firing("PprofTargetDown", target=PEER, profile="goroutine")


def test_profiler_busy_fires():
    needs_setup()
    reload_exporter(busy_url=env.faults.url("busy"))
    wait_firing("PprofProfilerBusy", target=BUSY)


def test_stuck_goroutines_fire():
    """The stuck demo's BLOCKED goroutines, parked since setup, have waited
    past stuck_after (1m; the runtime prints whole minutes, counted from the
    first GC that saw them): PprofGoroutinesStuck fires, and the exporter
    names main.blockedForever for exactly BLOCKED of them."""
    needs_setup()
    wait_firing("PprofGoroutinesStuck", deadline=120, target=STUCK)
    got = env.prom.vector('pprof_goroutines_stuck_by_function{target="%s", '
                          'function="main.blockedForever"}' % STUCK)
    h.check_eq([float(s["value"][1]) for s in got], [float(BLOCKED)],
               "stuck goroutines in main.blockedForever")


def test_goroutine_leak_profile_fires():
    """The fault server's goroutineleak profile reports LEAKS goroutines:
    PprofGoroutineLeak fires with that value."""
    needs_setup()
    sys.path.insert(0, os.path.dirname(h.find("tests/faults/fault_server.py")))
    import fault_server
    wait_firing("PprofGoroutineLeak", target=LEAKY)
    got = env.prom.vector('pprof_goroutine_leaks{target="%s"}' % LEAKY)
    h.check_eq([float(s["value"][1]) for s in got], [float(fault_server.LEAKS)],
               "pprof_goroutine_leaks of the goroutineleak profile")


def test_exporter_stopped_fires():
    needs_setup()
    env.exporter.stop()  # checked: exit 0 after SIGTERM
    wait_firing("PprofExporterDown", job="pprof-exporter")


if __name__ == "__main__":
    h.run_tests([
        test_promtool_accepts_rules,
        test_quiet_fires_nothing,
        test_leak_fires_goroutines_per_service,
        test_hot_function_fires,
        test_gc_churn_fires_gc_share,
        test_grafana_rules_select_the_leaky_target,
        test_dashboard_queries_return_data,
        test_quiet_again_resolves,
        test_target_down_fires,
        test_profiler_busy_fires,
        test_stuck_goroutines_fire,
        test_goroutine_leak_profile_fires,
        test_exporter_stopped_fires,
    ])
