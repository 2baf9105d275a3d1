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
equal counts taken from the dump's own goroutine headers. The daemon does
not scrape goroutine_dump yet; `reduce` is the code path it will call.
"""

import collections
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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


def test_stuck_goroutines_equal_the_dumps_own_counts():
    demo = h.Demo("-blocked=%d" % BLOCKED, "-gc-every=1s", "-load=false")
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


if __name__ == "__main__":
    h.run_tests([test_stuck_goroutines_equal_the_dumps_own_counts])
