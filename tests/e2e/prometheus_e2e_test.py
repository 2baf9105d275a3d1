#!/usr/bin/env python3
"""End to end: Go demo -> pprof_exporter -> a real Prometheus.

Starts tests/demo, pprof_exporter scraping it, and Debian's Prometheus
(/usr/bin/prometheus) scraping the exporter every second with the shipped
deploy/prometheus/prometheus.yml (intervals shortened, target replaced) and
deploy/prometheus/alerts.yml loaded as its rule file. Then:

  1. demo leaking goroutines and churning the GC: the expressions of
     PprofGoroutinesPerServiceHigh and PprofGCCPUShareHigh (read from
     alerts.yml) return series, and Prometheus holds both alerts pending;
  2. every dashboard panel query (tests/deploy/dashboard_queries.py, with
     target/service/interval substituted) returns data;
  3. demo quiet again: both expressions return nothing once profiles taken
     after the switch are in, and stay empty for the next CPU profiles; the
     health alerts (target/exporter down, profiler busy) never match;
  4. `promtool check rules` accepts alerts.yml.

While the demo leaks, tests/e2e/grafana_rules.py also evaluates every
Grafana-managed rule of deploy/grafana/provisioning/alerting/ as Grafana
would; a second, quiet demo (target "quiet") must never be selected.

Every wait polls with a deadline. Runs under `bazel test //tests/e2e:all`
and from a checkout after
`bazel build //exporter:pprof_exporter //tests/demo:demo`:

  python3 tests/e2e/prometheus_e2e_test.py [-v]

Overrides: PPROF_EXPORTER, PPROF_DEMO, PROMETHEUS, PROMTOOL (binaries).
Process logs go to $TEST_UNDECLARED_OUTPUTS_DIR (Bazel) or a temporary
directory that is kept when something fails.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import yaml  # python3-yaml, see scripts/deps.sh
except ImportError:  # pragma: no cover
    sys.exit("FATAL: python3-yaml is missing (scripts/deps.sh installs it)")

WORKSPACE = "pprof_exporter"
_HERE = os.path.dirname(os.path.abspath(__file__))
_CHECKOUT = os.path.dirname(os.path.dirname(_HERE))

ALERT_EXPRS = ("PprofGoroutinesPerServiceHigh", "PprofGCCPUShareHigh")
# Alerts that must never match while everything is healthy.
HEALTH_ALERTS = ("PprofTargetDown", "PprofProfilerBusy", "PprofExporterDown")
TARGET = "demo"
QUIET_TARGET = "quiet"  # a second demo, never leaking (Grafana rules check)
# The exporter's schedule for the demo. Goroutines every 2 s so the leak
# shows (and goes) within seconds. The rest is about the quiet demo's GC
# share, which must stay under the alert's 5%: serving heap/allocs/mutex/
# block profiles every 2 s makes the demo allocate enough to put its GC
# share at ~2.3% on average with 2 of 30 five-second CPU profiles above 5%;
# at 10 s it is ~0.6%. A 10 s CPU window (the README's default) has ~130
# samples, so one GC cycle is ~1-2%, not ~5% as in a 2 s window
# (measured quiet: mean 0.7%, max 2.2% over 20 profiles).
CPU_INTERVAL_S, CPU_SECONDS = 11, 10
PROFILE_INTERVALS = {"goroutine": "2s", "heap": "10s", "allocs": "10s",
                     "mutex": "10s", "block": "10s"}
# Quiet CPU profiles (after the first empty evaluation) that must also stay
# under the GC threshold.
QUIET_STABLE_PROFILES = 2

HEAVY_DEADLINE_S = 90
DASHBOARD_DEADLINE_S = 60
QUIET_DEADLINE_S = 90
POLL_S = 0.25

VERBOSE = "-v" in sys.argv[1:]


# ---------------------------------------------------------------------------
# Locating files


def _roots():
    out = []
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        out.append(os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", WORKSPACE)))
    out += [_CHECKOUT, os.getcwd()]
    return out


def find(rel, env=None, built=False):
    """A runfile (under Bazel) or a checkout file; built=True also looks in bazel-bin."""
    if env and os.environ.get(env):
        return os.environ[env]
    tried = []
    for root in _roots():
        for base in ([root, os.path.join(root, "bazel-bin")] if built else [root]):
            path = os.path.join(base, rel)
            tried.append(path)
            if os.path.isfile(path):
                return path
    hint = " (bazel build //exporter:pprof_exporter //tests/demo:demo)" if built else ""
    sys.exit(f"FATAL: cannot find {rel}{hint}; looked in {tried}")


def system_tool(name, env):
    path = os.environ.get(env) or shutil.which(name) or f"/usr/bin/{name}"
    if not os.path.exists(path):
        sys.exit(f"FATAL: {name} not found (Debian package prometheus, scripts/deps.sh)")
    return path


# ---------------------------------------------------------------------------
# Results


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS: {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL: {name}" + (f"\n    {detail}" if detail else ""), flush=True)
        return ok


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def vlog(msg):
    if VERBOSE:
        log(msg)


# ---------------------------------------------------------------------------
# Child processes


class Fatal(Exception):
    """Setup failed; later steps cannot run."""


class Proc:
    """A child process with stdout+stderr in a log file; stop() ends it by pid."""

    def __init__(self, name, args, logdir, cwd=None):
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self._log = open(self.log_path, "wb")
        vlog(f"start {name}: {' '.join(args)}")
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                  stderr=subprocess.STDOUT, cwd=cwd)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, n=25):
        return "\n".join("    | " + l for l in self.output().splitlines()[-n:])

    def alive(self):
        return self.p.poll() is None

    def wait_for_line(self, pattern, deadline_s):
        """Polls the log for pattern; returns the match, or raises Fatal."""
        rx = re.compile(pattern)
        end = time.monotonic() + deadline_s
        while True:
            m = rx.search(self.output())
            if m:
                return m
            if not self.alive():
                raise Fatal(f"{self.name} exited with {self.p.returncode} before "
                            f"printing /{pattern}/:\n{self.tail()}")
            if time.monotonic() > end:
                raise Fatal(f"{self.name}: no /{pattern}/ within {deadline_s}s:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)
        self._log.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, timeout=5.0):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def poll(deadline_s, fn, procs=()):
    """Calls fn() until it returns a true value or deadline_s passes.

    Returns (value, seconds waited); value is the last falsy result on
    timeout. Raises Fatal if one of procs dies meanwhile.
    """
    start = time.monotonic()
    while True:
        value = fn()
        if value:
            return value, time.monotonic() - start
        for p in procs:
            if not p.alive():
                raise Fatal(f"{p.name} exited with {p.p.returncode}:\n{p.tail()}")
        if time.monotonic() - start > deadline_s:
            return value, time.monotonic() - start
        time.sleep(POLL_S)


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
                raise QueryError(f"HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise QueryError(str(e)) from None
        if body.get("status") != "success":
            raise QueryError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr, at=None):
        """(resultType, result) of an instant query."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        return data["resultType"], data["result"]

    def vector(self, expr, at=None):
        kind, result = self.query(expr, at)
        if kind != "vector":
            raise QueryError(f"{expr}: {kind}, want vector")
        return result

    def scalar_by(self, expr, at, label):
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.vector(expr, at)}

    def rules(self):
        return {r["name"]: r for g in self._get("/api/v1/rules", {"type": "alert"})["groups"]
                for r in g["rules"]}


def start_prometheus(prom_bin, workdir, exporter_addr, logdir):
    """Writes prometheus.yml from the shipped example and starts Prometheus."""
    shipped = find("deploy/prometheus/prometheus.yml")
    with open(shipped) as f:
        cfg = yaml.safe_load(f)
    cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "pprof-exporter"]
    if len(jobs) != 1:
        raise Fatal(f"{shipped}: no scrape job named pprof-exporter")
    jobs[0].update(scrape_interval="1s", scrape_timeout="1s",
                   static_configs=[{"targets": [exporter_addr]}])
    if cfg.get("rule_files") != ["alerts.yml"]:
        raise Fatal(f"{shipped}: rule_files is {cfg.get('rule_files')}, want [alerts.yml]")
    os.makedirs(workdir, exist_ok=True)
    shutil.copyfile(find("deploy/prometheus/alerts.yml"), os.path.join(workdir, "alerts.yml"))
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)

    last = None
    for attempt in range(5):
        port = free_port()
        proc = Proc(f"prometheus{'-%d' % attempt if attempt else ''}", [
            prom_bin, f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
            f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
            "--log.level=info"], logdir, cwd=workdir)
        base = f"http://127.0.0.1:{port}"

        def ready():
            if not proc.alive():
                return "exited"
            try:
                status, _ = http("GET", base + "/-/ready", timeout=2)
                return "ready" if status == 200 else None
            except (urllib.error.URLError, OSError):
                return None

        state, waited = poll(60, ready)
        if state == "ready":
            log(f"prometheus ready on {base} after {waited:.1f}s")
            return proc, Prometheus(base)
        out = proc.output()
        proc.stop()
        last = f"prometheus {state or 'not ready in 60s'}:\n{proc.tail()}"
        if "address already in use" not in out:
            break
        log(f"port {port} taken, retrying")
    raise Fatal(last)


# ---------------------------------------------------------------------------
# The steps


def load_alert_exprs():
    path = find("deploy/prometheus/alerts.yml")
    with open(path) as f:
        doc = yaml.safe_load(f)
    exprs = {r["alert"]: " ".join(r["expr"].split())
             for g in doc["groups"] for r in g["rules"] if "alert" in r}
    missing = [a for a in ALERT_EXPRS + HEALTH_ALERTS if a not in exprs]
    if missing:
        raise Fatal(f"{path}: no alert(s) {missing}")
    return exprs


def step_promtool(res, promtool):
    path = find("deploy/prometheus/alerts.yml")
    p = subprocess.run([promtool, "check", "rules", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    res.check(p.returncode == 0, "promtool check rules deploy/prometheus/alerts.yml",
              p.stdout.strip().replace("\n", "; ") if p.returncode == 0 else p.stdout)


def demo_switch(demo_base, **switches):
    for name, on in switches.items():
        status, body = http("POST", f"{demo_base}/demo/{name}?on={1 if on else 0}")
        if status != 200:
            raise Fatal(f"POST /demo/{name}: HTTP {status}")
    _, body = http("GET", demo_base + "/demo/state")
    return json.loads(body)


def cpu_snapshot(prom, at):
    """The last CPU profile as Prometheus sees it at `at`."""
    sel = f'{{target="{TARGET}"}}'
    psel = f'{{target="{TARGET}", profile="cpu"}}'

    def one(expr):
        v = prom.vector(expr, at)
        return float(v[0]["value"][1]) if v else None

    return {
        "start": one(f"pprof_last_success_timestamp_seconds{psel} - pprof_scrape_duration_seconds{psel}"),
        "gc_ratio": one(f"pprof_cpu_gc_ratio{sel}"),
        "busy": one(f"pprof_cpu_sampled_seconds{sel} / pprof_cpu_duration_seconds{sel}"),
    }


def profile_start(prom, at, profile):
    psel = f'{{target="{TARGET}", profile="{profile}"}}'
    v = prom.vector(f"pprof_last_success_timestamp_seconds{psel} - pprof_scrape_duration_seconds{psel}", at)
    return float(v[0]["value"][1]) if v else None


def step_heavy(res, prom, exprs, procs):
    """Leak and GC churn on: both alert expressions match; alerts go pending."""
    seen = {}

    def both_match():
        at = time.time()
        for name in ALERT_EXPRS:
            if name not in seen:
                try:
                    series = prom.vector(exprs[name], at)
                except QueryError as e:
                    seen[name] = ("error", str(e))
                    continue
                if series:
                    seen[name] = ("ok", series)
                    log(f"{name} matches: " + ", ".join(
                        f"{s['metric'].get('target')}={float(s['value'][1]):.3f}" for s in series))
        return len(seen) == len(ALERT_EXPRS)

    _, waited = poll(HEAVY_DEADLINE_S, both_match, procs)
    snap = cpu_snapshot(prom, time.time())
    per_service = prom.vector(f'pprof_goroutines_per_service{{target="{TARGET}"}}')
    snap["per_service"] = float(per_service[0]["value"][1]) if per_service else None
    log(f"heavy: goroutines per service {snap['per_service']}, CPU profile "
        f"gc_ratio={snap['gc_ratio']} busy_cores={snap['busy']}")
    observed = {"PprofGoroutinesPerServiceHigh": f"goroutines per service {snap['per_service']}",
                "PprofGCCPUShareHigh": f"last CPU profile gc_ratio={snap['gc_ratio']} "
                                       f"busy_cores={snap['busy']}"}
    for name in ALERT_EXPRS:
        state, val = seen.get(name, ("none", None))
        if state == "ok":
            labels = val[0]["metric"]
            res.check(labels.get("target") == TARGET and labels.get("host") == "e2e"
                      and labels.get("job") == "pprof-exporter",
                      f"heavy: {name} expression returns the demo's series",
                      f"{len(val)} series, labels {labels}")
        elif state == "error":
            res.check(False, f"heavy: {name} expression", f"query error: {val}")
        else:
            res.check(False, f"heavy: {name} expression returns >=1 series within "
                      f"{HEAVY_DEADLINE_S}s", f"still empty after {waited:.0f}s; {observed[name]}")

    # Prometheus itself evaluates the rules: healthy, and the two alerts
    # pending (their `for` is 30m).
    def pending():
        rules = prom.rules()
        return all(rules.get(a, {}).get("state") == "pending" for a in ALERT_EXPRS) and rules

    rules, waited = poll(15, pending, procs)
    rules = rules or prom.rules()
    res.check(all(rules.get(a, {}).get("state") == "pending" for a in ALERT_EXPRS),
              "heavy: Prometheus holds PprofGoroutinesPerServiceHigh and PprofGCCPUShareHigh pending",
              ", ".join(f"{a}={rules.get(a, {}).get('state')}" for a in ALERT_EXPRS))
    bad = {n: (r.get("health"), r.get("lastError")) for n, r in rules.items()
           if r.get("health") != "ok"}
    res.check(len(rules) >= 6 and not bad, "Prometheus evaluates every alert rule without error",
              f"{len(rules)} rules" if not bad else f"unhealthy: {bad}")


def step_grafana_rules(res, prom, procs):
    """Grafana's rules, evaluated as Grafana would, select the leaky demo
    for the leak and GC alerts, never the quiet one; the health alerts
    select nothing; and each rule exactly the series of its alerts.yml twin
    (PprofHotFunction fires for both demos: their burners are hot by design)."""
    import grafana_rules
    rules, alerts = find("deploy/grafana/provisioning/alerting/pprof-exporter.yml"), \
        find("deploy/prometheus/alerts.yml")
    last = []

    def all_ok():
        # 3 s back, so no scrape lands inside the instant both sides read.
        last[:] = grafana_rules.check_rules(prom.base, rules, TARGET, QUIET_TARGET,
                                            time.time() - 3, alerts, must_fire=ALERT_EXPRS,
                                            silent=HEALTH_ALERTS)
        return all(ok for _, ok, _ in last)

    poll(HEAVY_DEADLINE_S, all_ok, procs)
    for title, ok, detail in last:
        res.check(ok, f"Grafana rule {title}", detail)


def dashboard_queries(variant_args):
    script = find("tests/deploy/dashboard_queries.py")
    args = [sys.executable, script,
            "--dashboard", find("dashboards/pprof-exporter.json"),
            "--metric-names", find("tests/deploy/metric_names.txt"),
            "--scrape-interval", "1s", "--format", "tsv"] + variant_args
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        raise Fatal(f"dashboard_queries.py {' '.join(variant_args)}: exit {p.returncode}\n{p.stderr}")
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


def step_dashboard(res, prom, procs):
    """Every panel query, for each variable choice, returns data."""
    variants = [
        ["--target", TARGET, "--service", "svc-0", "--interval", "15s"],
        ["--target", "All", "--service", "svc-1", "--service", "svc-7", "--interval", "15s"],
    ]
    for variant in variants:
        rows = dashboard_queries(variant)
        label = " ".join(variant)
        status = {}

        def all_have_data():
            at = time.time()
            for row in rows:
                if status.get(row) == "ok":
                    continue
                try:
                    status[row] = has_data(*prom.query(row[3], at))
                except QueryError as e:
                    status[row] = f"error: {e}"
            return all(v == "ok" for v in status.values())

        _, waited = poll(DASHBOARD_DEADLINE_S, all_have_data, procs)
        failing = [(r, s) for r, s in status.items() if s != "ok"]
        for (pid, ref, title, expr), s in failing:
            print(f"    panel {pid}{ref} {title!r}: {s}\n      {expr}")
        res.check(rows and not failing,
                  f"dashboard ({label}): every panel query returns data",
                  f"{len(rows)} queries, {waited:.1f}s" if not failing else
                  f"{len(failing)} of {len(rows)} queries without data after {waited:.0f}s")

    # The service variable must really filter.
    rows = dashboard_queries(["--target", TARGET, "--service", "svc-3", "--interval", "15s"])
    svc = [r for r in rows if "pprof_service_goroutines" in r[3]]
    got = set()
    for r in svc:
        got |= {s["metric"].get("service") for s in prom.vector(r[3])}
    res.check(svc and got == {"svc-3"}, "dashboard: $service=svc-3 selects only svc-3",
              f"services {sorted(map(str, got))}")


def step_quiet(res, prom, exprs, demo_base, procs):
    """Leak and churn off: both expressions go empty, and stay empty."""
    state = demo_switch(demo_base, leak=False, gc=False)
    t_switch = time.time()
    log(f"demo quiet: {state}")
    if state.get("leak") or state.get("gc_heavy"):
        raise Fatal(f"demo did not switch off: {state}")

    # 1. Wait for goroutine and CPU profiles that began after the switch and
    #    an evaluation where both expressions are empty.
    cpu_profiles = {}  # start -> snapshot, quiet profiles seen
    last = {}

    def quiet_and_empty():
        at = time.time()
        snap = cpu_snapshot(prom, at)
        g_start = profile_start(prom, at, "goroutine")
        if snap["start"] and snap["start"] >= t_switch and snap["start"] not in cpu_profiles:
            cpu_profiles[snap["start"]] = snap
            log(f"quiet CPU profile #{len(cpu_profiles)}: gc_ratio={snap['gc_ratio']:.4f} "
                f"busy_cores={snap['busy']:.3f}")
        if not (snap["start"] and snap["start"] >= t_switch and g_start and g_start >= t_switch):
            return False
        got = {n: prom.vector(exprs[n], at) for n in ALERT_EXPRS}
        last.update(got)
        return all(not v for v in got.values())

    ok, waited = poll(QUIET_DEADLINE_S, quiet_and_empty, procs)
    for name in ALERT_EXPRS:
        series = last.get(name)
        res.check(ok or series == [], f"quiet: {name} expression returns no series within "
                  f"{QUIET_DEADLINE_S}s", f"{waited:.1f}s after the switch" if ok else
                  f"still {series} after {waited:.0f}s")
    if not ok:
        return

    # 2. The next CPU profiles must stay under the threshold too: the quiet
    #    demo's GC share must be reliably below 5%.
    first_empty = max(cpu_profiles)
    matches = []

    def next_profiles():
        at = time.time()
        snap = cpu_snapshot(prom, at)
        if snap["start"] and snap["start"] > first_empty and snap["start"] not in cpu_profiles:
            cpu_profiles[snap["start"]] = snap
            log(f"quiet CPU profile #{len(cpu_profiles)}: gc_ratio={snap['gc_ratio']:.4f} "
                f"busy_cores={snap['busy']:.3f}")
            if prom.vector(exprs["PprofGCCPUShareHigh"], at):
                matches.append(("PprofGCCPUShareHigh", snap))
        series = prom.vector(exprs["PprofGoroutinesPerServiceHigh"], at)
        if series:
            matches.append(("PprofGoroutinesPerServiceHigh", series))
        return sum(1 for s in cpu_profiles if s > first_empty) >= QUIET_STABLE_PROFILES

    done, waited = poll(QUIET_STABLE_PROFILES * CPU_INTERVAL_S * 3 + 10, next_profiles, procs)
    ratios = ", ".join(f"{s['gc_ratio']:.4f}" for _, s in sorted(cpu_profiles.items()))
    res.check(done and not matches,
              f"quiet: both expressions stay empty for {QUIET_STABLE_PROFILES} more CPU profiles",
              f"quiet GC ratios {ratios}" if done and not matches else
              f"matches {matches[:3]}; quiet GC ratios {ratios}; saw "
              f"{len(cpu_profiles)} profiles in {waited:.0f}s")

    rules, _ = poll(10, lambda: all(prom.rules().get(a, {}).get("state") == "inactive"
                                    for a in ALERT_EXPRS), procs)
    r = prom.rules()
    res.check(all(r.get(a, {}).get("state") == "inactive" for a in ALERT_EXPRS),
              "quiet: Prometheus returns both alerts to inactive",
              ", ".join(f"{a}={r.get(a, {}).get('state')}" for a in ALERT_EXPRS))


def step_health(res, prom, exprs):
    """No health alert matched at any point of the run."""
    for name in HEALTH_ALERTS:
        # Any evaluation in the last few minutes (the whole run).
        expr = f"count_over_time(({exprs[name]})[5m:1s])"
        try:
            series = prom.vector(expr)
            res.check(not series, f"{name} never matched during the run",
                      "" if not series else str([s["metric"] for s in series]))
        except QueryError as e:
            res.check(False, f"{name} expression", f"query error: {e}")
    rules = prom.rules()
    res.check(all(rules.get(a, {}).get("state") == "inactive" for a in HEALTH_ALERTS),
              "health alerts inactive in Prometheus",
              ", ".join(f"{a}={rules.get(a, {}).get('state')}" for a in HEALTH_ALERTS))


def write_exporter_config(path, demo_addr, quiet_addr):
    cfg = {
        "global": {"scrape_interval": "10s", "scrape_timeout": "3s"},
        "targets": [{
            "name": TARGET,
            "url": f"http://{demo_addr}/debug/pprof/",
            "service_label": "service",
            "labels": {"host": "e2e"},
            "profiles": {
                "cpu": {"interval": f"{CPU_INTERVAL_S}s", "seconds": CPU_SECONDS},
                **{k: {"interval": v, "timeout": "2s"} for k, v in PROFILE_INTERVALS.items()},
            },
        }],
    }
    quiet = dict(json.loads(json.dumps(cfg["targets"][0])), name=QUIET_TARGET,
                 url=f"http://{quiet_addr}/debug/pprof/")
    cfg["targets"].append(quiet)
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


def main():
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    res = Results()
    exporter_bin = find("exporter/pprof_exporter", "PPROF_EXPORTER", built=True)
    demo_bin = find("tests/demo/demo", "PPROF_DEMO", built=True)
    prom_bin = system_tool("prometheus", "PROMETHEUS")
    promtool = system_tool("promtool", "PROMTOOL")
    tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="pprof_e2e.")
    workdir = tempfile.mkdtemp(prefix="e2e.", dir=tmp)
    logdir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or workdir
    os.makedirs(logdir, exist_ok=True)
    log(f"exporter {exporter_bin}\n           demo {demo_bin}\n           logs {logdir}")

    procs = []
    fatal = None
    try:
        step_promtool(res, promtool)
        exprs = load_alert_exprs()

        demo = Proc("demo", [demo_bin, "-listen", "127.0.0.1:0"], logdir)
        procs.append(demo)
        demo_addr = demo.wait_for_line(r"listening on (127\.0\.0\.1:\d+)", 30).group(1)
        demo_base = f"http://{demo_addr}"
        state = demo_switch(demo_base, leak=True, gc=True)
        log(f"demo on {demo_addr}: {state}")
        quiet = Proc("quiet", [demo_bin, "-listen", "127.0.0.1:0"], logdir)
        procs.append(quiet)
        quiet_addr = quiet.wait_for_line(r"listening on (127\.0\.0\.1:\d+)", 30).group(1)
        log(f"quiet demo on {quiet_addr}: {demo_switch(f'http://{quiet_addr}', leak=False, gc=False)}")

        config = os.path.join(workdir, "exporter.yml")
        write_exporter_config(config, demo_addr, quiet_addr)
        exporter = Proc("exporter", [exporter_bin, f"--config.file={config}",
                                     "--web.listen-address=127.0.0.1:0"], logdir)
        procs.append(exporter)
        exporter_addr = exporter.wait_for_line(
            r"msg=listening address=(127\.0\.0\.1:\d+)", 30).group(1)
        log(f"exporter on {exporter_addr}")

        prom_proc, prom = start_prometheus(prom_bin, os.path.join(workdir, "prometheus"),
                                           exporter_addr, logdir)
        procs.append(prom_proc)
        up, waited = poll(30, lambda: prom.vector('up{job="pprof-exporter"} == 1'), procs)
        if not up:
            raise Fatal(f"Prometheus never scraped the exporter:\n{prom_proc.tail()}")

        step_heavy(res, prom, exprs, procs)
        step_grafana_rules(res, prom, procs)
        step_dashboard(res, prom, procs)
        step_quiet(res, prom, exprs, demo_base, procs)
        step_health(res, prom, exprs)
    except Fatal as e:
        fatal = str(e)
    except (QueryError, urllib.error.URLError, OSError) as e:
        fatal = f"{type(e).__name__}: {e}"
    finally:
        for p in reversed(procs):
            p.stop()

    if fatal:
        res.check(False, "setup", fatal)
    for p in procs:
        res.check(p.p.returncode == 0, f"{p.name} exits with 0 on SIGTERM",
                  "" if p.p.returncode == 0 else f"exit {p.p.returncode}\n{p.tail()}")
    elapsed = time.monotonic() - started
    if res.failed and logdir == workdir:
        print(f"logs kept in {logdir}")
    elif not res.failed and not os.environ.get("TEST_TMPDIR"):
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{res.passed} passed, {len(res.failed)} failed ({elapsed:.0f}s)")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
