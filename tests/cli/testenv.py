"""Locating the binary and fixtures, and running commands, for tests/cli.

Works under `bazel test` (runfiles) and from a source checkout after
`bazel build //exporter:pprof_exporter`. Overrides: PPROF_EXPORTER (binary),
PPROF_TESTDATA (fixture directory). Finding files is tests/lib/harness.py's.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402


def find(rel, env=None):
    return harness.find(rel, env, built=rel.startswith("exporter/"))


def exporter():
    return find("exporter/pprof_exporter", "PPROF_EXPORTER")


def testdata():
    return find("tests/testdata", "PPROF_TESTDATA")


def tmpdir():
    return harness.tmpdir()


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
