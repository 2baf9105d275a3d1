#!/usr/bin/env python3
"""--shard=i/n: replicas with the same config split the targets exactly.

Six targets, three static and three from a file_sd file, all pointing at
the Go demo under different names. Two exporters with --shard=0/2 and
--shard=1/2 and the same config must scrape disjoint sets that together
are all six; which target goes where is FNV-1a 64 of its name modulo 2,
computed here independently. A third exporter without --shard scrapes all
six. Bad --shard values are usage errors (exit 2).
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import harness as h  # noqa: E402

STATIC = ["api", "billing", "search"]
DISCOVERED = ["queue", "mail", "tsnsrv"]
ALL = set(STATIC) | set(DISCOVERED)

CONFIG_HEAD = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
file_sd_configs:
  - files: ['targets.json']
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
targets:
"""
STATIC_TARGET = """\
  - name: %s
    url: %s
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""


def fnv1a64(text):
    value = 0xcbf29ce484222325
    for byte in text.encode("utf-8"):
        value ^= byte
        value = (value * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value


def shard_of(name, count):
    return fnv1a64(name) % count


def scraped(m):
    return {d["target"] for d, v in m.find("pprof_up", profile="goroutine") if v == 1}


def test_two_shards_partition_the_targets():
    # The split is fixed by the hash; make sure this set exercises both.
    expected = [{n for n in ALL if shard_of(n, 2) == i} for i in (0, 1)]
    h.check(expected[0] and expected[1], "test names all fall in one shard: %r" % expected)
    h.check(all(expected[i] & set(STATIC) and expected[i] & set(DISCOVERED)
                for i in (0, 1)),
            "want static and discovered targets in both shards: %r" % expected)

    demo = h.Demo()
    h.write_file("targets.json", json.dumps(
        [{"targets": [demo.pprof_url], "labels": {"name": n}} for n in DISCOVERED]))
    config = h.write_file("shard.yml", CONFIG_HEAD + "".join(
        STATIC_TARGET % (n, demo.pprof_url) for n in STATIC))

    shards = [h.Exporter("--config.file=" + config, "--shard=%d/2" % i, name="shard%d" % i)
              for i in (0, 1)]
    whole = h.Exporter("--config.file=" + config, name="unsharded")
    for i, ex in enumerate(shards):
        # The table is complete from the start: no extra target can appear later.
        h.check_eq(ex.metrics().one("pprof_exporter_targets"), len(expected[i]),
                   "pprof_exporter_targets of shard %d/2" % i)
        h.check_eq(ex.metrics().one("pprof_exporter_discovered_targets"), 3,
                   "discovered targets (before sharding) of shard %d/2" % i)
        m = ex.wait_metrics(lambda m, i=i: scraped(m) == expected[i],
                            "shard %d/2 scrapes %s" % (i, sorted(expected[i])))
        h.check_eq({d["target"] for d, _ in m.find("pprof_up")}, expected[i],
                   "every series of shard %d/2 belongs to it" % i)
    h.check_eq(whole.metrics().one("pprof_exporter_targets"), 6, "targets without --shard")
    whole.wait_metrics(lambda m: scraped(m) == ALL, "the unsharded exporter scrapes all six")

    got = [scraped(ex.metrics()) for ex in shards]
    h.check(not (got[0] & got[1]), "shards overlap: %r" % (got[0] & got[1]))
    h.check_eq(got[0] | got[1], ALL, "the union of the shards")


def test_bad_shard_is_a_usage_error():
    for bad in ("2/2", "0/0", "x", "1/", "-1/2"):
        code, _, err = h.run_cli(["--shard=" + bad, "--target=a=http://127.0.0.1:1/",
                                  "--web.listen-address=127.0.0.1:0"], timeout=20)
        h.check_eq(code, 2, "exit code of --shard=%s" % bad)
        h.check(re.search(r"bad --shard=%s" % re.escape(bad), err),
                "--shard=%s: stderr %r" % (bad, err))


if __name__ == "__main__":
    h.run_tests([test_two_shards_partition_the_targets, test_bad_shard_is_a_usage_error])
