#!/usr/bin/env python3
"""Goroutine forensics on the real Go demo: its own debug=2 dump, reduced.

test_stuck_goroutines_equal_the_dumps_own_counts: the demo parks BLOCKED
goroutines in main.blockedForever and collects garbage every second (the
runtime starts a goroutine's wait clock at the first GC that sees it
waiting, and prints a wait only from one whole minute on). Once the demo's
debug=2 dump shows all of them waiting "1 minutes" -- a little over a
minute after start -- that very dump is reduced with --stuck-after=1m, and
pprof_goroutines_stuck, pprof_goroutines_stuck_by_function,
pprof_goroutines_longest_wait_seconds and pprof_goroutines_by_state must
equal counts taken from the dump's own goroutine headers. Then the daemon,
scraping `goroutine_dump: {interval: 2s, stuck_after: 1m}` of the same
demo, must export the same figures as a dump the test takes at that moment
(read between two dumps that agree, so no goroutine came or went between).
"""

import collections
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness as h  # noqa: E402

BLOCKED = 7
# "goroutine 12 [chan receive, 1 minutes]:" -> its bracket.
HEADER = re.compile(r"^goroutine \d+ \[([^\]]*)\]( \{.*\})?:$", re.M)


def goroutines(text):
    """[(state, minutes, first function shown)] per goroutine of a dump,
    read independently of the exporter's parser."""
    out = []
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        m = HEADER.match(lines[0])
        if not m:
            continue
        fields = m.group(1).split(", ")
        state = fields[0].replace(" (scan)", "")
        minutes = next((int(f.split()[0]) for f in fields[1:]
                        if f.endswith(" minutes")), 0)
        functions = [l.rsplit("(", 1)[0] for l in lines[1:]
                     if l and not l.startswith(("\t", "created by", "..."))]
        out.append((state, minutes, functions))
    return out


def figures(dump):
    """What the exporter must export for `dump` (stuck_after 1m)."""
    stuck = [g for g in dump if g[1] >= 1]
    by_function = collections.Counter(g[2][0] if g[2] else "" for g in stuck)
    return {
        "by_state": dict(collections.Counter(state for state, _, _ in dump)),
        "stuck": len(stuck),
        "blocked_stuck": sum(1 for g in stuck if "main.blockedForever" in g[2]),
        "longest": 60 * max(g[1] for g in dump),
    }


def exported(m):
    return {
        "by_state": {labels["state"]: v for labels, v in m.find(
            "pprof_goroutines_by_state", target="demo")},
        "stuck": m.get("pprof_goroutines_stuck", None, target="demo"),
        "blocked_stuck": m.get("pprof_goroutines_stuck_by_function", None,
                               target="demo", function="main.blockedForever"),
        "longest": m.get("pprof_goroutines_longest_wait_seconds", None, target="demo"),
    }


def test_stuck_goroutines_equal_the_dumps_own_counts():
    demo = h.Demo("-blocked=%d" % BLOCKED, "-gc-every=1s", "-load=false")
    config = h.write_file("dump.yml", """targets:
  - name: demo
    url: %s
    profiles: {goroutine_dump: {interval: 2s, timeout: 2s, stuck_after: 1m}}
""" % demo.pprof_url)
    ex = h.Exporter("--config.file=" + config)
    path = os.path.join(h.tmpdir(), "demo-debug2.txt")

    def dump_with_the_blocked_ones_stuck():
        status, _, body = demo.get("/debug/pprof/goroutine?debug=2")
        h.check_eq(status, 200, "GET goroutine?debug=2")
        text = body.decode("utf-8")
        stuck_blocked = [g for g in goroutines(text)
                         if g[1] >= 1 and "main.blockedForever" in g[2]]
        if len(stuck_blocked) < BLOCKED:
            return None
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return text

    text = h.poll(dump_with_the_blocked_ones_stuck, 150,
                  "the demo's dump to print %d blocked goroutines waiting "
                  ">= 1 minute" % BLOCKED, interval=1)
    dump = goroutines(text)
    m = h.reduce_file(path, "goroutine", "demo", "--stuck-after=1m",
                      "--top=1000")

    h.check_eq(m.one("pprof_goroutines", target="demo"), len(dump),
               "pprof_goroutines vs the dump's goroutine headers")
    states = collections.Counter(state for state, _, _ in dump)
    got_states = {labels["state"]: v
                  for labels, v in m.find("pprof_goroutines_by_state")}
    h.check_eq(got_states, dict(states), "pprof_goroutines_by_state")

    stuck = [g for g in dump if g[1] >= 1]
    h.check_eq(m.one("pprof_goroutines_stuck", target="demo"), len(stuck),
               "pprof_goroutines_stuck vs headers with >= 1 minutes")
    h.check(len(stuck) >= BLOCKED, "fewer stuck goroutines than blocked ones")
    h.check_eq(m.one("pprof_goroutines_stuck_by_function",
                     function="main.blockedForever"), BLOCKED,
               "stuck goroutines in main.blockedForever")
    got_by_function = {labels["function"]: v for labels, v in
                       m.find("pprof_goroutines_stuck_by_function")}
    h.check_eq(sum(got_by_function.values()), len(stuck),
               "stuck_by_function sums to the stuck goroutines")
    h.check_eq(m.one("pprof_goroutines_longest_wait_seconds", target="demo"),
               60 * max(g[1] for g in dump),
               "longest wait vs the dump's largest 'N minutes'")

    # The daemon's series against the demo's dump at the same moment.
    def daemon_agrees():
        before = figures(goroutines(demo.get("/debug/pprof/goroutine?debug=2")[2].decode()))
        got = exported(ex.metrics())
        after = figures(goroutines(demo.get("/debug/pprof/goroutine?debug=2")[2].decode()))
        return before == after and got == before and got

    got = h.poll(daemon_agrees, 30, "the daemon's goroutine_dump series to equal the "
                 "demo's own dump", interval=0.5)
    h.check_eq(got["blocked_stuck"], BLOCKED, "stuck goroutines in main.blockedForever")
    ex.stop()


if __name__ == "__main__":
    h.run_tests([test_stuck_goroutines_equal_the_dumps_own_counts])
