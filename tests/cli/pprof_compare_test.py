#!/usr/bin/env python3
"""Black-box comparison of `pprof_exporter reduce` with `go tool pprof -top`.

For every fixture in tests/testdata the exporter's ranked function lists
(pprof_<kind>_flat_ratio / pprof_<kind>_cum_ratio) must name the same
functions in the same order as `go tool pprof -top -nodefraction=0
-nodecount=N [-cum]`, and every number pprof prints (flat, flat%, sum%, cum,
cum%, the "Showing nodes accounting for X, Y% of TOTAL total" header, the
CPU "Duration/Total samples" line) must agree with ours to pprof's printed
precision. Totals of the other sample types are compared through
`-sample_index`, the CPU GC share through `-focus=<gc regex>`, goroutine
service counting through `-focus` and `-tags`. The fixture JSON lists are
also checked against pprof, so a drift in either is caught.

Skipped (harness.SKIPPED_MARKER, exit 0) when `go` or the pprof Go library
is not installed; under CI=true that is a failure (scripts/deps.sh installs
both).
"""

import json
import math
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402
import testenv  # noqa: E402

BIG = 100000  # --top / -nodecount meaning "all functions"
TOPS = (1, 2, 5, 20)  # smaller cut-offs; ties at the cut are compared too

# fixture -> (kind, pprof sample index, unit class, our metric for its total)
FIXTURES = {
    "cpu": ("cpu", "cpu", "time", "pprof_cpu_sampled_seconds"),
    "heap": ("heap", "inuse_space", "bytes", "pprof_heap_inuse_bytes"),
    "allocs": ("allocs", "alloc_space", "bytes", "pprof_heap_alloc_bytes_total"),
    "mutex": ("mutex", "delay", "time", "pprof_mutex_delay_seconds_total"),
    "block": ("block", "delay", "time", "pprof_block_delay_seconds_total"),
}
# Other sample types whose totals we export: fixture -> [(index, unit class, metric)].
OTHER_TOTALS = {
    "heap": [("inuse_objects", "count", "pprof_heap_inuse_objects"),
             ("alloc_space", "bytes", "pprof_heap_alloc_bytes_total"),
             ("alloc_objects", "count", "pprof_heap_alloc_objects_total")],
    "allocs": [("inuse_space", "bytes", "pprof_heap_inuse_bytes"),
               ("inuse_objects", "count", "pprof_heap_inuse_objects"),
               ("alloc_objects", "count", "pprof_heap_alloc_objects_total")],
    "mutex": [("contentions", "count", "pprof_mutex_contentions_total")],
    "block": [("contentions", "count", "pprof_block_contentions_total")],
}

# pprof's canonical unit names (internal/measurement), value in our base
# unit: seconds for time, bytes for memory.
UNITS = {
    "time": {"ns": 1e-9, "us": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0,
             "hrs": 3600.0},
    "bytes": {"B": 1.0, "kB": 2.0 ** 10, "MB": 2.0 ** 20, "GB": 2.0 ** 30,
              "TB": 2.0 ** 40, "PB": 2.0 ** 50},
    "count": {"": 1.0},
}
# Fixture JSON values are in the profile's unit; factor to our base unit.
JSON_FACTOR = {"time": 1e-9, "bytes": 1.0, "count": 1.0}

ROW_RE = re.compile(
    r"^ *(\S+) +(\S+%) +(\S+%) +(\S+) +(\S+%)  (.*)$")
HEADER_RE = re.compile(
    r"^Showing nodes accounting for (\S+), (\S+%) of (\S+) total$")
DURATION_RE = re.compile(
    r"^Duration: (\S+), Total samples = (\S+) \((\S+%)\)$")
COLUMNS = "      flat  flat%   sum%        cum   cum%"

C = testenv.Checker("pprof_compare_test")


# --- pprof output parsing -------------------------------------------------

def parse_value(text, unit_class, where):
    """pprof ScaledLabel: %.2f in an auto-chosen unit, ".00" trimmed.

    Returns (value in base unit, tolerance)."""
    if text in ("0", "-0"):
        return 0.0, 0.0
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(.*)", text)
    if not m or m.group(2) not in UNITS[unit_class]:
        C.check(False, "%s: cannot parse pprof value %r as %s" % (where, text, unit_class))
        return None, 0.0
    factor = UNITS[unit_class][m.group(2)]
    return float(m.group(1)) * factor, 0.005 * factor


def parse_pct(text, where):
    """pprof measurement.Percentage: "  100%" for 99.95..100.05, "%5.2f%%"
    for >= 1, "%5.2g%%" below. Returns (percent, tolerance)."""
    text = text.strip()
    if not text.endswith("%"):
        C.check(False, "%s: not a percentage: %r" % (where, text))
        return None, 0.0
    num = text[:-1]
    try:
        v = float(num)
    except ValueError:
        C.check(False, "%s: not a percentage: %r" % (where, text))
        return None, 0.0
    if num == "100":
        return 100.0, 0.05
    if v == 0:
        return 0.0, 0.0
    if "e" in num or "." not in num or abs(v) < 1.0:
        # %.2g: two significant digits.
        return v, 0.5 * 10.0 ** (math.floor(math.log10(abs(v))) - 1)
    decimals = len(num.split(".")[1])
    return v, 0.5 * 10.0 ** -decimals


PPROF_ENV = None


def pprof_env():
    global PPROF_ENV
    if PPROF_ENV is None:
        tmp = testenv.tmpdir()
        env = dict(os.environ)
        env.update(HOME=tmp, PPROF_TMPDIR=tmp, GOCACHE=os.path.join(tmp, "gocache"),
                   GOPATH=os.path.join(tmp, "gopath"), GOFLAGS="", GO111MODULE="off",
                   PPROF_BINARY_PATH=os.path.join(tmp, "nobinaries"))
        PPROF_ENV = env
    return PPROF_ENV


class PprofTop:
    def __init__(self):
        self.type = None
        self.duration = None  # (duration, total samples, pct) strings
        self.header = None  # (X, Y%, TOTAL) strings
        self.rows = []  # (flat, flat%, sum%, cum, cum%, name) strings
        self.raw = ""


def pprof_top(path, index, nodecount, cum=False, extra=(), allow_newlines=False):
    args = [GO, "tool", "pprof", "-top", "-nodefraction=0",
            "-nodecount=%d" % nodecount, "-sample_index=" + index]
    if cum:
        args.append("-cum")
    args += list(extra) + [path]
    rc, out, err = testenv.run(args, env=pprof_env())
    top = PprofTop()
    top.raw = out
    where = " ".join(args[1:])
    if not C.check(rc == 0, "%s: exit %d: %s" % (where, rc, err)):
        return top
    in_rows = False
    in_filters = False
    for line in (out[:-1] if out.endswith("\n") else out).split("\n"):
        if line == "" and not (in_rows and allow_newlines):
            continue
        if in_rows:
            m = ROW_RE.match(line)
            if m is None and top.rows and allow_newlines:
                # pprof prints names raw: a newline in a name continues the row.
                prev = top.rows[-1]
                top.rows[-1] = prev[:5] + (prev[5] + "\n" + line,)
                continue
            if not C.check(m is not None, "%s: unparsable row %r" % (where, line)):
                continue
            name = m.group(6)
            for suffix in (" (inline)", " (partial-inline)"):
                if name.endswith(suffix):
                    name = name[:-len(suffix)]
            top.rows.append(m.groups()[:5] + (name,))
            continue
        if line == COLUMNS:
            in_rows = True
            continue
        if line.startswith("Type: "):
            top.type = line[len("Type: "):]
        elif line.startswith("Duration: "):
            m = DURATION_RE.match(line)
            C.check(m is not None, "%s: unparsable %r" % (where, line))
            top.duration = m.groups() if m else None
        elif line.startswith("Showing nodes accounting for"):
            m = HEADER_RE.match(line)
            C.check(m is not None, "%s: unparsable %r" % (where, line))
            top.header = m.groups() if m else None
        elif line == "Active filters:":
            in_filters = True
        elif in_filters and line.startswith("   "):
            pass
        elif line.startswith(("File: ", "Time: ", "Build ID: ", "Showing top ")):
            pass
        else:
            # e.g. "Dropped N nodes": the comparison would be meaningless.
            C.check(False, "%s: unexpected pprof header line %r" % (where, line))
    C.check(in_rows, "%s: no column header in output:\n%s" % (where, out))
    C.check(top.type == index, "%s: Type: %r, want %r" % (where, top.type, index))
    C.check(top.header is not None, "%s: no 'Showing nodes' header" % where)
    return top


def pprof_tags(path, index):
    """`go tool pprof -tags`: {key: {value: count}}."""
    args = [GO, "tool", "pprof", "-tags", "-sample_index=" + index, path]
    rc, out, err = testenv.run(args, env=pprof_env())
    C.check(rc == 0, "pprof -tags %s: exit %d: %s" % (path, rc, err))
    tags = {}
    key = None
    for line in out.split("\n"):
        m = re.match(r"^ (\S+): Total (\S+)$", line)
        if m:
            key = m.group(1)
            tags[key] = {}
            continue
        m = re.match(r"^ +(\S+) \(\s*\S+%\): (.*)$", line)
        if m and key is not None:
            tags[key][m.group(2)] = float(m.group(1))
    return tags


# --- our output -------------------------------------------------------------

def reduce(path, *flags, target=None):
    args = [EXPORTER, "reduce"] + list(flags) + [path]
    rc, out, err = testenv.run(args)
    where = " ".join(["pprof_exporter"] + args[1:])
    C.check(rc == 0, "%s: exit %d, stderr %r" % (where, rc, err))
    try:
        exp = promtext.parse(out)
    except promtext.ParseError as e:
        C.check(False, "%s: output does not parse: %s" % (where, e))
        return promtext.Exposition()
    if target is not None:
        for s in exp.samples:
            C.check(s.label("target") == target,
                    "%s: series %r lacks target=%r" % (where, s, target))
    return exp


def ranked(exp, metric):
    """[(function, ratio)] in output order."""
    return [(s.label("function"), s.value) for s in exp.series(metric)]


# --- comparisons ------------------------------------------------------------

def order_diff(a, b, label_a, label_b):
    """A short description of where two name lists first differ."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    lo = max(0, i - 2)
    return ("%d vs %d functions, first difference at rank %d\n %s[%d:]: %r\n %s[%d:]: %r"
            % (len(a), len(b), i + 1, label_a, lo, a[lo:i + 4], label_b, lo, b[lo:i + 4]))


def compare_ranking(fixture, top, ours, flat_all, cum_all, total, unit_class, cum, n):
    """ours: [(function, ratio)] of the list pprof sorted (flat or cum)."""
    what = "%s %s top %s" % (fixture, "cum" if cum else "flat", "all" if n == BIG else n)
    names_pprof = [r[5] for r in top.rows]
    names_ours = [f for f, _ in ours]
    # On a difference the numbers of the functions pprof lists are still compared.
    C.check(names_pprof == names_ours, "%s: function lists differ: %s"
            % (what, order_diff(names_pprof, names_ours, "pprof", "ours")))
    flat_sum = 0.0
    for row in top.rows:
        flat_s, flat_pct, sum_pct, cum_s, cum_pct, name = row
        fr = flat_all.get(name)
        cr = cum_all.get(name)
        if not C.check(fr is not None and cr is not None,
                       "%s: pprof lists %r, which our full lists lack (flat %r, cum %r)"
                       % (what, name, fr, cr)):
            continue
        flat_sum += fr
        for label, ratio, pct_s, val_s in (("flat", fr, flat_pct, flat_s),
                                          ("cum", cr, cum_pct, cum_s)):
            p, tol = parse_pct(pct_s, what)
            C.close_to(ratio * 100, p, tol + 1e-9,
                       "%s: %s %s%% (ours*100 vs pprof %r)" % (what, name, label, pct_s))
            v, vtol = parse_value(val_s, unit_class, what)
            C.close_to(ratio * total, v, vtol * (1 + 1e-9) + 1e-9 * abs(total),
                       "%s: %s %s value (ours ratio*total vs pprof %r)"
                       % (what, name, label, val_s))
        p, tol = parse_pct(sum_pct, what)
        C.close_to(flat_sum * 100, p, tol + 1e-9,
                   "%s: sum%% after %s (pprof %r)" % (what, name, sum_pct))
    # The listed ratios themselves must be the ones in our full lists.
    for name, ratio in ours:
        full = cum_all.get(name) if cum else flat_all.get(name)
        C.check(full is not None and abs(full - ratio) <= 1e-15,
                "%s: %s ratio %r differs from the --top=%d value %r"
                % (what, name, ratio, BIG, full))
    if top.header:
        x_s, y_s, total_s = top.header
        x, xtol = parse_value(x_s, unit_class, what)
        C.close_to(flat_sum * total, x, xtol * (1 + 1e-9) + 1e-9 * abs(total),
                   "%s: header 'accounting for' (pprof %r)" % (what, x_s))
        y, ytol = parse_pct(y_s, what)
        C.close_to(flat_sum * 100, y, ytol + 1e-9,
                   "%s: header percentage (pprof %r)" % (what, y_s))
        t, ttol = parse_value(total_s, unit_class, what)
        C.close_to(total, t, ttol * (1 + 1e-9) + 1e-9 * abs(total),
                   "%s: header total (pprof %r)" % (what, total_s))


def compare_json_with_pprof(fixture, path, index, unit_class, js):
    """The fixture's expected top_flat (20 entries) against pprof."""
    top = pprof_top(path, index, 20)
    what = "%s.json top_flat vs pprof -nodecount=20" % fixture
    names_pprof = [r[5] for r in top.rows]
    names_json = [e["function"] for e in js["top_flat"]]
    C.check(names_pprof == names_json, "%s: function lists differ: %s"
            % (what, order_diff(names_pprof, names_json, "pprof", "json")))
    by_name = {e["function"]: e for e in js["top_flat"]}
    for flat_s, flat_pct, _, cum_s, cum_pct, name in top.rows:
        e = by_name.get(name)
        if e is None:
            continue
        for label, pct_s, val_s in (("flat", flat_pct, flat_s), ("cum", cum_pct, cum_s)):
            p, tol = parse_pct(pct_s, what)
            C.close_to(e[label + "_ratio"] * 100, p, tol + 1e-9,
                       "%s: %s %s%%" % (what, name, label))
            v, vtol = parse_value(val_s, unit_class, what)
            want = e[label] * JSON_FACTOR[unit_class]
            C.close_to(want, v, vtol * (1 + 1e-9), "%s: %s %s value" % (what, name, label))
    total = js["totals"][index] * JSON_FACTOR[unit_class]
    if top.header:
        t, ttol = parse_value(top.header[2], unit_class, what)
        C.close_to(total, t, ttol * (1 + 1e-9), "%s: totals.%s" % (what, index))


# Generated profiles that are not CPU profiles: name -> as FIXTURES.
GENERATED = {
    # gperftools' C++ heap profiles: in-use only, as objects and space.
    "gperftools-heap": ("heap", "space", "bytes", "pprof_heap_inuse_bytes"),
    "cppbench-heap": ("heap", "space", "bytes", "pprof_heap_inuse_bytes"),
}


def check_fixture(fixture, path=None, generated=False):
    kind, index, unit_class, total_metric = (
        GENERATED.get(fixture, FIXTURES["cpu"]) if generated else FIXTURES[fixture])
    if generated:
        js = None
    else:
        path = os.path.join(TESTDATA, fixture + ".pb.gz")
        with open(os.path.join(TESTDATA, fixture + ".json")) as f:
            js = json.load(f)
    print("== %s (--kind=%s, -sample_index=%s)" % (fixture, kind, index), flush=True)

    full = reduce(path, "--kind=" + kind, "--top=%d" % BIG, target=fixture)
    flat_metric = "pprof_%s_flat_ratio" % kind
    cum_metric = "pprof_%s_cum_ratio" % kind
    flat_list = ranked(full, flat_metric)
    cum_list = ranked(full, cum_metric)
    flat_all = dict(flat_list)
    cum_all = dict(cum_list)
    C.check(len(flat_all) == len(flat_list), "%s: duplicate functions in %s" % (fixture, flat_metric))
    C.check(len(cum_all) == len(cum_list), "%s: duplicate functions in %s" % (fixture, cum_metric))
    C.check(set(flat_all) == set(cum_all),
            "%s: flat and cum lists name different functions with --top=%d" % (fixture, BIG))
    C.check(len(flat_list) > 0, "%s: no %s series" % (fixture, flat_metric))
    total = full.value(total_metric, target=fixture) if full.series(total_metric) else None
    if not C.check(total is not None, "%s: no %s" % (fixture, total_metric)):
        return

    for n in (BIG,) + TOPS:
        ours = full if n == BIG else reduce(path, "--kind=" + kind, "--top=%d" % n, target=fixture)
        for cum in (False, True):
            top = pprof_top(path, index, n, cum=cum, allow_newlines=generated)
            lst = ranked(ours, cum_metric if cum else flat_metric)
            if n != BIG:
                C.check(len(lst) == min(n, len(flat_list)),
                        "%s --top=%d: %d %s series, want %d"
                        % (fixture, n, len(lst), cum_metric if cum else flat_metric,
                           min(n, len(flat_list))))
            compare_ranking(fixture, top, lst, flat_all, cum_all, total, unit_class, cum, n)

    if generated:
        return

    # Totals of the other sample types.
    for other, other_class, metric in OTHER_TOTALS.get(fixture, []):
        top = pprof_top(path, other, 1)
        got = full.value(metric, target=fixture) if full.series(metric) else None
        if C.check(got is not None, "%s: no %s" % (fixture, metric)) and top.header:
            t, ttol = parse_value(top.header[2], other_class, fixture)
            C.close_to(got, t, ttol * (1 + 1e-9) + 1e-9 * abs(got),
                       "%s: %s vs pprof -sample_index=%s total %r"
                       % (fixture, metric, other, top.header[2]))

    if fixture == "cpu":
        check_cpu_extras(path, full, total, js)

    compare_json_with_pprof(fixture, path, index, unit_class, js)


def check_cpu_extras(path, full, total, js):
    top = pprof_top(path, "cpu", 1)
    if C.check(top.duration is not None, "cpu: no Duration line"):
        dur_s, samples_s, pct_s = top.duration
        dur = full.value("pprof_cpu_duration_seconds", target="cpu")
        d, dtol = parse_value(dur_s, "time", "cpu Duration")
        C.close_to(dur, d, dtol * (1 + 1e-9), "cpu: pprof_cpu_duration_seconds vs Duration %r" % dur_s)
        s, stol = parse_value(samples_s, "time", "cpu Total samples")
        C.close_to(total, s, stol * (1 + 1e-9), "cpu: pprof_cpu_sampled_seconds vs Total samples %r"
                   % samples_s)
        p, ptol = parse_pct(pct_s, "cpu Total samples %")
        C.close_to(total / dur * 100, p, ptol + 1e-9, "cpu: sampled/duration %% vs %r" % pct_s)

    # GC share: samples with any frame matching the regex = pprof -focus.
    gc_default = full.value("pprof_cpu_gc_ratio", target="cpu")
    regexes = [(js["gc_regex"], gc_default, "default --gc-regex")]
    explicit = reduce(path, "--kind=cpu", "--gc-regex=" + js["gc_regex"], target="cpu")
    regexes.append((js["gc_regex"], explicit.value("pprof_cpu_gc_ratio", target="cpu"),
                    "--gc-regex=<cpu.json gc_regex>"))
    check_gc_focus(path, "cpu", total, regexes)
    # main.hashLoop only appears as the caller line of the inlined main.mix64
    # in some samples: exercises "any frame, any line".
    check_gc_focus(path, "cpu", total,
                   [r"^main\.hashLoop$", r"^main\.mix64$", r"^runtime\.mallocgc$"])


def check_gc_focus(path, target, total, regexes):
    """regexes: [(regex, our ratio or None, description)] or [regex]: our
    pprof_cpu_gc_ratio with --gc-regex must equal the share pprof -focus
    keeps (samples with a frame matching, after drop_frames pruning)."""
    for item in regexes:
        if isinstance(item, str):
            rx = item
            other = reduce(path, "--kind=cpu", "--gc-regex=" + rx, target=target)
            ratio = other.value("pprof_cpu_gc_ratio", target=target)
            what = "--gc-regex=" + rx
        else:
            rx, ratio, what = item
        top = pprof_top(path, "cpu", BIG, extra=["-focus=" + rx])
        if not top.header:
            continue
        x_s, y_s, t_s = top.header
        x, xtol = parse_value(x_s, "time", what)
        C.close_to(ratio * total, x, xtol * (1 + 1e-9) + 1e-12,
                   "%s %s: pprof_cpu_gc_ratio*sampled vs pprof -focus 'accounting for' %r"
                   % (target, what, x_s))
        y, ytol = parse_pct(y_s, what)
        C.close_to(ratio * 100, y, ytol + 1e-9,
                   "%s %s: pprof_cpu_gc_ratio vs pprof -focus %r" % (target, what, y_s))


def check_goroutine():
    fixture = "goroutine"
    path = os.path.join(TESTDATA, "goroutine.pb.gz")
    with open(os.path.join(TESTDATA, "goroutine.json")) as f:
        js = json.load(f)
    with open(os.path.join(TESTDATA, "goroutine.by-regex.json")) as f:
        js_regex = json.load(f)
    print("== goroutine", flush=True)

    top = pprof_top(path, "goroutine", BIG)
    pprof_total = None
    if top.header:
        pprof_total, _ = parse_value(top.header[2], "count", "goroutine")
    default = reduce(path, "--kind=goroutine", target=fixture)
    C.check(default.series("pprof_goroutines") and
            default.value("pprof_goroutines", target=fixture) == pprof_total,
            "goroutine: pprof_goroutines %r vs pprof total %r"
            % ([s.value for s in default.series("pprof_goroutines")], pprof_total))

    # --service-count-regex: goroutines whose stack has a matching frame,
    # which is what pprof -focus selects.
    rx = js_regex["service_count_regex"]
    focus = pprof_top(path, "goroutine", BIG, extra=["-focus=" + rx])
    by_rx = reduce(path, "--service-count-regex=" + rx, target=fixture)
    if focus.header:
        n, _ = parse_value(focus.header[0], "count", "goroutine focus")
        C.check(by_rx.series("pprof_services") and
                by_rx.value("pprof_services", target=fixture) == n,
                "goroutine: pprof_services with --service-count-regex %r vs pprof -focus count %r"
                % ([s.value for s in by_rx.series("pprof_services")], n))
        if pprof_total and n:
            C.check(by_rx.series("pprof_goroutines_per_service") and
                    abs(by_rx.value("pprof_goroutines_per_service", target=fixture)
                        - pprof_total / n) <= 1e-12,
                    "goroutine: pprof_goroutines_per_service (regex) vs pprof %r/%r"
                    % (pprof_total, n))

    # --service-label: per-value counts = pprof -tags.
    tags = pprof_tags(path, "goroutine").get("service", {})
    C.check(len(tags) > 0, "goroutine: pprof -tags shows no service label")
    by_label = reduce(path, "--service-label=service", target=fixture)
    ours = {s.label("service"): s.value for s in by_label.series("pprof_service_goroutines")}
    C.check(ours == tags, "goroutine: pprof_service_goroutines %r vs pprof -tags %r" % (ours, tags))
    C.check(by_label.series("pprof_services") and
            by_label.value("pprof_services", target=fixture) == len(tags),
            "goroutine: pprof_services with --service-label vs %d pprof tag values" % len(tags))

    compare_json_with_pprof(fixture, path, "goroutine", "count", js)


def check_generated():
    """gen_profiles.go's CPU profiles, compared with pprof like the fixtures:
    escape-cpu (names with quotes, backslashes, a newline, a tab, non-ASCII,
    a 378-character name -- pprof -top prints names untruncated --, a
    location without lines named [<mapping basename>], one without mapping
    named <unknown>), prune-cpu (drop_frames/keep_frames corner cases) and
    shapes-cpu (recursion and inlining); gperftools heap profiles (see
    check_gperftools_heap)."""
    gopath = "/usr/share/gocode"
    if not os.path.isdir(os.path.join(gopath, "src/github.com/google/pprof/profile")):
        testenv.harness.skip_or_fail(
            "generated profiles: %s lacks github.com/google/pprof/profile (Debian package "
            "golang-github-google-pprof-dev)" % gopath)
        return
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_profiles.go")
    out = os.path.join(testenv.tmpdir(), "generated")
    os.makedirs(out, exist_ok=True)
    env = dict(pprof_env(), GOPATH=gopath, CGO_ENABLED="0")
    rc, stdout, err = testenv.run([GO, "run", src, out], env=env)
    if not C.check(rc == 0, "go run gen_profiles.go: exit %d: %s%s" % (rc, stdout, err)):
        return
    for name in ("escape-cpu", "prune-cpu", "shapes-cpu"):
        check_fixture(name, os.path.join(out, name + ".pb.gz"), generated=True)
    check_gperftools_heap(gopath, os.path.join(out, "gperftools-heap.pb.gz"), out)
    # GC share on pruned stacks: -focus sees the profile after drop_frames.
    path = os.path.join(out, "prune-cpu.pb.gz")
    total = reduce(path, "--kind=cpu").value("pprof_cpu_sampled_seconds", target="prune-cpu")
    check_gc_focus(path, "prune-cpu", total,
                   [r"^runtime\.mallocgc$", r"^main\.dropMe$", r"^main\.dropInner$",
                    r"^runtime\.memclr$", r"^main\.inner$", r"^main\.\(\*T\)\.Method$",
                    r"^main\.dropButKeep$"])
    path = os.path.join(out, "shapes-cpu.pb.gz")
    total = reduce(path, "--kind=cpu").value("pprof_cpu_sampled_seconds", target="shapes-cpu")
    check_gc_focus(path, "shapes-cpu", total,
                   [r"^main\.helper$", r"^main\.a$", r"^main\.rec$", r"^main\.zero$"])


def check_gperftools_heap(gopath, generated, out):
    """C++ heap profiles as gperftools writes them (objects/count,
    space/bytes): `reduce --kind=heap` reads them as pprof does, "space"
    being the in-use bytes. One from gen_profiles.go, one converted from
    pprof's own test data (cppbench.heap, a legacy text heap profile whose
    unsymbolized frames pprof names [binary]) with `go tool pprof -proto`.
    allocs has nothing to show of them and refuses them."""
    converted = os.path.join(out, "cppbench-heap.pb.gz")
    legacy = os.path.join(gopath, "src/github.com/google/pprof/profile/testdata/cppbench.heap")
    rc, stdout, err = testenv.run([GO, "tool", "pprof", "-proto", "-output=" + converted,
                                   legacy], env=pprof_env())
    if not C.check(rc == 0, "go tool pprof -proto %s: exit %d: %s%s" % (legacy, rc, stdout, err)):
        return
    for name, path in (("gperftools-heap", generated), ("cppbench-heap", converted)):
        check_fixture(name, path, generated=True)
        full = reduce(path, "--kind=heap", target=name)
        for index, metric in (("space", "pprof_heap_inuse_bytes"),
                              ("objects", "pprof_heap_inuse_objects")):
            top = pprof_top(path, index, 1)
            got = full.value(metric, target=name) if full.series(metric) else None
            if C.check(got is not None, "%s: no %s" % (name, metric)) and top.header:
                t, ttol = parse_value(top.header[2], "bytes" if index == "space" else "count",
                                      name)
                C.close_to(got, t, ttol * (1 + 1e-9), "%s: %s vs pprof -sample_index=%s "
                           "total %r" % (name, metric, index, top.header[2]))
        guessed = reduce(path, target=name)
        C.check(guessed.series("pprof_heap_inuse_bytes"),
                "%s: reduce without --kind does not read it as heap" % name)
        rc, _, err = testenv.run([EXPORTER, "reduce", "--kind=allocs", path])
        C.check(rc != 0 and "not a allocs profile" in err,
                "%s: reduce --kind=allocs: exit %d, %r" % (name, rc, err))


def main():
    global GO, EXPORTER, TESTDATA
    GO = shutil.which("go")
    if not GO:
        testenv.harness.skip_or_fail("go is not installed (Debian package golang-go); "
                                     "cannot compare with go tool pprof")
        return 0
    EXPORTER = testenv.exporter()
    TESTDATA = testenv.testdata()
    rc, out, err = testenv.run([GO, "version"], env=pprof_env())
    print("using %s (%s), exporter %s, fixtures %s" % (GO, out.strip(), EXPORTER, TESTDATA))
    only = sys.argv[1:]
    for fixture in FIXTURES:
        if not only or fixture in only:
            check_fixture(fixture)
    if not only or "goroutine" in only:
        check_goroutine()
    if not only or "generated" in only:
        check_generated()
    C.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
