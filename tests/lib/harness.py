"""The one harness of the real-process tests (tests/daemon, faults, archive,
discovery, security, e2e): they start the pprof_exporter daemon, the Go demo
service (tests/demo), the fault server (tests/faults/fault_server.py),
Prometheus. Everything here is Python 3.11 standard library.

  * Locating files: find() looks in the runfiles ($TEST_SRCDIR/pprof_exporter/
    ...) under `bazel test`, else in the checkout and its bazel-bin/ (run
    from anywhere, e.g. `python3 tests/daemon/test_leak.py` after
    `bazel build //exporter:pprof_exporter //tests/demo:demo`).
  * Processes: Proc starts a command with stdout/stderr in files under the
    test's temporary directory, finds ports in that output, and is always
    stopped at the end (per test, at exit, on SIGTERM/SIGINT, and through
    PR_SET_PDEATHSIG should this Python process die without cleaning up).
    Stopping is a check: SIGTERM, then exit 0 within a deadline, or the
    test fails with the last lines of the process's stderr. A test that
    expects another exit code says so (Proc.wait_exit, stop(expect_code=)).
  * Prometheus text: parse_metrics() is a strict parser of the text
    exposition format that unescapes label values (\\\\, \\", \\n); it returns a
    Metrics object around {(name, frozenset(labels.items())): value}.
  * Waiting: poll() and Exporter.wait_metrics() retry a check until a
    deadline; nothing in these tests sleeps for a fixed time to synchronise.
  * Skips: skip(reason) and require_tool(); a skip prints a SKIPPED_MARKER
    line that scripts/test.sh counts, and under CI=true a tool that
    scripts/deps.sh installs being missing is a failure instead.
  * run_tests(): a tiny runner that prints "N passed, M failed, K skipped"
    and exits non-zero on failure.
"""

import atexit
import ctypes
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

WORKSPACE = "pprof_exporter"
_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO_ROOT = os.path.dirname(os.path.dirname(_HERE))

# The one strict parser of the text format, shared with the CLI's tests.
sys.path.insert(0, os.path.join(_REPO_ROOT, "tests", "cli"))
import promtext  # noqa: E402

ParseError = promtext.ParseError

# How long the tests wait for anything that should happen "soon" when the
# machine is not overloaded. Generous: CI has two cores and runs other tests.
STARTUP_TIMEOUT = 15.0
# How long a process may take to exit after SIGTERM. The exporter waits for
# in-flight scrapes, which end at their timeouts (a few seconds here).
STOP_TIMEOUT = 10.0


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------------------
# Locating binaries and scratch space


def find(rel, env_var=None, built=False):
    """The path of `rel` (relative to the workspace root): $env_var if set,
    else the runfile under Bazel, else the checkout's file; built=True (a
    Bazel output) looks in the checkout's bazel-bin/ instead and wants an
    executable."""
    if env_var and os.environ.get(env_var):
        path = os.environ[env_var]
        if not os.path.exists(path):
            sys.exit("FATAL: %s=%s does not exist" % (env_var, path))
        return path
    candidates = []
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        candidates.append(os.path.join(
            srcdir, os.environ.get("TEST_WORKSPACE", WORKSPACE), rel))
    for root in (_REPO_ROOT, os.getcwd()):
        candidates.append(os.path.join(root, "bazel-bin", rel) if built
                          else os.path.join(root, rel))
    for c in candidates:
        if os.path.exists(c) and (not built or os.access(c, os.X_OK)):
            return c
    hint = (" (run `bazel build //exporter:pprof_exporter //tests/demo:demo`)"
            if built else "")
    sys.exit("FATAL: cannot find %s%s%s; looked in %s"
             % (rel, " (or set %s)" % env_var if env_var else "", hint, candidates))


def exporter_bin():
    return find("exporter/pprof_exporter", "PPROF_EXPORTER_BIN", built=True)


def demo_bin():
    return find("tests/demo/demo", "DEMO_BIN", built=True)


def testdata(kind_file=""):
    """tests/testdata (the captured fixtures), or a file in it."""
    return os.path.join(find("tests/testdata", "PPROF_TESTDATA"), kind_file)


# ---------------------------------------------------------------------------
# Skips

# The line scripts/test.sh looks for in a test's log to report the target as
# SKIPPED rather than PASSED (Bazel's sh_test has no skip status).
SKIPPED_MARKER = "PPROF_TEST_SKIPPED:"


class Skipped(Exception):
    pass


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def skip(reason):
    """Ends the current test as skipped (run_tests counts it)."""
    raise Skipped(reason)


def report_skip(reason):
    """Prints the marker line for a skip that happens outside run_tests."""
    print("%s %s" % (SKIPPED_MARKER, reason), flush=True)


def skip_or_fail(msg):
    """For a part of a test (not run by run_tests) that cannot run because
    something scripts/deps.sh installs is missing: under CI=true a
    TestFailure, otherwise the marker line; the caller then leaves the part
    out."""
    if in_ci():
        raise TestFailure("CI=true: " + msg)
    report_skip(msg)


def require_tool(name, package):
    """The path of tool `name` (Debian `package`, installed by
    scripts/deps.sh). Missing: the test is skipped, or fails under CI=true."""
    path = shutil.which(name)
    if path:
        return path
    msg = "%s not found (Debian package %s; scripts/deps.sh installs it)" % (name, package)
    if in_ci():
        raise TestFailure("CI=true: " + msg)
    skip(msg)


_tmp = None


def tmpdir():
    """$TEST_TMPDIR under bazel; otherwise a fresh directory removed at exit
    unless a test failed (then it is kept and its path printed)."""
    global _tmp
    if _tmp is None:
        if os.environ.get("TEST_TMPDIR"):
            _tmp = os.environ["TEST_TMPDIR"]
        else:
            _tmp = tempfile.mkdtemp(prefix="pprof_daemon_test.")
            atexit.register(_remove_tmp)
    return _tmp


_keep_tmp = False


def _remove_tmp():
    if _tmp and not os.environ.get("TEST_TMPDIR"):
        if _keep_tmp:
            print("kept temporary files in " + _tmp)
        else:
            shutil.rmtree(_tmp, ignore_errors=True)


def write_file(name, text):
    """Writes text to tmpdir()/name atomically; returns the path."""
    path = os.path.join(tmpdir(), name)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)
    return path


# ---------------------------------------------------------------------------
# Processes

_PR_SET_PDEATHSIG = 1
_libc = None


def _die_with_parent():
    # Runs in the child between fork and exec: SIGKILL the child if the
    # Python process dies without running its cleanup (e.g. SIGKILLed).
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None

_all_procs = []
_procs_lock = threading.Lock()
_counter = [0]


class Proc:
    """A started child process whose stdout/stderr go to files."""

    def __init__(self, args, name):
        with _procs_lock:
            _counter[0] += 1
            n = _counter[0]
        self.name = name
        self.shared = False  # a per-file fixture: outlives the test that started it
        self.exit_seen = False  # the test looked at the exit code itself
        self.args = [str(a) for a in args]
        base = os.path.join(tmpdir(), "%02d-%s" % (n, re.sub(r"\W", "_", name)))
        self.stdout_path = base + ".stdout"
        self.stderr_path = base + ".stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                preexec_fn=_die_with_parent, cwd=tmpdir())
        with _procs_lock:
            _all_procs.append(self)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stdout(self):
        return _read(self.stdout_path)

    def stderr(self):
        return _read(self.stderr_path)

    def wait_output(self, pattern, stream="stderr", timeout=STARTUP_TIMEOUT):
        """Waits until `pattern` (a regex) matches the stream's text; returns
        the match. Fails early if the process exits first."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout() if stream == "stdout" else self.stderr()
            m = rx.search(text)
            if m:
                return m
            if not self.alive():
                # One more read: the line may have been written just before exit.
                text = self.stdout() if stream == "stdout" else self.stderr()
                m = rx.search(text)
                if m:
                    return m
                raise TestFailure("%s exited (code %s) before printing /%s/ on %s\n%s"
                                  % (self.name, self.popen.returncode, pattern,
                                     stream, self.describe()))
            if time.monotonic() > deadline:
                raise TestFailure("%s did not print /%s/ on %s within %.0fs\n%s"
                                  % (self.name, pattern, stream, timeout,
                                     self.describe()))
            time.sleep(0.02)

    def signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def wait_exit(self, timeout):
        """Returns the exit code, or None if still running after `timeout`.
        The caller then owns the check of that code: stop() no longer
        requires it to be 0."""
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.exit_seen = True
        return code

    def stop(self, grace=STOP_TIMEOUT, expect_code=0):
        """SIGTERM, then the process must exit with `expect_code` within
        `grace` seconds (None: any code). Otherwise it is SIGKILLed and
        TestFailure names what happened with the end of its stderr. An exit
        the test already saw (wait_exit) is not checked again. Idempotent;
        returns the exit code (negative: the signal that ended it)."""
        hung = False
        if self.popen.poll() is None:
            try:
                self.popen.terminate()
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                hung = True
                self.popen.kill()
                self.popen.wait(timeout=10)
            except OSError:
                pass
        with _procs_lock:
            if self in _all_procs:
                _all_procs.remove(self)
        code = self.popen.returncode
        if self.exit_seen or expect_code is None:
            return code
        self.exit_seen = True  # report once
        if hung:
            raise TestFailure("%s did not exit within %.0fs of SIGTERM (killed)\n%s"
                              % (self.name, grace, self.stderr_tail()))
        if code != expect_code:
            raise TestFailure("%s exited with %s after SIGTERM, want %s\n%s"
                              % (self.name, code, expect_code, self.stderr_tail()))
        return code

    def stderr_tail(self, lines=30):
        text = self.stderr().rstrip("\n").split("\n")
        return "--- last %d lines of %s's stderr (%s):\n%s" % (
            min(lines, len(text)), self.name, self.stderr_path, "\n".join(text[-lines:]))

    def describe(self, tail=3000):
        def last(text):
            return text if len(text) <= tail else "..." + text[-tail:]
        return ("--- %s (pid %d, %s): %s\n--- stdout:\n%s\n--- stderr:\n%s"
                % (self.name, self.pid,
                   "running" if self.alive() else "exit %s" % self.popen.returncode,
                   " ".join(self.args), last(self.stdout()), last(self.stderr())))


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def live_procs():
    with _procs_lock:
        return list(_all_procs)


def stop_all(except_=(), keep_shared=False):
    """Stops the processes (see Proc.stop); returns the failures, one
    message per process that did not exit 0 within its deadline."""
    failures = []
    for p in reversed(live_procs()):
        if p not in except_ and not (keep_shared and p.shared):
            try:
                p.stop()
            except TestFailure as e:
                failures.append(str(e))
    return failures


def shared(fixture):
    """Marks a Demo/Exporter/Proc as shared by the tests of a file, so the
    runner does not stop it after the test that happened to start it."""
    getattr(fixture, "proc", fixture).shared = True
    return fixture


def _cleanup_at_exit():
    for p in reversed(live_procs()):
        try:
            p.stop(grace=1.0)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_cleanup_at_exit)


def _on_signal(signum, _frame):
    # Bazel's test timeout sends SIGTERM; turn it into a normal exit so the
    # finally blocks and atexit handlers kill the children.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


class Demo:
    """The Go demo service (tests/demo), on a free port."""

    def __init__(self, *extra_args):
        self.proc = Proc([demo_bin(), "-listen", "127.0.0.1:0"] + list(extra_args),
                         "demo")
        m = self.proc.wait_output(r"listening on (\S+):(\d+)\n", stream="stdout")
        self.host, self.port = m.group(1), int(m.group(2))
        self.base = "http://%s:%d" % (self.host, self.port)
        self.pprof_url = self.base + "/debug/pprof/"

    def get(self, path, timeout=10):
        return http_get(self.base + path, timeout=timeout)

    def post(self, path, timeout=10):
        return http_request("POST", self.base + path, timeout=timeout)

    def state(self):
        import json
        status, _, body = self.get("/demo/state")
        check_eq(status, 200, "GET /demo/state status")
        return json.loads(body)

    def stop(self):
        self.proc.stop()


class Exporter:
    """The pprof_exporter daemon on a free port of 127.0.0.1."""

    def __init__(self, *args, telemetry_path="/metrics", name="exporter"):
        args = list(args)
        if not any(a.startswith("--web.listen-address") for a in args):
            args.append("--web.listen-address=127.0.0.1:0")
        if telemetry_path != "/metrics":
            args.append("--web.telemetry-path=" + telemetry_path)
        self.telemetry_path = telemetry_path
        self.proc = Proc([exporter_bin()] + args, name)
        m = self.proc.wait_output(r"msg=listening address=(\S+):(\d+)")
        self.port = int(m.group(2))
        self.base = "http://127.0.0.1:%d" % self.port

    def get(self, path, timeout=10):
        return http_get(self.base + path, timeout=timeout)

    def post(self, path, timeout=10):
        return http_request("POST", self.base + path, timeout=timeout)

    def metrics_text(self):
        status, headers, body = self.get(self.telemetry_path)
        check_eq(status, 200, "GET %s status" % self.telemetry_path)
        return body.decode("utf-8")

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def wait_metrics(self, pred, what, timeout=STARTUP_TIMEOUT):
        """Polls /metrics until pred(Metrics) is truthy; returns that Metrics.
        Fails if the exporter exits meanwhile."""
        def attempt():
            check(self.proc.alive(), "exporter exited (code %s)\n%s"
                  % (self.proc.popen.returncode, self.proc.describe()))
            m = self.metrics()
            return m if pred(m) else None
        return poll(attempt, timeout, what, fatal=(TestFailure,))

    def stop(self):
        """SIGTERM; the exporter must then exit 0 by itself. Anything else (a
        crash, a hang until SIGKILL, or a sanitizer's leak report at exit,
        which exits non-zero) fails the test. Cleanup does the same for an
        exporter the test leaves running."""
        self.proc.stop()


def free_port_not_listening():
    """A TCP port on 127.0.0.1 that refuses connections: bound, never
    listening, so no other process can take it while the socket is open.
    Returns (socket, port); keep the socket alive for as long as needed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


# ---------------------------------------------------------------------------
# HTTP (urllib, never through an environment proxy)

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as it is


# build_opener leaves out its default handlers that these replace.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http_request(method, url, data=None, timeout=10, headers=None):
    """Returns (status, headers, body bytes); HTTP errors are not raised."""
    if method == "POST" and data is None:
        data = b""
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        body = e.read()
        e.close()
        return e.code, e.headers, body


def http_get(url, timeout=10):
    return http_request("GET", url, timeout=timeout)


# ---------------------------------------------------------------------------
# Polling

def poll(fn, timeout, what, interval=0.05, fatal=()):
    """Calls fn() until it returns something truthy (returned) or `timeout`
    seconds pass (TestFailure naming `what` and the last result or error).
    Exceptions from fn count as "not yet", except those in `fatal`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            result = fn()
            if result:
                return result
            last = "returned %r" % (result,)
        except fatal:
            raise
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = "raised %s: %s" % (type(e).__name__, e)
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.1fs waiting for %s; last attempt %s"
                              % (timeout, what, last))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Prometheus text exposition format (0.0.4)


class Metrics:
    """Parsed exposition: samples {(name, frozenset(labels.items())): value},
    plus TYPE/HELP per family and the sample order."""

    def __init__(self):
        self.samples = {}
        self.order = []
        self.types = {}
        self.help = {}

    def __len__(self):
        return len(self.samples)

    def find(self, name, **labels):
        """[(labels dict, value)] of series `name` whose labels include `labels`."""
        out = []
        for (n, ls), v in self.samples.items():
            if n != name:
                continue
            d = dict(ls)
            if all(d.get(k) == want for k, want in labels.items()):
                out.append((d, v))
        return out

    def get(self, name, default=None, **labels):
        """The value of the only matching series, `default` if none."""
        found = self.find(name, **labels)
        if not found:
            return default
        if len(found) > 1:
            raise TestFailure("%s%r matches %d series: %r" % (name, labels, len(found), found))
        return found[0][1]

    def one(self, name, **labels):
        found = self.find(name, **labels)
        if len(found) != 1:
            raise TestFailure("want exactly one series %s%r, found %d: %r"
                              % (name, labels, len(found), found))
        return found[0][1]

    def with_label(self, **labels):
        """The sub-dict of samples whose labels include `labels`."""
        out = {}
        for (n, ls), v in self.samples.items():
            d = dict(ls)
            if all(d.get(k) == want for k, want in labels.items()):
                out[(n, ls)] = v
        return out

    def names(self):
        return {n for n, _ in self.samples}


def parse_metrics(text):
    """Strictly parses Prometheus text with tests/cli/promtext.py; raises
    ParseError on anything odd, a series that appears twice included."""
    exp = promtext.parse(text)
    m = Metrics()
    m.types = dict(exp.type)
    m.help = dict(exp.help)
    for s in exp.samples:
        key = (s.name, frozenset(s.labels))
        if key in m.samples:
            raise ParseError("line %d: duplicate series %r" % (s.line, s))
        m.samples[key] = s.value
        m.order.append(key)
    return m


def strip_label(samples, label):
    """{(name, labels - label): value} for a samples dict."""
    out = {}
    for (n, ls), v in samples.items():
        out[(n, frozenset((k, x) for k, x in ls if k != label))] = v
    return out


HEALTH_FAMILIES = frozenset({
    "pprof_up", "pprof_scrape_duration_seconds", "pprof_scrape_errors_total",
    "pprof_profile_bytes", "pprof_last_success_timestamp_seconds"})
ERROR_REASONS = ("connect", "timeout", "http_status", "profiler_busy",
                 "too_large", "decode", "series_limit")
KINDS = ("cpu", "heap", "allocs", "goroutine", "mutex", "block")


def derived_series(m, target):
    """The non-health series of `target` (the reduced profile data)."""
    return {k: v for k, v in m.with_label(target=target).items()
            if k[0] not in HEALTH_FAMILIES}


def format_series(key):
    name, labels = key
    return "%s{%s}" % (name, ",".join('%s=%r' % kv for kv in sorted(labels)))


def diff_samples(got, want, limit=20):
    """Human-readable differences between two samples dicts ('' if equal)."""
    lines = []
    for k in sorted(set(got) | set(want), key=format_series):
        if k not in want:
            lines.append("  unexpected %s = %r" % (format_series(k), got[k]))
        elif k not in got:
            lines.append("  missing    %s (want %r)" % (format_series(k), want[k]))
        elif not _same_value(got[k], want[k]):
            lines.append("  value      %s = %r, want %r" % (format_series(k), got[k], want[k]))
    if len(lines) > limit:
        lines = lines[:limit] + ["  ... %d more" % (len(lines) - limit)]
    return "\n".join(lines)


def _same_value(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


# ---------------------------------------------------------------------------
# Running `pprof_exporter reduce`

def run_cli(args, timeout=60):
    """Runs the exporter binary with args; returns (code, stdout, stderr)."""
    p = subprocess.run([exporter_bin()] + [str(a) for a in args],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout,
                       preexec_fn=_die_with_parent)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def reduce_file(path, kind, target, *extra):
    code, out, err = run_cli(["reduce", "--kind=" + kind, "--target=" + target]
                             + list(extra) + [path])
    check(code == 0, "reduce --kind=%s %s: exit %d\n%s" % (kind, path, code, err))
    return parse_metrics(out)


# ---------------------------------------------------------------------------
# Test runner

def run_tests(tests):
    """Runs the given test functions in order; prints a summary and exits
    non-zero if any failed. Processes a test starts are stopped after it
    (except those that existed before it, i.e. shared per-file fixtures),
    and each must exit 0 (Proc.stop): if one does not, the test fails. A
    test that calls skip() is counted as skipped, with SKIPPED_MARKER."""
    global _keep_tmp
    only = os.environ.get("TESTBRIDGE_TEST_ONLY") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if only:
        tests = [t for t in tests if re.search(only, t.__name__)]
    passed, failed, skipped = [], [], []
    start_all = time.monotonic()

    def fail(name, start):
        failed.append(name)
        for p in live_procs():
            print(p.describe(), flush=True)
        print("--- FAIL  %s (%.1fs)" % (name, time.monotonic() - start), flush=True)

    try:
        for test in tests:
            before = live_procs()
            print("=== RUN   %s" % test.__name__, flush=True)
            start = time.monotonic()
            outcome, reason = "pass", None
            try:
                test()
            except Skipped as e:
                outcome, reason = "skip", str(e)
            except Exception:  # noqa: BLE001 - reported, then the next test runs
                outcome = "fail"
                traceback.print_exc()
            stop_failures = stop_all(except_=before, keep_shared=True)
            for f in stop_failures:
                print("cleanup: " + f, flush=True)
            if outcome == "fail" or stop_failures:
                fail(test.__name__, start)
            elif outcome == "skip":
                skipped.append(test.__name__)
                report_skip("%s: %s" % (test.__name__, reason))
                print("--- SKIP  %s (%.1fs): %s" % (test.__name__, time.monotonic() - start,
                                                   reason), flush=True)
            else:
                passed.append(test.__name__)
                print("--- PASS  %s (%.1fs)" % (test.__name__, time.monotonic() - start),
                      flush=True)
    finally:
        # Shared fixtures: their exit is checked here, after the last test.
        for f in stop_all():
            print("cleanup of shared processes: " + f, flush=True)
            failed.append("(shared processes)")
    print("%d passed, %d failed, %d skipped (%.1fs)%s" % (
        len(passed), len(failed), len(skipped), time.monotonic() - start_all,
        ": " + ", ".join(failed) if failed else ""), flush=True)
    if failed:
        _keep_tmp = True
    if not tests:
        print("no tests ran")
        sys.exit(1)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------------------
# A recording pass-through proxy in front of a pprof endpoint

class RecordingProxy:
    """Forwards GETs to `upstream` (e.g. the demo's base URL) unchanged and
    keeps every 200 answer, so a test can reduce exactly the bytes the
    exporter got. Each record is (kind, t_request, body) where t_request is
    the wall-clock time (time.time(), the clock the exporter's
    pprof_last_success_timestamp_seconds uses) at which the request
    arrived, before anything was sent back."""

    def __init__(self, upstream):
        import http.client
        import http.server
        import urllib.parse

        self.upstream = urllib.parse.urlsplit(upstream)
        self.records = []
        self.lock = threading.Lock()
        self.fail_kinds = set()  # kinds answered with 503 instead
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                t_request = time.time()
                if proxy.kind_of(self.path) in proxy.fail_kinds:
                    body = b"failing on purpose\n"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=120)
                try:
                    conn.request("GET", self.path,
                                 headers={"Accept-Encoding": "identity"})
                    resp = conn.getresponse()
                    body = resp.read()
                    status = resp.status
                    headers = [(k, v) for k, v in resp.getheaders()
                               if k.lower() in ("content-type", "x-go-pprof",
                                                "content-disposition")]
                finally:
                    conn.close()
                if status == 200:
                    with proxy.lock:
                        proxy.records.append((proxy.kind_of(self.path), t_request, body))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.pprof_url = "http://127.0.0.1:%d/debug/pprof/" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="recording-proxy", daemon=True)
        self.thread.start()

    @staticmethod
    def kind_of(path):
        path = path.split("?", 1)[0].rstrip("/")
        last = path.rsplit("/", 1)[-1]
        return "cpu" if last == "profile" else last

    def body_published_at(self, kind, last_success):
        """The body of the scrape that the exporter published at
        `last_success`: the latest `kind` request that arrived before it.
        Exact, because the exporter sends the next request of a kind only
        after publishing the previous one (one scrape per slot at a time)."""
        with self.lock:
            candidates = [(t, body) for k, t, body in self.records
                          if k == kind and t < last_success]
        check(candidates, "no %s request recorded before %r" % (kind, last_success))
        return max(candidates, key=lambda c: c[0])[1]

    def count(self, kind):
        with self.lock:
            return sum(1 for k, _, _ in self.records if k == kind)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# A misbehaving pprof server

class FaultServer:
    """tests/faults/fault_server.py in a child process: one port whose path
    prefixes are targets that fail in every way a pprof endpoint can (its
    docstring lists the modes), plus a refused port. Stopped and checked
    like every Proc."""

    def __init__(self):
        self.proc = Proc([sys.executable, "-u", find("tests/faults/fault_server.py"),
                          "--testdata", testdata()], "fault_server")
        m = self.proc.wait_output(r"listening on 127\.0\.0\.1:(\d+) refused (\d+)\n",
                                  stream="stdout")
        self.port, self.refused_port = int(m.group(1)), int(m.group(2))

    def url(self, mode):
        """The pprof base URL of target `mode` ("refused" for the refused port)."""
        port = self.refused_port if mode == "refused" else self.port
        return "http://127.0.0.1:%d/%s/debug/pprof/" % (port, mode)

    def control(self, path):
        status, _, body = http_get("http://127.0.0.1:%d/_control/%s" % (self.port, path))
        check_eq(status, 200, "fault server /_control/%s status" % path)
        return body

    def stats(self):
        import json
        return json.loads(self.control("stats"))

    def close(self):
        self.proc.stop()


class StubPprof(FaultServer):
    """The old stub's mode names over the fault server (kept so that tests
    written against them still run; new tests use FaultServer's modes)."""
    _MODES = {"status404": "notfound", "status500": "error500", "garbage": "garbage",
              "huge": "huge_length", "silent": "silent"}

    def url(self, mode):
        return FaultServer.url(self, self._MODES.get(mode, mode))
