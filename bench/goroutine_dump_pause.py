#!/usr/bin/env python3
"""What a goroutine dump costs the process it is taken from.

Starts the Go demo (tests/demo) with -blocked=N goroutines parked a few frames
deep (6,000 is the size of the real tsnsrv) and measures, for each way of
fetching the goroutine profile, the stop-the-world pause the process sees: the
demo's latency probe is a goroutine that asks to wake every millisecond, and
its longest late wake-up during a fetch is the pause (plus scheduler noise,
which the "idle" rows measure with no fetch at all).

    bench/goroutine_dump_pause.py [--blocked=6000,20000] [--reps=30]

Prints a Markdown table for docs/BENCHMARKS.md. Builds the demo with the
system `go` (GOPATH mode) in a temporary directory; kills only the demo it
started.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_SRC = os.path.join(HERE, "..", "tests", "demo", "main.go")

FETCHES = [
    ("idle (no fetch)", None),
    ("goroutine (protobuf, debug=0)", "/debug/pprof/goroutine"),
    ("goroutine?debug=1", "/debug/pprof/goroutine?debug=1"),
    ("goroutine?debug=2", "/debug/pprof/goroutine?debug=2"),
]


def build_demo(work):
    out = os.path.join(work, "demo")
    env = dict(os.environ, HOME=work, GOCACHE=os.path.join(work, "gocache"),
               GO111MODULE="off", CGO_ENABLED="0", GOFLAGS="")
    subprocess.run(["go", "build", "-o", out, DEMO_SRC], check=True, env=env)
    return out


def start_demo(binary, blocked):
    proc = subprocess.Popen(
        [binary, "-listen=127.0.0.1:0", "-services=8", "-blocked=%d" % blocked],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit("demo did not start: %r" % line)
    return proc, "http://" + line.split()[-1]


def post_probe(base):
    req = urllib.request.Request(base + "/demo/probe", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def fetch(base, path):
    start = time.monotonic()
    with urllib.request.urlopen(base + path, timeout=60) as r:
        size = len(r.read())
    return time.monotonic() - start, size


def measure(base, path, reps, idle_seconds):
    stalls, durations, sizes = [], [], []
    for _ in range(reps):
        post_probe(base)  # a new window
        if path is None:
            time.sleep(idle_seconds)
            seconds, size = idle_seconds, 0
        else:
            seconds, size = fetch(base, path)
        # Let the probe wake once more after the fetch, so a pause at its
        # very end is seen.
        time.sleep(0.005)
        stalls.append(post_probe(base)["max_stall_seconds"])
        durations.append(seconds)
        sizes.append(size)
        time.sleep(0.05)
    return stalls, durations, sizes


def ms(x):
    return "%.1f" % (x * 1e3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocked", default="6000,20000",
                    help="comma-separated -blocked values")
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="pprof-dump-bench.") as work:
        binary = build_demo(work)
        print("%s; %d cores; load %s" % (go, os.cpu_count(),
                                         open("/proc/loadavg").read().split()[:3]))
        print()
        print("| goroutines | fetch | body | fetch time p50 / max (ms) "
              "| probe stall p50 / p95 / max (ms) |")
        print("|---|---|---|---|---|")
        for blocked in [int(b) for b in args.blocked.split(",")]:
            proc, base = start_demo(binary, blocked)
            try:
                total = post_probe(base)["goroutines"]
                idle_seconds = 0.05
                for name, path in FETCHES:
                    stalls, durations, sizes = measure(base, path, args.reps,
                                                       idle_seconds)
                    q = statistics.quantiles(stalls, n=20)
                    print("| %d | %s | %s | %s / %s | %s / %s / %s |" % (
                        total, name,
                        "%.0f KiB" % (statistics.median(sizes) / 1024) if path else "-",
                        ms(statistics.median(durations)), ms(max(durations)),
                        ms(statistics.median(stalls)), ms(q[18]), ms(max(stalls))))
                    sys.stdout.flush()
            finally:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
