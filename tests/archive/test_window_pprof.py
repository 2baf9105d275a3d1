#!/usr/bin/env python3
"""Every window series equals `go tool pprof -base PREV CUR` for its pair.

The exporter scrapes the Go demo's allocs, mutex and block profiles every
2 s and archives each one. For each kind the test reads /metrics, finds the
archived file of the published scrape (its name is the scrape's finish
time, pprof_last_success_timestamp_seconds) and the file archived just
before it (the window's baseline), and runs

    go tool pprof -top -nodefraction=0 -base PREV CUR

on exactly those two files. Then every pprof_<kind>_window_* series of
that scrape must agree with pprof to its printed precision:

 * _window_flat_ratio{function}: the first `top` functions of pprof's
   list (by flat, then name; functions with no flat of their own too),
   each with pprof's flat% and flat value;
 * _window_bytes / _window_delay_seconds: pprof's "of Z total";
 * _window_seconds: the difference of the two profiles' times as
   `go tool pprof -raw` prints them.
A window series of another name fails the test (it would go unchecked).
"""

import calendar
import math
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import h  # noqa: E402

TOP = 10
# kind -> (pprof Type, window total metric suffix, unit class)
KINDS = {
    "allocs": ("alloc_space", "bytes", "bytes"),
    "mutex": ("delay", "delay_seconds", "time"),
    "block": ("delay", "delay_seconds", "time"),
}
# pprof's unit names (internal/measurement) in our base units.
UNITS = {
    "time": {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6,
             "ms": 1e-3, "s": 1.0, "mins": 60.0, "hrs": 3600.0},
    "bytes": {"B": 1.0, "kB": 2.0 ** 10, "MB": 2.0 ** 20, "GB": 2.0 ** 30,
              "TB": 2.0 ** 40},
}
ROW_RE = re.compile(r"^ *(\S+) +(\S+%) +(\S+%) +(\S+) +(\S+%)  (.*)$")
HEADER_RE = re.compile(r"^Showing nodes accounting for (\S+), (\S+%) of (\S+) total$")
TIME_RE = re.compile(r"^Time: (\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)(?:\.(\d+))? \+0000 UTC$",
                     re.M)


def config(demo_url, adir):
    kinds = "".join("      %s: {interval: 2s, timeout: 2s}\n" % k for k in KINDS)
    return ("global:\n  scrape_interval: 10s\n  top: %d\n  archive: %s\n"
            "targets:\n  - name: demo\n    url: %s\n    profiles:\n%s"
            % (TOP, common.archive_block(adir), demo_url, kinds))


def scaled(text, unit_class, where):
    """pprof's ScaledLabel: %.2f in an auto-chosen unit, ".00" trimmed.
    Returns (value in base units, tolerance)."""
    if text in ("0", "-0"):
        return 0.0, 0.0
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(.*)", text)
    h.check(m and m.group(2) in UNITS[unit_class],
            "%s: cannot read pprof value %r" % (where, text))
    factor = UNITS[unit_class][m.group(2)]
    return float(m.group(1)) * factor, 0.005 * factor * (1 + 1e-9)


def percent(text):
    """pprof's Percentage: "100%" near 100, %5.2f from 1, else %5.2g.
    Returns (percent, tolerance)."""
    num = text.strip()[:-1]
    v = float(num)
    if num == "100":
        return 100.0, 0.05
    if v == 0:
        return 0.0, 0.0
    if "e" in num or "." not in num or abs(v) < 1.0:
        return v, 0.5 * 10.0 ** (math.floor(math.log10(abs(v))) - 1) * (1 + 1e-9)
    return v, 0.5 * 10.0 ** -len(num.split(".")[1]) * (1 + 1e-9)


def pprof_top_base(prev, cur, want_type):
    rc, out, err, _ = common.go_pprof("-top", "-nodefraction=0", "-base", prev, cur)
    h.check(rc == 0, "go tool pprof -base: exit %d\n%s\n%s" % (rc, out, err))
    h.check("Type: %s\n" % want_type in out, "pprof Type is not %s:\n%s" % (want_type, out))
    header, rows, in_rows = None, [], False
    for line in out.splitlines():
        if in_rows:
            m = ROW_RE.match(line)
            h.check(m, "unparsable pprof row %r in\n%s" % (line, out))
            name = re.sub(r" \((partial-)?inline\)$", "", m.group(6))
            rows.append((m.group(1), m.group(2), name))
        elif line.startswith("      flat  flat%"):
            in_rows = True
        elif line.startswith("Showing nodes"):
            header = HEADER_RE.match(line)
        h.check(not line.startswith("Dropped"), "pprof dropped nodes:\n" + out)
    h.check(header and rows, "no header or rows in pprof's output:\n" + out)
    return header.group(3), rows, out


def profile_seconds(path):
    """The profile's time, as `go tool pprof -raw` prints it (Go's reading)."""
    rc, out, err, _ = common.go_pprof("-raw", path)
    h.check(rc == 0, "go tool pprof -raw %s: exit %d\n%s" % (path, rc, err))
    m = TIME_RE.search(out)
    h.check(m, "no UTC Time: line in go tool pprof -raw %s:\n%s" % (path, out[:500]))
    y, mo, d, hh, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or "0"
    return calendar.timegm((y, mo, d, hh, mi, s)) + int(frac) / 10.0 ** len(frac)


def published_pair(m, kind, kind_dir):
    """(PREV, CUR): the archived files of the scrape published in `m` and of
    the one before it, its window's baseline."""
    last = m.one("pprof_last_success_timestamp_seconds", target="demo", profile=kind)
    names = sorted((n for n in os.listdir(kind_dir) if common.FILE_RE.match(n)),
                   key=common.file_millis)
    # File names are the finish time to the millisecond (+1 ms on a clash).
    cur = [i for i, n in enumerate(names)
           if -1.5 <= common.file_millis(n) - last * 1000 <= 2.5]
    h.check(len(cur) == 1, "%s: want one archived file at %.3f, have %r"
            % (kind, last, names[-5:]))
    h.check(cur[0] > 0, "%s: the published scrape's file %s has no predecessor"
            % (kind, names[cur[0]]))
    return (os.path.join(kind_dir, names[cur[0] - 1]),
            os.path.join(kind_dir, names[cur[0]]))


def check_kind(m, kind, kind_dir):
    want_type, total_suffix, unit_class = KINDS[kind]
    prefix = "pprof_%s_window_" % kind
    ours = {name: m.find(name, target="demo") for name in m.names()
            if name.startswith(prefix)}
    known = {prefix + s for s in ("flat_ratio", total_suffix, "seconds")}
    h.check(set(ours) <= known, "%s: unchecked window series %r"
            % (kind, sorted(set(ours) - known)))
    prev, cur = published_pair(m, kind, kind_dir)
    what = "%s window %s -> %s" % (kind, os.path.basename(prev), os.path.basename(cur))
    total_text, rows, out = pprof_top_base(prev, cur, want_type)
    context = "\n%s\npprof:\n%s" % (what, out[:3000])

    total = m.one(prefix + total_suffix, target="demo")
    pprof_total, tol = scaled(total_text, unit_class, what)
    h.check(abs(total - pprof_total) <= tol, "%s%s: %r vs pprof's %r total%s"
            % (prefix, total_suffix, total, total_text, context))

    seconds = m.one(prefix + "seconds", target="demo")
    want = profile_seconds(cur) - profile_seconds(prev)
    h.check(abs(seconds - want) <= 1e-6, "%sseconds: %r vs the profiles' times %r (%s)"
            % (prefix, seconds, want, what))

    flat = {}
    for labels, v in ours[prefix + "flat_ratio"]:
        flat[dict(labels)["function"]] = v
    h.check(flat, "%s: no window functions%s" % (kind, context))
    order = sorted(flat, key=lambda f: (-flat[f], f))
    h.check_eq(order, [r[2] for r in rows[:len(order)]],
               "%s: top functions by flat vs pprof's order%s" % (kind, context))
    h.check(len(order) == min(TOP, len(rows)), "%s: %d functions exported, pprof "
            "lists %d%s" % (kind, len(order), len(rows), context))
    for (flat_text, pct_text, name) in rows[:len(order)]:
        pct, ptol = percent(pct_text)
        h.check(abs(flat[name] * 100 - pct) <= ptol, "%s: %s flat ratio %r vs pprof %s%s"
                % (kind, name, flat[name], pct_text, context))
        value, vtol = scaled(flat_text, unit_class, what)
        h.check(abs(flat[name] * total - value) <= vtol + 1e-9 * abs(total),
                "%s: %s flat %r vs pprof %s%s"
                % (kind, name, flat[name] * total, flat_text, context))
    print("  %s: %d functions, total %s, %.3fs (%s)"
          % (kind, len(order), total_text, seconds, what))


def test_windows_equal_pprof_base():
    h.require_tool("go", "golang-go")
    demo = h.Demo()
    adir = os.path.join(h.tmpdir(), "archive")
    e = h.Exporter("--config.file=" + h.write_file("window.yml", config(demo.pprof_url, adir)))
    for kind in KINDS:
        m = e.wait_metrics(
            lambda m, kind=kind: m.get("pprof_%s_window_seconds" % kind, 0, target="demo") > 0
            and m.find("pprof_%s_window_flat_ratio" % kind, target="demo"),
            "a %s window with functions" % kind, timeout=60)
        check_kind(m, kind, os.path.join(adir, "demo", kind))
    e.stop()


if __name__ == "__main__":
    h.run_tests([test_windows_equal_pprof_base])
