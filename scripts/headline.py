#!/usr/bin/env python3
"""Prints the headline numbers of a pprof_exporter /metrics page (stdin)."""
import re
import sys

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    for line in text.splitlines():
        match = SERIES.match(line)
        if match:
            labels = {k: bytes(v, "utf-8").decode("unicode_escape")
                      for k, v in LABEL.findall(match.group(3) or "")}
            yield match.group(1), labels, float(match.group(4))


def main():
    series = list(parse(sys.stdin.read()))
    def values(name):
        return [(labels, value) for n, labels, value in series if n == name]
    for labels, value in values("pprof_goroutines_per_service"):
        print(f"{labels['target']}: {value:.1f} goroutines per service "
              f"(alert above 10)")
    for labels, value in values("pprof_cpu_gc_ratio"):
        print(f"{labels['target']}: {100 * value:.2f}% of CPU in GC "
              f"(alert above 5%)")
    top = sorted(values("pprof_cpu_flat_ratio"), key=lambda lv: -lv[1])[:5]
    if top:
        print("top CPU functions (flat):")
        for labels, value in top:
            print(f"  {100 * value:6.2f}%  {labels['function']}")
    down = [l for l, v in values("pprof_up") if v == 0]
    for labels in down:
        print(f"DOWN: {labels['target']} {labels['profile']}")


if __name__ == "__main__":
    main()
