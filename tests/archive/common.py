"""Shared helpers of tests/archive: configs, the archive directory on disk,
`go tool pprof` with a private HOME, and bcrypt hashes. The processes and
HTTP come from tests/lib/harness.py."""

import base64
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "lib"))
import harness as h  # noqa: E402

# 2026-11-27T13:05:44.123Z.pb.gz
FILE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z\.pb\.gz$")


def config(target_url, archive=None, name="demo", kinds=None,
           scrape_timeout="1s"):
    """A config with one target; `kinds` maps kind -> YAML flow map."""
    if kinds is None:
        kinds = {"heap": "{interval: 1s}", "goroutine": "{interval: 1s}"}
    lines = ["global:", "  scrape_interval: 10s",
             "  scrape_timeout: %s" % scrape_timeout]
    if archive is not None:
        lines.append("  archive: %s" % archive)
    lines += ["targets:", "  - name: '%s'" % name.replace("'", "''"),
              "    url: %s" % target_url, "    profiles:"]
    lines += ["      %s: %s" % (k, v) for k, v in kinds.items()]
    return "\n".join(lines) + "\n"


def archive_block(dir_, max_age=None, max_bytes=None):
    parts = ["dir: '%s'" % dir_]
    if max_age:
        parts.append("max_age: %s" % max_age)
    if max_bytes:
        parts.append("max_bytes: %s" % max_bytes)
    return "{%s}" % ", ".join(parts)


def file_millis(name):
    m = FILE_RE.match(name)
    h.check(m, "archive file name %r is not <RFC 3339 UTC ms>.pb.gz" % name)
    y, mo, d, hh, mi, s, ms = (int(g) for g in m.groups())
    import calendar
    return calendar.timegm((y, mo, d, hh, mi, s)) * 1000 + ms


def archive_files(dir_, finished_only=False):
    """{relative path: size} of every file under dir_: temporary ones too,
    unless `finished_only` (while the exporter runs, a write in progress
    may show its temporary file)."""
    out = {}
    for root, _, files in os.walk(dir_):
        for f in files:
            if finished_only and f.startswith(".tmp-"):
                continue
            p = os.path.join(root, f)
            try:
                out[os.path.relpath(p, dir_)] = os.path.getsize(p)
            except FileNotFoundError:
                pass  # deleted by retention meanwhile
    return out


def metric_sum(m, name, **labels):
    return sum(v for _, v in m.find(name, **labels))


_GO_ENV = None


def go_env():
    """go and pprof write only under the test's temporary directory, never
    through a proxy."""
    global _GO_ENV
    if _GO_ENV is None:
        tmp = os.path.join(h.tmpdir(), "gohome")
        os.makedirs(tmp, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update(HOME=tmp, PPROF_TMPDIR=os.path.join(tmp, "pprof"),
                   GOCACHE=os.path.join(tmp, "gocache"),
                   GOPATH=os.path.join(tmp, "gopath"), GOFLAGS="",
                   GO111MODULE="off", NO_PROXY="*", no_proxy="*",
                   PPROF_BINARY_PATH=os.path.join(tmp, "nobinaries"))
        _GO_ENV = env
    return _GO_ENV


def go_pprof(*args, timeout=120):
    """Runs `go tool pprof ARGS`; returns (rc, stdout, stderr, seconds)."""
    start = time.monotonic()
    p = subprocess.run(["go", "tool", "pprof"] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=go_env(), timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), time.monotonic() - start)


def bcrypt_hash(password):
    """A $2b$ bcrypt hash for basic_auth_users (cost 4: fast tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # noqa: PLC0415 - deprecated, gone in Python 3.13
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    h.check(hashed and hashed.startswith("$2"), "libcrypt has no bcrypt")
    return hashed


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def hrefs(html):
    return re.findall(r'href="([^"]+)"', html)
