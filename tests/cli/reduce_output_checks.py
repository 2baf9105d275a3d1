#!/usr/bin/env python3
"""Output checks for reduce_cli_test.sh: structure of the exposition and
values against the fixture JSON files.

  reduce_output_checks.py fixtures           all fixture checks
  reduce_output_checks.py escape DIR         checks on the gen_profiles.go
                                             output in DIR
  reduce_output_checks.py structure FILE T.. structure checks of a saved
                                             output whose targets must be T..

Exit 0 when every check passed, 1 otherwise (each failure printed).
"""

import json
import math
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402
import testenv  # noqa: E402

C = testenv.Checker("reduce_output_checks")
REL = 1e-12
BIG = 100000

TOTALS_HEAP = ["pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
               "pprof_heap_alloc_bytes_total", "pprof_heap_alloc_objects_total"]
# The metric names each kind exports (from the CLI's documentation).
FAMILIES = {
    "cpu": ["pprof_cpu_sampled_seconds", "pprof_cpu_duration_seconds", "pprof_cpu_gc_ratio",
            "pprof_cpu_gc_idle_ratio", "pprof_cpu_flat_ratio", "pprof_cpu_cum_ratio"],
    "heap": TOTALS_HEAP + ["pprof_heap_flat_ratio", "pprof_heap_cum_ratio"],
    "allocs": TOTALS_HEAP + ["pprof_allocs_flat_ratio", "pprof_allocs_cum_ratio"],
    "goroutine": ["pprof_goroutines", "pprof_services", "pprof_goroutines_per_service",
                  "pprof_goroutines_by_function"],
    "goroutine+label": ["pprof_goroutines", "pprof_services", "pprof_goroutines_per_service",
                        "pprof_service_goroutines", "pprof_goroutines_by_function"],
    "mutex": ["pprof_mutex_delay_seconds_total", "pprof_mutex_contentions_total",
              "pprof_mutex_flat_ratio", "pprof_mutex_cum_ratio"],
    "block": ["pprof_block_delay_seconds_total", "pprof_block_contentions_total",
              "pprof_block_flat_ratio", "pprof_block_cum_ratio"],
}
# Extra labels (besides target) each family carries.
EXTRA_LABELS = {"pprof_service_goroutines": ["service"]}
for _names in FAMILIES.values():
    for _n in _names:
        if _n.endswith(("_flat_ratio", "_cum_ratio")) or _n == "pprof_goroutines_by_function":
            EXTRA_LABELS[_n] = ["function"]


def rel_close(got, want, msg, rel=REL):
    ok = (got is not None and want is not None and
          abs(got - want) <= rel * max(abs(want), abs(got)) + (1e-300 if want == 0 else 0))
    return C.check(ok, "%s: got %r, want %r (relative tolerance %g)" % (msg, got, want, rel))


def run_reduce(*args, want_rc=0):
    cmd = [EXPORTER, "reduce"] + list(args)
    rc, out, err = testenv.run(cmd)
    where = "pprof_exporter reduce " + " ".join(args)
    C.check(rc == want_rc, "%s: exit %d, want %d; stderr %r" % (where, rc, want_rc, err))
    try:
        return promtext.parse(out), where
    except promtext.ParseError as e:
        C.check(False, "%s: output does not parse: %s" % (where, e))
        return promtext.Exposition(), where


def check_structure(exp, where, targets):
    """targets: {target: family key in FAMILIES}: the exact families per target."""
    seen = set()
    by_target = {}
    for s in exp.samples:
        t = s.label("target")
        C.check(t is not None, "%s: series without target label: %r" % (where, s))
        C.check(t in targets, "%s: series with unexpected target %r: %r" % (where, t, s))
        key = (s.name, tuple(sorted(s.labels)))
        C.check(key not in seen, "%s: duplicate series %r" % (where, s))
        seen.add(key)
        by_target.setdefault(t, set()).add(s.name)
        # Family = metric name (no histograms/summaries here).
        C.check(s.name in exp.help and exp.help[s.name].strip() != "",
                "%s: no (or empty) HELP for %s" % (where, s.name))
        typ = exp.type.get(s.name)
        want_type = "counter" if s.name.endswith("_total") else "gauge"
        C.check(typ == want_type, "%s: TYPE of %s is %r, want %r" % (where, s.name, typ, want_type))
        extra = sorted(k for k, _ in s.labels if k != "target")
        C.check(extra == sorted(EXTRA_LABELS.get(s.name, [])),
                "%s: %s has labels %r besides target, want %r"
                % (where, s.name, extra, EXTRA_LABELS.get(s.name, [])))
        C.check(not math.isnan(s.value) and not math.isinf(s.value),
                "%s: non-finite value %r" % (where, s))
        if s.name.endswith("_ratio"):
            C.check(0 <= s.value <= 1, "%s: ratio outside [0, 1]: %r" % (where, s))
        else:
            C.check(s.value >= 0, "%s: negative value: %r" % (where, s))
    for name in list(exp.help) + list(exp.type):
        C.check(any(s.name == name for s in exp.samples),
                "%s: HELP/TYPE for %s without samples" % (where, name))
    for t, fam in targets.items():
        want = set(FAMILIES[fam])
        got = by_target.get(t, set())
        C.check(got == want, "%s: target %r has families %r, want %r (missing %r, extra %r)"
                % (where, t, sorted(got), sorted(want), sorted(want - got), sorted(got - want)))


def ranked(exp, metric, target):
    return [(s.label("function"), s.value) for s in exp.series(metric, target=target)]


def check_top_flat(exp, full, kind, target, js, where):
    """Our flat list (--top=20) and cum values against the JSON top_flat."""
    want = js["top_flat"]
    got = ranked(exp, "pprof_%s_flat_ratio" % kind, target)
    C.check([f for f, _ in got] == [e["function"] for e in want],
            "%s: flat ranking differs from %s.json top_flat:\n ours: %r\n json: %r"
            % (where, target, [f for f, _ in got], [e["function"] for e in want]))
    cum_all = dict(ranked(full, "pprof_%s_cum_ratio" % kind, target))
    for (name, ratio), e in zip(got, want):
        rel_close(ratio, e["flat_ratio"], "%s: flat ratio of %s" % (where, name))
        rel_close(cum_all.get(name), e["cum_ratio"], "%s: cum ratio of %s (--top=%d)"
                  % (where, name, BIG))
    # The cum list is ordered by cum descending, then name.
    cum = ranked(exp, "pprof_%s_cum_ratio" % kind, target)
    C.check(len(cum) == min(20, len(cum_all)), "%s: %d cum series, want %d"
            % (where, len(cum), min(20, len(cum_all))))
    C.check(cum == sorted(cum, key=lambda fv: (-fv[1], fv[0])),
            "%s: cum list not ordered by value desc, name asc: %r" % (where, cum))
    full_cum = sorted(cum_all.items(), key=lambda fv: (-fv[1], fv[0]))
    C.check(cum == full_cum[:len(cum)], "%s: --top=20 cum list is not the head of the full one"
            % where)


def load(name):
    with open(os.path.join(TESTDATA, name)) as f:
        return json.load(f)


def fixture_checks():
    td = TESTDATA
    p = lambda n: os.path.join(td, n + ".pb.gz")  # noqa: E731

    # All fixtures that need no --kind, together.
    exp, where = run_reduce("--service-label=service", p("cpu"), p("heap"), p("allocs"),
                            p("goroutine"))
    check_structure(exp, where, {"cpu": "cpu", "heap": "heap", "allocs": "allocs",
                                 "goroutine": "goroutine+label"})
    for kind in ("mutex", "block"):
        exp, where = run_reduce("--kind=" + kind, p(kind))
        check_structure(exp, where, {kind: kind})

    # Default target and --target relabelling, one kind at a time.
    for fixture, flags in (("cpu", []), ("heap", []), ("allocs", []), ("goroutine", []),
                           ("mutex", ["--kind=mutex"]), ("block", ["--kind=block"])):
        exp, where = run_reduce(*(flags + [p(fixture)]))
        check_structure(exp, where, {fixture: fixture})
        exp, where = run_reduce(*(flags + ["--target=relabelled-" + fixture, p(fixture)]))
        check_structure(exp, where, {"relabelled-" + fixture: fixture})
    # A copy under another name: the target follows the file name.
    copy = os.path.join(testenv.tmpdir(), "my-service.heap.pb.gz")
    with open(p("heap"), "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    exp, where = run_reduce(copy)
    check_structure(exp, where, {"my-service.heap": "heap"})

    # cpu
    js = load("cpu.json")
    exp, where = run_reduce("--top=20", p("cpu"))
    full, _ = run_reduce("--top=%d" % BIG, p("cpu"))
    rel_close(exp.value("pprof_cpu_sampled_seconds", target="cpu"), js["cpu_seconds"],
              where + ": pprof_cpu_sampled_seconds vs cpu.json cpu_seconds")
    rel_close(exp.value("pprof_cpu_duration_seconds", target="cpu"), js["duration_nanos"] / 1e9,
              where + ": pprof_cpu_duration_seconds vs cpu.json duration_nanos/1e9")
    rel_close(exp.value("pprof_cpu_gc_ratio", target="cpu"), js["gc_ratio"],
              where + ": pprof_cpu_gc_ratio vs cpu.json gc_ratio")
    check_top_flat(exp, full, "cpu", "cpu", js, where)
    exp, where = run_reduce("--gc-regex=" + js["gc_regex"], p("cpu"))
    rel_close(exp.value("pprof_cpu_gc_ratio", target="cpu"), js["gc_ratio"],
              where + ": pprof_cpu_gc_ratio vs cpu.json gc_ratio")
    exp, where = run_reduce("--gc-regex=^no\\.such\\.function$", p("cpu"))
    C.check(exp.value("pprof_cpu_gc_ratio", target="cpu") == 0,
            where + ": pprof_cpu_gc_ratio should be 0 when nothing matches")

    # heap / allocs
    for fixture, kind in (("heap", "heap"), ("allocs", "allocs")):
        js = load(fixture + ".json")
        exp, where = run_reduce("--kind=" + kind, "--top=20", p(fixture))
        full, _ = run_reduce("--kind=" + kind, "--top=%d" % BIG, p(fixture))
        t = js["totals"]
        for metric, key in (("pprof_heap_inuse_bytes", "inuse_space"),
                            ("pprof_heap_inuse_objects", "inuse_objects"),
                            ("pprof_heap_alloc_bytes_total", "alloc_space"),
                            ("pprof_heap_alloc_objects_total", "alloc_objects")):
            C.check(exp.value(metric, target=fixture) == t[key],
                    "%s: %s = %r, want %s.json totals.%s = %r"
                    % (where, metric, exp.value(metric, target=fixture), fixture, key, t[key]))
        check_top_flat(exp, full, kind, fixture, js, where)

    # mutex / block
    for kind in ("mutex", "block"):
        js = load(kind + ".json")
        exp, where = run_reduce("--kind=" + kind, "--top=20", p(kind))
        full, _ = run_reduce("--kind=" + kind, "--top=%d" % BIG, p(kind))
        C.check(exp.value("pprof_%s_contentions_total" % kind, target=kind) == js["contentions"],
                "%s: contentions_total vs %s.json contentions %r" % (where, kind, js["contentions"]))
        rel_close(exp.value("pprof_%s_delay_seconds_total" % kind, target=kind),
                  js["delay_seconds"], "%s: delay_seconds_total vs %s.json" % (where, kind))
        check_top_flat(exp, full, kind, kind, js, where)

    # goroutine
    js = load("goroutine.json")
    jr = load("goroutine.by-regex.json")
    exp, where = run_reduce("--top=20", p("goroutine"))
    C.check(exp.value("pprof_goroutines", target="goroutine") == js["goroutines"],
            where + ": pprof_goroutines vs goroutine.json goroutines")
    C.check(exp.value("pprof_services", target="goroutine") == 1,
            where + ": pprof_services should default to 1")
    C.check(exp.value("pprof_goroutines_per_service", target="goroutine") == js["goroutines"],
            where + ": pprof_goroutines_per_service with 1 service")
    by_fn = [(s.label("function"), s.value)
             for s in exp.series("pprof_goroutines_by_function", target="goroutine")]
    want = [(e["function"], e["goroutines"]) for e in js["by_function"]]
    C.check(by_fn == want, "%s: pprof_goroutines_by_function\n ours: %r\n json: %r"
            % (where, by_fn, want))
    exp, where = run_reduce("--top=3", p("goroutine"))
    by_fn = [(s.label("function"), s.value)
             for s in exp.series("pprof_goroutines_by_function", target="goroutine")]
    C.check(by_fn == want[:3], "%s: pprof_goroutines_by_function %r, want %r"
            % (where, by_fn, want[:3]))

    exp, where = run_reduce("--service-label=" + js["service_label"], p("goroutine"))
    C.check(exp.value("pprof_services", target="goroutine") == js["services"],
            where + ": pprof_services vs goroutine.json services")
    C.check(exp.value("pprof_goroutines_per_service", target="goroutine") == 6 ==
            js["goroutines_per_service"], where + ": pprof_goroutines_per_service should be 6")
    per = {s.label("service"): s.value
           for s in exp.series("pprof_service_goroutines", target="goroutine")}
    C.check(per == js["label_values"], "%s: pprof_service_goroutines %r, want %r"
            % (where, per, js["label_values"]))

    exp, where = run_reduce("--service-count-regex=" + jr["service_count_regex"], p("goroutine"))
    C.check(exp.value("pprof_services", target="goroutine") == jr["services"],
            where + ": pprof_services vs goroutine.by-regex.json services")
    C.check(exp.value("pprof_goroutines_per_service", target="goroutine") == 6 ==
            jr["goroutines_per_service"], where + ": pprof_goroutines_per_service should be 6")
    C.check(not exp.series("pprof_service_goroutines"),
            where + ": pprof_service_goroutines without --service-label")

    exp, where = run_reduce("--services=3", p("goroutine"))
    C.check(exp.value("pprof_services", target="goroutine") == 3, where + ": pprof_services")
    C.check(exp.value("pprof_goroutines_per_service", target="goroutine") == 16,
            where + ": pprof_goroutines_per_service should be 48/3")

    # --kind=mutex on the mutex fixture
    exp, where = run_reduce("--kind=mutex", p("mutex"))
    C.check(exp.value("pprof_mutex_contentions_total", target="mutex") == 8434,
            where + ": pprof_mutex_contentions_total")


def escape_checks(d):
    with open(os.path.join(d, "escape.json")) as f:
        js = json.load(f)
    path = os.path.join(d, "escape-cpu.pb.gz")
    exp, where = run_reduce("--top=100", path)
    check_structure(exp, where, {"escape-cpu": "cpu"})
    total = js["cpu_total_nanos"]
    rel_close(exp.value("pprof_cpu_sampled_seconds", target="escape-cpu"), total / 1e9,
              where + ": sampled seconds")
    for metric, values in (("pprof_cpu_flat_ratio", js["flat_nanos"]),
                           ("pprof_cpu_cum_ratio", js["cum_nanos"])):
        got = ranked(exp, metric, "escape-cpu")
        got_names = [n for n, _ in got]
        C.check(sorted(got_names) == sorted(values),
                "%s: %s function names do not round-trip:\n missing %r\n unexpected %r"
                % (where, metric, sorted(set(values) - set(got_names)),
                   sorted(set(got_names) - set(values))))
        for name, ratio in got:
            if name in values:
                rel_close(ratio, values[name] / total, "%s: %s{function=%r}" % (where, metric, name))
        want_order = sorted(values, key=lambda n: (-values[n], n))
        C.check(got_names == want_order, "%s: %s order %r, want %r"
                % (where, metric, got_names, want_order))
    for name in js["names"]:
        C.check(name in dict(ranked(exp, "pprof_cpu_flat_ratio", "escape-cpu")),
                "%s: leaf function %r missing" % (where, name))

    path = os.path.join(d, "escape-goroutine.pb.gz")
    exp, where = run_reduce("--service-label=service", path)
    check_structure(exp, where, {"escape-goroutine": "goroutine+label"})
    per = {s.label("service"): s.value
           for s in exp.series("pprof_service_goroutines", target="escape-goroutine")}
    C.check(per == js["services"], "%s: service label values do not round-trip: %r, want %r"
            % (where, per, js["services"]))
    C.check(exp.value("pprof_goroutines", target="escape-goroutine") == js["goroutines"],
            where + ": pprof_goroutines")
    # A --target value that needs escaping.
    odd = 'odd "target"\\ \n ü'
    exp, where = run_reduce("--target=" + odd, path)
    check_structure(exp, where, {odd: "goroutine"})


def is_application(function):
    """Written apart from profile/reduce.cc: the first element of the
    package path (up to the first '.' after the last '/') is "main" or holds
    a dot."""
    slash = function.rfind("/")
    path = function[:function.find(".", slash + 1) if "." in function[slash + 1:] else len(function)]
    first = path.split("/", 1)[0]
    return first == "main" or "." in first


def count_debug1(path):
    """The header's total, the records' sum, and goroutines per first
    application frame (else the first frame shown; a record showing no
    frame is in no group), counted straight from a debug=1 text dump."""
    total, records, by_function, count, frames = None, 0, {}, None, []

    def flush():
        if count is not None and frames:
            app = [f for f in frames if is_application(f)]
            key = app[0] if app else frames[0]
            by_function[key] = by_function.get(key, 0) + count

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("goroutine profile: total "):
                total = int(line.split()[-1])
            elif " @ " in line and not line.startswith("#"):
                flush()
                count, frames = int(line.split(" @ ")[0]), []
                records += count
            elif line.startswith("#\t"):
                fields = [x for x in line.split("\t") if x]
                if len(fields) >= 3:
                    frames.append(fields[2].rsplit("+0x", 1)[0])
    flush()
    return total, records, by_function


def dump_checks(path, target):
    """`reduce` on a debug=1 dump: pprof_goroutines is the header's total
    and pprof_goroutines_by_function equals count_debug1's count."""
    total, records, want = count_debug1(path)
    C.check(total is not None and records == total,
            "%s: the records do not add up to the header's total" % path)
    exp, where = run_reduce("--top=100000", "--target=" + target, path)
    C.check(exp.value("pprof_goroutines", target=target) == total,
            "%s: pprof_goroutines %r, header says %r"
            % (where, exp.value("pprof_goroutines", target=target), total))
    got = {s.label("function"): s.value for s in exp.samples
           if s.name == "pprof_goroutines_by_function"}
    C.check(got == want, "%s: pprof_goroutines_by_function differs from the "
            "count over the text:\n  only in reduce: %r\n  only in the count: %r"
            % (where, {k: v for k, v in got.items() if want.get(k) != v},
               {k: v for k, v in want.items() if got.get(k) != v}))
    C.check(len(want) > 10, "%s: too few functions to mean anything" % path)


def traceback_checks(path, target):
    """`reduce --stuck-after=1m` on a debug=2 dump: the state and stuck
    series equal counts over the dump's own goroutine headers."""
    states, stuck, longest = {}, 0, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("goroutine ") and line.rstrip().endswith("]:"):
                fields = line[line.index("[") + 1:line.rindex("]")].split(", ")
                states[fields[0]] = states.get(fields[0], 0) + 1
                minutes = [int(x.split()[0]) for x in fields[1:] if x.endswith(" minutes")]
                if minutes and minutes[0] >= 1:
                    stuck += 1
                    longest = max(longest, minutes[0] * 60)
    exp, where = run_reduce("--stuck-after=1m", "--target=" + target, path)
    got = {s.label("state"): s.value for s in exp.samples
           if s.name == "pprof_goroutines_by_state"}
    C.check(got == states, "%s: pprof_goroutines_by_state %r, the headers say %r"
            % (where, got, states))
    C.check(exp.value("pprof_goroutines", target=target) == sum(states.values()),
            "%s: pprof_goroutines vs the number of headers" % where)
    C.check(exp.value("pprof_goroutines_stuck", target=target) == stuck,
            "%s: pprof_goroutines_stuck %r, headers with >= 1 minutes: %r"
            % (where, exp.value("pprof_goroutines_stuck", target=target), stuck))
    C.check(exp.value("pprof_goroutines_longest_wait_seconds", target=target) == longest,
            "%s: pprof_goroutines_longest_wait_seconds vs the headers" % where)
    C.check(stuck > 0, "%s: the fixture has no goroutine waiting a minute" % path)


def main():
    global EXPORTER, TESTDATA
    EXPORTER = testenv.exporter()
    TESTDATA = testenv.testdata()
    mode = sys.argv[1]
    if mode == "dump":
        with open(sys.argv[2], encoding="utf-8") as f:
            counted = f.readline().startswith("goroutine profile: total ")
        (dump_checks if counted else traceback_checks)(sys.argv[2], sys.argv[3])
        C.finish()
        return
    if mode == "fixtures":
        fixture_checks()
    elif mode == "escape":
        escape_checks(sys.argv[2])
    elif mode == "structure":
        with open(sys.argv[2], encoding="utf-8") as f:
            text = f.read()
        try:
            exp = promtext.parse(text)
        except promtext.ParseError as e:
            C.check(False, "%s: does not parse: %s" % (sys.argv[2], e))
            exp = promtext.Exposition()
        targets = dict(a.split("=", 1) for a in sys.argv[3:])
        check_structure(exp, sys.argv[2], targets)
    else:
        sys.exit("unknown mode " + mode)
    C.finish()


if __name__ == "__main__":
    main()
