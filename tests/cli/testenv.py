"""Locating the binary and fixtures, and running commands, for tests/cli.

Works under `bazel test` (runfiles) and from a source checkout after
`bazel build //exporter:pprof_exporter`. Overrides: PPROF_EXPORTER (binary),
PPROF_TESTDATA (fixture directory).
"""

import os
import subprocess
import sys

WORKSPACE = "pprof_exporter"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates(rel):
    out = []
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        out.append(os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", WORKSPACE), rel))
    out.append(os.path.join(os.getcwd(), rel))
    # Source checkout: tests/cli/ -> repository root.
    root = os.path.dirname(os.path.dirname(_HERE))
    out.append(os.path.join(root, rel))
    if rel.startswith("exporter/"):
        out.append(os.path.join(root, "bazel-bin", rel))
    return out


def find(rel, env=None):
    if env and os.environ.get(env):
        return os.environ[env]
    for c in _candidates(rel):
        if os.path.exists(c):
            return c
    sys.exit("FATAL: cannot find %s (looked in %s)" % (rel, _candidates(rel)))


def exporter():
    return find("exporter/pprof_exporter", "PPROF_EXPORTER")


def testdata():
    return find("tests/testdata", "PPROF_TESTDATA")


def tmpdir():
    d = os.environ.get("TEST_TMPDIR")
    if not d:
        import tempfile
        d = tempfile.mkdtemp(prefix="pprof_cli_test.")
    return d


def run(args, env=None, check_rc=None):
    """Runs args; returns (rc, stdout str, stderr str)."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = p.stdout.decode("utf-8")
    err = p.stderr.decode("utf-8", "replace")
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("%s: exit %d, want %d\nstderr:\n%s"
                             % (" ".join(args), p.returncode, check_rc, err))
    return p.returncode, out, err


class Checker:
    """Collects failures so that one run reports all of them."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.checks = 0

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures.append(msg)
            print("FAIL: " + msg, flush=True)
        return cond

    def close_to(self, got, want, tol, msg):
        ok = got is not None and want is not None and abs(got - want) <= tol
        return self.check(ok, "%s: got %r, want %r (tolerance %g)" % (msg, got, want, tol))

    def finish(self):
        if self.failures:
            print("\n%s: %d of %d checks FAILED" % (self.name, len(self.failures), self.checks))
            for f in self.failures:
                print("  - " + f.replace("\n", "\n    "))
            sys.exit(1)
        if self.checks == 0:
            print("%s: no checks ran" % self.name)
            sys.exit(1)
        print("%s: all %d checks passed" % (self.name, self.checks))
