#!/usr/bin/env python3
"""The fault matrix: the real exporter against a server that fails in every
way a pprof endpoint can, next to a healthy target.

One fault server process (tests/faults/fault_server.py) serves a target per
fault on 127.0.0.1; one exporter scrapes all of them plus a healthy target
(the fault server's `ok` route, serving the fixtures of tests/testdata) and
a target that "restarts", on 1 s intervals (CPU: 1 s profiles every 2-3 s).
The exporter and the fault server are shared by the tests below, which run
in order (each also runs alone: `python3 fault_matrix_test.py restart`).

 * test_fault_matrix: every fault target shows pprof_up 0 for each of its
   profiles, pprof_scrape_errors_total grows under the expected reason and
   only that one, no last-success timestamp, no profile bytes and no derived
   series, and a warn "scrape failed" log line with that reason (one
   target serves healthy profiles over its series_limit); timeouts
   give up at about the configured 1 s, a reset fails at once. The healthy
   target keeps pprof_up 1, no errors, advancing last-success timestamps,
   and series equal to `pprof_exporter reduce` of the fixtures it serves.
 * test_restarting_target: mutex, block and heap profiles whose cumulative
   counters go down (a restarted process): the exporter exports the new,
   lower values exactly (equal to `reduce` of the bytes served), with
   pprof_up 1 and no error of any reason. Window series over cumulative
   profiles (pprof_<kind>_window_*), where the exporter renders them, are
   compared apart: never negative, 0 between two identical profiles.
 * test_metrics_under_load: 8 threads x 400 keep-alive GETs of /metrics
   while every fault is active: every answer is 200, strictly parseable and
   complete (a pprof_up for every target and profile); scrapes go on
   meanwhile. Prints the latency distribution (max not asserted).
 * test_no_growth_over_many_cycles: about 60 s of the matrix (hundreds of
   failed scrapes, ~20 x 64 MiB refused): the floor of the exporter's VmRSS
   (the minimum over a 10 s window, so an in-flight 64 MiB body does not
   count) grows by less than 8 MiB between the first and the last window;
   threads and open file descriptors do not grow; every fault still counts
   only its own reason; each failing slot was logged once ("scrape failed"),
   not once per attempt.

Standalone: `python3 tests/faults/fault_matrix_test.py [NAME_REGEX]` from
anywhere after `bazel build //exporter:pprof_exporter` (or with
PPROF_EXPORTER_BIN). FAULT_SOAK_SECONDS lengthens the memory run.
"""

import http.client
import json
import math
import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
_HERE = os.path.dirname(os.path.abspath(__file__))
# The shared harness (a data dependency under Bazel; the sibling directory
# in a checkout and in the runfiles tree alike).
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "lib"))
import harness as h  # noqa: E402


# Two kinds on a 1 s interval with a 1 s timeout: the default for a fault.
TWO = "{goroutine: {interval: 1s, timeout: 1s}, heap: {interval: 1s, timeout: 1s}}"
# target (= fault server mode): (expected reason, profiles)
FAULTS = {
    "refused": ("connect", TWO),
    "silent": ("timeout", TWO),
    "slow": ("timeout", TWO),
    "reset": ("connect", TWO),
    "notfound": ("http_status", TWO),
    "busy": ("profiler_busy", "{cpu: {interval: 2s, timeout: 1s, seconds: 1}, "
                              "goroutine: {interval: 1s, timeout: 1s}}"),
    "html": ("decode", TWO),
    "truncated": ("decode", TWO),
    "huge_length": ("too_large", TWO),
    # Streams 64 MiB per attempt: a longer interval, and a timeout that a
    # loaded machine cannot confuse with too_large.
    "huge_stream": ("too_large", "{heap: {interval: 3s, timeout: 3s}}"),
    # Healthy profiles (the `ok` route) whose series exceed the target's
    # series_limit (SERIES_LIMITED below): each scrape is refused whole.
    "series_limit": ("series_limit", TWO),
}
# Targets that are not a fault server mode of their own: (mode, extra
# config lines). A limit of 4 leaves 2 series to each of the two kinds;
# the fixtures' heap and goroutine profiles give dozens.
SERIES_LIMITED = ("ok", "    series_limit: 4\n")
TARGET_SETUP = {"series_limit": SERIES_LIMITED}
HEALTHY = "ok"
HEALTHY_PROFILES = ("{cpu: {interval: 3s, timeout: 1s, seconds: 1}, "
                    "heap: {interval: 1s, timeout: 1s}, allocs: {interval: 1s, timeout: 1s}, "
                    "goroutine: {interval: 1s, timeout: 1s}, mutex: {interval: 1s, timeout: 1s}, "
                    "block: {interval: 1s, timeout: 1s}}")
RESTART = "restart"
RESTART_KINDS = ("mutex", "block", "heap")
RESTART_PROFILES = "{%s}" % ", ".join("%s: {interval: 1s, timeout: 1s}" % k
                                      for k in RESTART_KINDS)
# Cumulative series of the restarting target's kinds.
COUNTERS = ("pprof_mutex_delay_seconds_total", "pprof_mutex_contentions_total",
            "pprof_block_delay_seconds_total", "pprof_block_contentions_total",
            "pprof_heap_alloc_bytes_total", "pprof_heap_alloc_objects_total")


def kinds_of(profiles):
    return tuple(re.findall(r"(\w+): \{interval", profiles))


SLOTS = {t: kinds_of(p) for t, (_, p) in FAULTS.items()}
SLOTS[HEALTHY] = kinds_of(HEALTHY_PROFILES)
SLOTS[RESTART] = RESTART_KINDS

LOAD_THREADS = 8
LOAD_REQUESTS = 400          # per thread
SOAK_SECONDS = float(os.environ.get("FAULT_SOAK_SECONDS", "60"))
RSS_WINDOW = 10.0            # seconds of RSS samples per floor
RSS_GROWTH_LIMIT = 8 << 20   # bytes
WARMUP_SECONDS = 30.0        # of exporter uptime before the first RSS window


# ---------------------------------------------------------------------------
# The shared fixture: fault server + exporter


class Env:
    def __init__(self):
        self.server = h.shared(h.FaultServer())
        targets = []
        for name, (_, profiles) in FAULTS.items():
            targets.append((name, profiles))
        targets.append((HEALTHY, HEALTHY_PROFILES))
        targets.append((RESTART, RESTART_PROFILES))
        config = "targets:\n" + "".join(
            "  - name: %s\n    url: %s\n    profiles: %s\n%s" % (
                name, self.url(name), profiles, TARGET_SETUP.get(name, (None, ""))[1])
            for name, profiles in targets)
        self.config_path = h.write_file("faults.yml", config)
        self.exporter = h.shared(h.Exporter("--config.file=" + self.config_path))
        self.started = time.monotonic()

    def url(self, target):
        return self.server.url(TARGET_SETUP.get(target, (target,))[0])

    def control(self, path):
        return self.server.control(path)

    def stats(self):
        return self.server.stats()


_env = None


def env():
    global _env
    if _env is None:
        _env = Env()
    return _env


# ---------------------------------------------------------------------------
# Helpers


def errors(m, target, kind):
    return {r: m.get("pprof_scrape_errors_total", target=target, profile=kind, reason=r,
                     default=0) for r in h.ERROR_REASONS}


def fault_counts(m):
    """{(target, kind): errors of its expected reason}."""
    return {(t, k): errors(m, t, k)[FAULTS[t][0]] for t in FAULTS for k in SLOTS[t]}


def check_fault_slots(m, min_errors=1):
    """The per-fault properties that must hold at any moment once every
    fault slot has failed `min_errors` times."""
    problems = []
    for target, (reason, _) in FAULTS.items():
        for kind in SLOTS[target]:
            got = errors(m, target, kind)
            if got[reason] < min_errors:
                problems.append("%s/%s: %d %s errors, want >= %d (all: %r)"
                                % (target, kind, got[reason], reason, min_errors, got))
            others = {r: v for r, v in got.items() if r != reason and v != 0}
            if others:
                problems.append("%s/%s: errors under other reasons than %s: %r"
                                % (target, kind, reason, others))
            if m.get("pprof_up", target=target, profile=kind) != 0:
                problems.append("%s/%s: pprof_up %r, want 0"
                                % (target, kind, m.get("pprof_up", target=target, profile=kind)))
            for family in ("pprof_last_success_timestamp_seconds", "pprof_profile_bytes"):
                if m.get(family, target=target, profile=kind) is not None:
                    problems.append("%s/%s: has %s" % (target, kind, family))
        derived = h.derived_series(m, target)
        if derived:
            problems.append("%s: derived series of a failing target: %s"
                            % (target, sorted(h.format_series(k) for k in derived)[:5]))
    return problems


def check_healthy(m):
    problems = []
    for kind in SLOTS[HEALTHY]:
        if m.get("pprof_up", target=HEALTHY, profile=kind) != 1:
            problems.append("healthy %s: pprof_up %r" % (
                kind, m.get("pprof_up", target=HEALTHY, profile=kind)))
        bad = {r: v for r, v in errors(m, HEALTHY, kind).items() if v}
        if bad:
            problems.append("healthy %s: errors %r" % (kind, bad))
    return problems


def last_success(m, target, kinds):
    return {k: m.get("pprof_last_success_timestamp_seconds", target=target, profile=k)
            for k in kinds}


# Windows over cumulative profiles (pprof_<kind>_window_*) depend on the
# previous scrape, which `reduce` of one file cannot know: compared apart.
_WINDOW = re.compile(r"^pprof_\w+?_window_")


def profile_series(m, target):
    """The target's derived series except the window ones."""
    return {k: v for k, v in h.derived_series(m, target).items() if not _WINDOW.match(k[0])}


def window_problems(m, target, unchanged):
    """Window totals must never be negative (a counter that went down is a
    restart: no window); between two identical profiles they are 0."""
    problems = []
    for (name, labels), v in h.derived_series(m, target).items():
        if (not _WINDOW.match(name) or name.endswith("_ratio")
                or name.endswith("_window_seconds")):
            continue
        if math.isnan(v) or v < 0 or (unchanged and v != 0):
            problems.append("%s = %r" % (h.format_series((name, labels)), v))
    return problems


def reduce_bytes(data, kind, target, name):
    path = os.path.join(h.tmpdir(), name)
    with open(path, "wb") as f:
        f.write(data)
    return h.reduce_file(path, kind, target)


_healthy_want = None


def healthy_want():
    """`reduce` of the fixtures the healthy target serves, merged in the
    exporter's slot order (heap's pprof_heap_* totals win over allocs')."""
    global _healthy_want
    if _healthy_want is None:
        want = {}
        for kind in h.KINDS:
            if kind in SLOTS[HEALTHY]:
                reduced = h.reduce_file(h.testdata(kind + ".pb.gz"), kind, HEALTHY)
                for key, value in reduced.samples.items():
                    want.setdefault(key, value)
        _healthy_want = want
    return _healthy_want


def rss_status(pid):
    """(VmRSS bytes, threads, open fds) of a process."""
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss, threads, fds


def mib(n):
    return "%.1f MiB" % (n / (1 << 20))


def wait_matrix(ex, min_errors, timeout, what):
    """Waits until every fault slot has min_errors of its reason and the
    healthy target is up; then the full per-fault checks must pass."""
    def ready(m):
        return (all(v >= min_errors for v in fault_counts(m).values())
                and not check_healthy(m))
    try:
        m = ex.wait_metrics(ready, what, timeout=timeout)
    except h.TestFailure as e:
        m = ex.metrics()
        raise h.TestFailure("%s\nnot yet:\n  %s" % (
            e, "\n  ".join(check_fault_slots(m, min_errors) + check_healthy(m))))
    problems = check_fault_slots(m, min_errors) + check_healthy(m)
    h.check(not problems, "fault matrix:\n  " + "\n  ".join(problems))
    return m


# ---------------------------------------------------------------------------
# Tests


def test_fault_matrix():
    e = env()
    ex = e.exporter
    # First scrapes are spread over each slot's interval; two failures of
    # every fault slot show the counter counting and the state staying down.
    m = wait_matrix(ex, 2, 40, "two errors of the expected reason on every fault slot")

    # Timeouts give up at the configured 1 s (the slow body at its first
    # byte past the deadline); a reset fails at once, not by timing out.
    for target in ("silent", "slow"):
        for kind in SLOTS[target]:
            took = m.one("pprof_scrape_duration_seconds", target=target, profile=kind)
            h.check(0.9 <= took <= 2.5, "%s/%s scrape took %.3fs, timeout 1s"
                    % (target, kind, took))
    for target in ("reset", "refused", "notfound", "busy", "html", "truncated", "huge_length"):
        for kind in SLOTS[target]:
            took = m.one("pprof_scrape_duration_seconds", target=target, profile=kind)
            h.check(took < 0.9, "%s/%s scrape took %.3fs: failed by timing out?"
                    % (target, kind, took))

    # The healthy target is exactly what `reduce` makes of the fixtures.
    got = profile_series(m, HEALTHY)
    diff = h.diff_samples(got, healthy_want())
    h.check(not diff, "healthy target's series differ from `reduce` of the fixtures:\n" + diff)
    bad = window_problems(m, HEALTHY, unchanged=True)
    h.check(not bad, "healthy target (same bytes every scrape): window totals not 0: %r" % bad)
    for kind in SLOTS[HEALTHY]:
        with open(h.testdata(kind + ".pb.gz"), "rb") as f:
            size = len(f.read())
        h.check_eq(m.one("pprof_profile_bytes", target=HEALTHY, profile=kind), size,
                   "pprof_profile_bytes{%s,%s}" % (HEALTHY, kind))

    # Both sides go on: every healthy kind succeeds again, every fault slot
    # fails again, each the same way.
    since = last_success(m, HEALTHY, SLOTS[HEALTHY])
    counts = fault_counts(m)
    m = ex.wait_metrics(
        lambda m: all((last_success(m, HEALTHY, [k])[k] or 0) > since[k]
                      for k in SLOTS[HEALTHY])
        and all(v > counts[key] for key, v in fault_counts(m).items()),
        "another success of every healthy kind and another failure of every fault slot",
        timeout=20)
    problems = check_fault_slots(m, 3) + check_healthy(m)
    h.check(not problems, "fault matrix, second look:\n  " + "\n  ".join(problems))

    # Each failing slot is logged with its reason: a warning, except a CPU
    # profile refused as profiler_busy (another profiler at work), logged at
    # info once per episode; CPU profiles are also retried early.
    log = ex.proc.stderr()
    for target, (reason, _) in FAULTS.items():
        for kind in SLOTS[target]:
            if reason == "profiler_busy":
                line = (r'level=info msg="profiler busy; retrying"' if kind == "cpu"
                        else r'level=info msg="profiler busy"')
            else:
                line = r'level=warn msg="scrape failed"'
            h.check(re.search(line + r' target=%s profile=%s err="?%s: '
                              % (target, kind, reason), log),
                    "no %s line with err=%s for %s/%s" % (line, reason, target, kind))

    print("  %-12s %-10s %-14s %s" % ("target", "profile", "reason", "errors / last duration"))
    for target, (reason, _) in FAULTS.items():
        for kind in SLOTS[target]:
            print("  %-12s %-10s %-14s %3d / %.3fs" % (
                target, kind, reason, errors(m, target, kind)[reason],
                m.one("pprof_scrape_duration_seconds", target=target, profile=kind)))
    print("  fault server requests: %r" % e.stats())


def test_restarting_target():
    e = env()
    ex = e.exporter
    e.control("generation?set=0")
    want = []
    for gen in (0, 1):
        merged = {}
        for kind in RESTART_KINDS:
            data = e.control("profile/%d/%s" % (gen, kind))
            reduced = reduce_bytes(data, kind, RESTART, "restart.%d.%s.pb.gz" % (gen, kind))
            merged.update(reduced.samples)
        want.append(merged)
    before, after = want

    def counter(samples, name):
        vals = [v for (n, _), v in samples.items() if n == name]
        h.check_eq(len(vals), 1, "series %s in reduce's output" % name)
        return vals[0]

    for name in COUNTERS:
        h.check(counter(after, name) < counter(before, name),
                "fixture problem: %s does not go down (%r -> %r)"
                % (name, counter(before, name), counter(after, name)))

    def all_up_no_errors(m):
        return all(m.get("pprof_up", target=RESTART, profile=k) == 1
                   and not any(errors(m, RESTART, k).values()) for k in RESTART_KINDS)

    m = ex.wait_metrics(lambda m: all_up_no_errors(m)
                        and profile_series(m, RESTART) == before,
                        "the restart target's first generation exported", timeout=20)
    since = last_success(m, RESTART, RESTART_KINDS)

    e.control("generation?set=1")  # the process "restarts"

    def restarted(m):
        if not all_up_no_errors(m):
            raise h.TestFailure("restart target not up or with errors after its counters "
                                "went down: up %r errors %r" % (
                                    {k: m.get("pprof_up", target=RESTART, profile=k)
                                     for k in RESTART_KINDS},
                                    {k: errors(m, RESTART, k) for k in RESTART_KINDS}))
        bad = window_problems(m, RESTART, unchanged=False)
        if bad:
            raise h.TestFailure("window series after counters went down: %r" % bad)
        return profile_series(m, RESTART) == after

    try:
        m = ex.wait_metrics(restarted, "the lower counters exported", timeout=20)
    except h.TestFailure as err:
        diff = h.diff_samples(profile_series(ex.metrics(), RESTART), after)
        raise h.TestFailure("%s\ndifference to reduce of the restarted profiles:\n%s"
                            % (err, diff))
    now = last_success(m, RESTART, RESTART_KINDS)
    h.check(all(now[k] > since[k] for k in RESTART_KINDS),
            "last-success timestamps did not advance: %r -> %r" % (since, now))
    # It stays that way: one more scrape of each kind, same values, still up.
    m = ex.wait_metrics(
        lambda m: all(last_success(m, RESTART, [k])[k] > now[k] for k in RESTART_KINDS),
        "another scrape of each restart kind", timeout=15)
    h.check(all_up_no_errors(m), "restart target down or erroring on a later scrape")
    diff = h.diff_samples(profile_series(m, RESTART), after)
    h.check(not diff, "restart target changed on a later scrape:\n" + diff)
    bad = window_problems(m, RESTART, unchanged=True)
    h.check(not bad, "window totals between two identical profiles not 0: %r" % bad)
    for name in COUNTERS:
        print("  %-34s %18.9g -> %.9g" % (name, counter(before, name), counter(after, name)))


def test_metrics_under_load():
    e = env()
    ex = e.exporter
    wait_matrix(ex, 1, 40, "every fault active before the load")
    m0 = ex.metrics()
    since = last_success(m0, HEALTHY, ("goroutine", "heap"))
    counts0 = fault_counts(m0)
    want_up = {(t, k) for t, kinds in SLOTS.items() for k in kinds}

    lock = threading.Lock()
    latencies = []   # (seconds, on a fresh connection)
    failures = []
    sizes = []
    connections = [0]

    def worker(n):
        conn = None
        mine = []
        try:
            for i in range(LOAD_REQUESTS):
                fresh = conn is None
                if fresh:
                    conn = http.client.HTTPConnection("127.0.0.1", ex.port, timeout=30)
                    with lock:
                        connections[0] += 1
                t0 = time.monotonic()
                try:
                    conn.request("GET", ex.telemetry_path)
                    resp = conn.getresponse()
                    body = resp.read()
                except Exception as err:  # noqa: BLE001 - counted, reported below
                    with lock:
                        failures.append("thread %d request %d: %s: %s"
                                        % (n, i, type(err).__name__, err))
                    conn.close()
                    conn = None
                    continue
                mine.append((time.monotonic() - t0, fresh))
                if resp.will_close:
                    conn.close()
                    conn = None
                problem = None
                if resp.status != 200:
                    problem = "status %d" % resp.status
                else:
                    try:
                        mm = h.parse_metrics(body.decode("utf-8"))
                        up = {(d["target"], d["profile"]) for d, _ in mm.find("pprof_up")}
                        if up != want_up:
                            problem = "pprof_up series missing %r, extra %r" % (
                                sorted(want_up - up), sorted(up - want_up))
                    except Exception as err:  # noqa: BLE001
                        problem = "unparseable: %s: %s" % (type(err).__name__, err)
                with lock:
                    sizes.append(len(body))
                    if problem:
                        failures.append("thread %d request %d: %s" % (n, i, problem))
        finally:
            if conn is not None:
                conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,), name="load-%d" % n)
               for n in range(LOAD_THREADS)]
    t_start = time.monotonic()
    try:
        for t in threads:
            t.start()
    finally:
        for t in threads:
            t.join(timeout=240)
    elapsed = time.monotonic() - t_start
    h.check(not any(t.is_alive() for t in threads), "load threads still running after 240s")
    h.check(ex.proc.alive(), "exporter died under load\n" + ex.proc.describe())

    total = LOAD_THREADS * LOAD_REQUESTS
    lat = sorted(t for t, _ in latencies)
    if lat:
        print("  %d GETs of /metrics (%d threads, keep-alive, %d connections) in %.1fs "
              "= %.0f/s; body %d-%d bytes" % (len(lat), LOAD_THREADS, connections[0], elapsed,
                                              len(lat) / elapsed, min(sizes), max(sizes)))
        for what, sel in (("all", lat),
                          ("1st on a connection", sorted(t for t, f in latencies if f)),
                          ("on a reused connection", sorted(t for t, f in latencies if not f))):
            if sel:
                pick = lambda q: sel[min(len(sel) - 1, int(q * len(sel)))]  # noqa: E731
                print("  latency ms, %-22s p50 %6.1f  p90 %6.1f  p99 %6.1f  max %6.1f  (n=%d)"
                      % (what + ":", pick(0.5) * 1e3, pick(0.9) * 1e3, pick(0.99) * 1e3,
                         sel[-1] * 1e3, len(sel)))
    h.check(not failures, "%d of %d requests failed; first ones:\n  %s"
            % (len(failures), total, "\n  ".join(failures[:10])))
    h.check_eq(len(lat), total, "answered requests")

    # Scraping went on during the load, and still works the same way.
    m = ex.metrics()
    now = last_success(m, HEALTHY, ("goroutine", "heap"))
    h.check(all(now[k] > since[k] for k in since),
            "no healthy scrape during %.1fs of load: %r -> %r" % (elapsed, since, now))
    counts = fault_counts(m)
    stuck = [key for key in counts if counts[key] <= counts0[key]]
    h.check(not stuck or elapsed < 5,
            "fault slots that did not fail again during the load: %r" % stuck)
    problems = check_fault_slots(m) + check_healthy(m)
    h.check(not problems, "after the load:\n  " + "\n  ".join(problems))


def test_no_growth_over_many_cycles():
    e = env()
    ex = e.exporter
    pid = ex.proc.pid
    # Warm-up: every fault has been hit several times (buffers, thread
    # stacks and allocator arenas exist) before the first window.
    h.poll(lambda: time.monotonic() - e.started >= WARMUP_SECONDS
           and all(v >= 5 for v in fault_counts(ex.metrics()).values()),
           WARMUP_SECONDS + 60, "warm-up: %.0fs of uptime and 5 errors per fault slot"
           % WARMUP_SECONDS, interval=0.5)
    m0 = ex.metrics()
    counts0 = fault_counts(m0)
    samples = []  # (seconds since start, rss, threads, fds)
    t0 = time.monotonic()

    def sample():
        h.check(ex.proc.alive(), "exporter exited\n" + ex.proc.describe())
        rss, threads, fds = rss_status(pid)
        samples.append((time.monotonic() - t0, rss, threads, fds))
        return time.monotonic() - t0 >= SOAK_SECONDS

    h.poll(sample, SOAK_SECONDS + 30, "the soak run", interval=0.25, fatal=(h.TestFailure,))
    m = ex.metrics()

    first = [s for s in samples if s[0] <= RSS_WINDOW]
    last = [s for s in samples if s[0] >= samples[-1][0] - RSS_WINDOW]
    floor0 = min(s[1] for s in first)
    floor1 = min(s[1] for s in last)
    peak = max(s[1] for s in samples)
    print("  %.0fs soak, %d RSS samples; RSS floor (min over %.0fs) first window %s, "
          "last window %s, growth %+.2f MiB; peak %s"
          % (samples[-1][0], len(samples), RSS_WINDOW, mib(floor0), mib(floor1),
             (floor1 - floor0) / (1 << 20), mib(peak)))
    step = max(1, len(samples) // 12)
    print("  t/s   RSS(MiB) threads fds")
    for s in samples[::step] + [samples[-1]]:
        print("  %5.1f %8.1f %7d %3d" % (s[0], s[1] / (1 << 20), s[2], s[3]))

    growth = {key: v - counts0[key] for key, v in fault_counts(m).items()}
    print("  failed scrapes per fault slot during the soak: %s" % ", ".join(
        "%s/%s %d" % (t, k, n) for (t, k), n in sorted(growth.items())))

    with open("/proc/%d/status" % pid) as f:
        print("  exporter " + re.search(r"VmHWM:.*", f.read()).group(0))
    # Under a sanitizer, malloc is the sanitizer's: ASan keeps freed memory
    # in a quarantine of its own, so RSS says nothing about our buffers.
    # Threads and descriptors below are still checked.
    sanitizer = os.environ.get("PPROF_SANITIZER")
    if sanitizer:
        print("  RSS growth not judged under %s (its allocator holds freed memory)"
              % sanitizer)
    h.check(sanitizer or floor1 - floor0 < RSS_GROWTH_LIMIT,
            "exporter RSS floor grew by %s (from %s to %s) over %.0fs of faults. (Growth "
            "in steps of tens of MiB points at freed 64 MiB too_large buffers kept by "
            "glibc's per-thread arenas: compare a run with MALLOC_MMAP_THRESHOLD_=1048576.)"
            % (mib(floor1 - floor0), mib(floor0), mib(floor1), samples[-1][0]))
    threads0 = min(s[2] for s in first)
    threads1 = min(s[2] for s in last)
    h.check(threads1 <= threads0, "threads grew from %d to %d" % (threads0, threads1))
    fds0 = min(s[3] for s in first)
    fds1 = min(s[3] for s in last)
    h.check(fds1 <= fds0 + 2, "open file descriptors grew from %d to %d" % (fds0, fds1))

    # The scrapes really ran all along: a slot on a 1 s interval fails at
    # least every 2-3 s even when its attempts take the whole timeout.
    for (target, kind), n in growth.items():
        interval = float(re.search(r"%s: \{interval: (\d+)s" % kind,
                                   FAULTS[target][1]).group(1))
        want = int(SOAK_SECONDS / (3 * interval))
        h.check(n >= want, "%s/%s failed only %d times in %.0fs (want >= %d)"
                % (target, kind, n, samples[-1][0], want))
    problems = check_fault_slots(m) + check_healthy(m)
    h.check(not problems, "after the soak:\n  " + "\n  ".join(problems))
    diff = h.diff_samples(profile_series(m, HEALTHY), healthy_want())
    h.check(not diff, "healthy target's series changed after the soak:\n" + diff)

    # A slot that keeps failing the same way is logged once (then every
    # 10 minutes), not on each of its attempts.
    log = ex.proc.stderr()
    for target in FAULTS:
        for kind in SLOTS[target]:
            lines = re.findall(r'^.*msg="(?:scrape failed|scrape still failing|profiler busy[^"]*)" '
                               r'target=%s profile=%s .*$' % (target, kind), log, re.M)
            h.check(len(lines) == 1, "%s/%s logged %d failure lines (want 1):\n  %s"
                    % (target, kind, len(lines), "\n  ".join(lines[:4])))


if __name__ == "__main__":
    h.run_tests([test_fault_matrix, test_restarting_target, test_metrics_under_load,
                 test_no_growth_over_many_cycles])
