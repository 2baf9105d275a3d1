"""Shared helpers for the daemon integration tests (tests/daemon/test_*.py).

The tests start real processes: the pprof_exporter daemon and the Go demo
service (tests/demo). Everything here is Python 3.11 standard library.

  * Locating binaries: under `bazel test` from the runfiles
    ($TEST_SRCDIR/pprof_exporter/...); standalone from PPROF_EXPORTER_BIN /
    DEMO_BIN or the checkout's bazel-bin/ (run from anywhere, e.g.
    `python3 tests/daemon/test_leak.py` in /work/main after
    `bazel build //exporter:pprof_exporter //tests/demo:demo`).
  * Processes: Proc starts a command with stdout/stderr in files under the
    test's temporary directory, finds ports in that output, and is always
    killed at the end (per test, at exit, on SIGTERM/SIGINT, and through
    PR_SET_PDEATHSIG should this Python process die without cleaning up).
  * Prometheus text: parse_metrics() is a strict parser of the text
    exposition format that unescapes label values (\\\\, \\", \\n); it returns a
    Metrics object around {(name, frozenset(labels.items())): value}.
  * Waiting: poll() and Exporter.wait_metrics() retry a check until a
    deadline; nothing in these tests sleeps for a fixed time to synchronise.
  * run_tests(): a tiny runner that prints "N passed, M failed" and exits
    non-zero on failure; a test that raises Skipped (skip_tool) is reported
    as SKIPPED, not passed.
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


class TestFailure(AssertionError):
    pass


class Skipped(Exception):
    """Raised by skip_tool(): the test could not run. run_tests() reports it
    as SKIPPED (also in $TEST_WARNINGS_OUTPUT_FILE), never as passed."""


def skip_tool(tool, reason):
    """`tool` is installed by scripts/deps.sh: missing under CI=true is a
    failure, elsewhere a skip (tests/deploy/lib.sh's skip_tool)."""
    if os.environ.get("CI") == "true":
        raise TestFailure("%s missing under CI=true (scripts/deps.sh installs it): %s"
                          % (tool, reason))
    raise Skipped(reason)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------------------
# Locating binaries and scratch space


def testdata(name):
    """A file of tests/testdata (the test needs //tests:testdata as data)."""
    root = os.environ.get("TEST_SRCDIR")
    base = os.path.join(root, WORKSPACE) if root else _REPO_ROOT
    return os.path.join(base, "tests", "testdata", name)


def _find(rel, env_var):
    if os.environ.get(env_var):
        path = os.environ[env_var]
        if not os.path.exists(path):
            sys.exit("FATAL: %s=%s does not exist" % (env_var, path))
        return path
    candidates = []
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        candidates.append(os.path.join(
            srcdir, os.environ.get("TEST_WORKSPACE", WORKSPACE), rel))
    candidates.append(os.path.join(_REPO_ROOT, "bazel-bin", rel))
    candidates.append(os.path.join(os.getcwd(), "bazel-bin", rel))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("FATAL: cannot find %s (set %s, or run `bazel build "
             "//exporter:pprof_exporter //tests/demo:demo`); looked in %s"
             % (rel, env_var, candidates))


def exporter_bin():
    return _find("exporter/pprof_exporter", "PPROF_EXPORTER_BIN")


def demo_bin():
    return _find("tests/demo/demo", "DEMO_BIN")


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
        """Returns the exit code, or None if still running after `timeout`."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=3.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Idempotent. Returns
        the exit code (negative: the signal that ended it)."""
        if self.popen.poll() is None:
            try:
                self.popen.terminate()
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
            except OSError:
                pass
        with _procs_lock:
            if self in _all_procs:
                _all_procs.remove(self)
        return self.popen.returncode

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
    for p in reversed(live_procs()):
        if p not in except_ and not (keep_shared and p.shared):
            p.stop()


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
        which exits non-zero) fails the test."""
        code = self.proc.stop(grace=10.0)
        check_eq(code, 0, "exporter exit code after SIGTERM\n%s" % self.proc.describe())


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
                 "too_large", "decode")
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
    (except those that existed before it, i.e. shared per-file fixtures)."""
    global _keep_tmp
    only = os.environ.get("TESTBRIDGE_TEST_ONLY") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if only:
        tests = [t for t in tests if re.search(only, t.__name__)]
    passed, failed, skipped = [], [], []
    start_all = time.monotonic()
    try:
        for test in tests:
            before = live_procs()
            print("=== RUN   %s" % test.__name__, flush=True)
            start = time.monotonic()
            try:
                test()
                passed.append(test.__name__)
                print("--- PASS  %s (%.1fs)" % (test.__name__, time.monotonic() - start),
                      flush=True)
            except Skipped as e:
                skipped.append(test.__name__)
                print("--- SKIP  %s: %s" % (test.__name__, e), flush=True)
                if os.environ.get("TEST_WARNINGS_OUTPUT_FILE"):
                    with open(os.environ["TEST_WARNINGS_OUTPUT_FILE"], "a") as f:
                        f.write("SKIPPED: %s: %s\n" % (test.__name__, e))
            except Exception:  # noqa: BLE001 - reported, then the next test runs
                failed.append(test.__name__)
                traceback.print_exc()
                for p in live_procs():
                    print(p.describe(), flush=True)
                print("--- FAIL  %s (%.1fs)" % (test.__name__, time.monotonic() - start),
                      flush=True)
            finally:
                stop_all(except_=before, keep_shared=True)
    finally:
        stop_all()
    print("%d passed, %d failed (%.1fs)%s" % (
        len(passed), len(failed), time.monotonic() - start_all,
        ": " + ", ".join(failed) if failed else ""), flush=True)
    if skipped:
        print("SKIPPED: %d test(s) did not run: %s" % (len(skipped), ", ".join(skipped)),
              flush=True)
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

class StubPprof:
    """Answers under /<mode>/debug/pprof/<kind> in one of these ways, to
    provoke each scrape error reason:
      status404  404 Not Found
      status500  500 without X-Go-Pprof (a plain server error)
      garbage    200 with bytes that are no profile
      huge       200 claiming Content-Length 1 GiB, then nothing
      silent     reads the request, never answers (until close())
      redirect   302 to redirect_to + the path after /redirect
      tsnsrv     200 with tests/testdata/tsnsrv-storage/<kind>.pb.gz, the
                 bytes a real tsnsrv served (404 for kinds not kept there)
    """

    def __init__(self):
        import http.server

        self.release = threading.Event()
        self.redirect_to = None
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                mode = self.path.strip("/").split("/", 1)[0]
                if mode == "silent":
                    stub.release.wait(120)
                    return
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", stub.redirect_to + self.path[len("/redirect"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 30))
                    self.end_headers()
                    self.wfile.flush()
                    stub.release.wait(5)
                    return
                kind = self.path.rsplit("/", 1)[-1]
                if mode == "tsnsrv" and os.path.exists(testdata("tsnsrv-storage/%s.pb.gz" % kind)):
                    with open(testdata("tsnsrv-storage/%s.pb.gz" % kind), "rb") as f:
                        tsnsrv = f.read()
                else:
                    tsnsrv = None
                status, body = {
                    "tsnsrv": (200, tsnsrv) if tsnsrv else (404, b"no such fixture\n"),
                    "status404": (404, b"404 page not found\n"),
                    "status500": (500, b"internal error\n"),
                    "garbage": (200, b"this is not a profile\n"),
                }.get(mode, (404, b"unknown stub mode\n"))
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="stub-pprof",
                         daemon=True).start()

    def url(self, mode):
        return "http://127.0.0.1:%d/%s/debug/pprof/" % (self.port, mode)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
