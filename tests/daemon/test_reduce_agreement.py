#!/usr/bin/env python3
"""The daemon's series agree with `pprof_exporter reduce` on the same profile.

Against the real Go demo, two ways:

 * test_exact_agreement_through_proxy: the exporter scrapes all six kinds
   through a recording pass-through proxy. For each kind the test picks the
   exact bytes behind the currently published scrape (the last request that
   arrived before pprof_last_success_timestamp_seconds) and runs `reduce` on
   them. Every derived series of the target must then equal reduce's output
   exactly (values compared as floats, no tolerance), and pprof_profile_bytes
   must equal the body length.
 * test_direct_goroutine_by_hand: the exporter scrapes the demo directly; a
   goroutine profile fetched by hand right after a scrape and reduced must
   show the same services (8) and per-service goroutine counts (4 each), and
   the same series names. Total goroutine counts move with HTTP traffic, so
   they are only compared loosely.
 * CPU sanity on the exporter's numbers: gc ratio in [0,1], flat ratios sum
   to at most 1, each cum ratio in [0,1], sampled CPU <= duration x cores.
"""

import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402

DEMO = h.Demo()
PROXY = h.RecordingProxy(DEMO.base)

CONFIG = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: proxied
    url: %(proxy)s
    service_label: service
    labels: {host: test}
    profiles:
      cpu: {interval: 3s, seconds: 1}
      heap: {interval: 1s, timeout: 1s}
      allocs: {interval: 1s, timeout: 1s}
      goroutine: {interval: 1s, timeout: 1s}
      mutex: {interval: 1s, timeout: 1s}
      block: {interval: 1s, timeout: 1s}
  - name: direct
    url: %(demo)s
    service_label: service
    profiles:
      goroutine: {interval: 1s, timeout: 1s}
"""

_exporter = None


def exporter():
    global _exporter
    if _exporter is None:
        path = h.write_file("reduce_agreement.yml", CONFIG % {
            "proxy": PROXY.pprof_url, "demo": DEMO.pprof_url})
        _exporter = h.shared(h.Exporter("--config.file=" + path))
    return _exporter


def all_up(m, target, kinds):
    return all(m.get("pprof_up", target=target, profile=k) == 1 for k in kinds)


def test_exact_agreement_through_proxy():
    ex = exporter()
    # Two goroutine scrapes at least, so the match is not trivially "the
    # only request there was".
    m = ex.wait_metrics(
        lambda m: all_up(m, "proxied", h.KINDS) and PROXY.count("goroutine") >= 2,
        "all six kinds of target proxied up", timeout=20)

    want = {}
    for kind in h.KINDS:  # the exporter's slot order
        last = m.one("pprof_last_success_timestamp_seconds", target="proxied",
                     profile=kind)
        body = PROXY.body_published_at(kind, last)
        h.check_eq(m.one("pprof_profile_bytes", target="proxied", profile=kind),
                   len(body), "pprof_profile_bytes{profile=%s} vs bytes proxied" % kind)
        path = h.write_file("proxied.%s.pb.gz" % kind, "")
        with open(path, "wb") as f:
            f.write(body)
        reduced = h.reduce_file(path, kind, "proxied", "--service-label=service")
        h.check(len(reduced) > 0, "reduce gave no series for %s" % kind)
        # heap and allocs both report the pprof_heap_* totals under the same
        # labels; a target that scrapes heap exports them from heap only.
        for key, value in reduced.samples.items():
            want.setdefault(key, value)

    # Window series need two consecutive profiles, which a single `reduce`
    # cannot see; tests/faults and profile/window_test cover them.
    got = {key: value for key, value in h.derived_series(m, "proxied").items()
           if "_window_" not in key[0]}
    for (name, labels), _ in got.items():
        h.check(dict(labels).get("host") == "test",
                "%s lacks the constant label host=test" % h.format_series((name, labels)))
    got = h.strip_label(got, "host")
    diff = h.diff_samples(got, want)
    h.check(not diff, "exporter series differ from `reduce` of the same bytes:\n" + diff)
    print("  %d derived series equal reduce's exactly" % len(want))

    # The HELP and TYPE of each family are reduce's as well.
    for kind in h.KINDS:
        reduced = h.reduce_file(os.path.join(h.tmpdir(), "proxied.%s.pb.gz" % kind),
                                kind, "proxied", "--service-label=service")
        for family, typ in reduced.types.items():
            h.check_eq(m.types.get(family), typ, "TYPE of " + family)
            h.check_eq(m.help.get(family), reduced.help[family], "HELP of " + family)

    # The demo's fixed shape, through the exporter.
    h.check_eq(m.one("pprof_services", target="proxied"), 8, "pprof_services")
    for i in range(8):
        h.check_eq(m.one("pprof_service_goroutines", target="proxied", service="svc-%d" % i),
                   4, "pprof_service_goroutines{service=svc-%d}" % i)
    goroutines = m.one("pprof_goroutines", target="proxied")
    h.check(math.isclose(m.one("pprof_goroutines_per_service", target="proxied"),
                         goroutines / 8, rel_tol=1e-12),
            "goroutines_per_service != goroutines / services")


def test_direct_goroutine_by_hand():
    ex = exporter()
    ex.wait_metrics(lambda m: m.get("pprof_up", target="direct", profile="goroutine") == 1,
                    "target direct up")
    # Right after the next scrape is published, fetch the same profile by
    # hand and reduce it.
    before = ex.metrics().one("pprof_last_success_timestamp_seconds",
                              target="direct", profile="goroutine")
    m = ex.wait_metrics(
        lambda m: m.one("pprof_last_success_timestamp_seconds", target="direct",
                        profile="goroutine") > before,
        "a new goroutine scrape of target direct", timeout=10)
    status, _, body = DEMO.get("/debug/pprof/goroutine")
    h.check_eq(status, 200, "hand-fetched goroutine profile status")
    path = h.write_file("direct.goroutine.pb.gz", "")
    with open(path, "wb") as f:
        f.write(body)
    by_hand = h.reduce_file(path, "goroutine", "direct", "--service-label=service")
    got = h.derived_series(m, "direct")

    h.check_eq(sorted({n for n, _ in got}), sorted(by_hand.names()), "series names")
    h.check_eq(m.one("pprof_services", target="direct"), 8, "exporter pprof_services")
    h.check_eq(by_hand.one("pprof_services"), 8, "reduce pprof_services")
    per_service = lambda mm: {d["service"]: v for d, v in mm.find("pprof_service_goroutines")
                              if d.get("target") == "direct"}
    want = {"svc-%d" % i: 4 for i in range(8)}
    h.check_eq(per_service(m), want, "exporter pprof_service_goroutines")
    h.check_eq(per_service(by_hand), want, "reduce pprof_service_goroutines")
    # Per-service goroutines are parked for good and match by function too.
    for fn in ("main.(*service).inboxLoop", "main.(*service).idleTimer"):
        h.check_eq(m.get("pprof_goroutines_by_function", target="direct", function=fn), 8.0,
                   "exporter goroutines_by_function{%s}" % fn)
        h.check_eq(by_hand.get("pprof_goroutines_by_function", function=fn), 8.0,
                   "reduce goroutines_by_function{%s}" % fn)
    # The total includes one net/http handler goroutine per request in
    # flight at that moment (the exporter's other scrapes of this demo, a
    # CPU profile among them), so it may differ by a few.
    g_exp = m.one("pprof_goroutines", target="direct")
    g_hand = by_hand.one("pprof_goroutines")
    h.check(abs(g_exp - g_hand) <= 8,
            "pprof_goroutines: exporter %r vs by hand %r" % (g_exp, g_hand))


def test_cpu_sanity():
    ex = exporter()
    m = ex.wait_metrics(lambda m: m.get("pprof_up", target="proxied", profile="cpu") == 1,
                        "cpu of target proxied up", timeout=20)
    cores = os.cpu_count() or 1
    gc = m.one("pprof_cpu_gc_ratio", target="proxied")
    h.check(0 <= gc <= 1, "pprof_cpu_gc_ratio %r not in [0,1]" % gc)
    flat = m.find("pprof_cpu_flat_ratio", target="proxied")
    cum = m.find("pprof_cpu_cum_ratio", target="proxied")
    h.check(flat and cum, "no CPU top lists: flat %r cum %r" % (flat, cum))
    h.check(len(flat) <= 10 and len(cum) <= 10, "more than top=10 functions listed")
    h.check(all(0 <= v <= 1 for _, v in flat + cum), "a ratio outside [0,1]: %r" % (flat + cum))
    total_flat = sum(v for _, v in flat)
    h.check(total_flat <= 1 + 1e-9, "flat ratios sum to %r > 1" % total_flat)
    cum_of = {d["function"]: v for d, v in cum}
    for d, v in flat:
        if d["function"] in cum_of:
            h.check(v <= cum_of[d["function"]] + 1e-12,
                    "flat %r > cum %r for %s" % (v, cum_of[d["function"]], d["function"]))
    duration = m.one("pprof_cpu_duration_seconds", target="proxied")
    h.check(0.9 <= duration <= 5, "pprof_cpu_duration_seconds %r for seconds=1" % duration)
    sampled = m.get("pprof_cpu_sampled_seconds", target="proxied")
    h.check(sampled is not None and 0 < sampled <= duration * cores,
            "pprof_cpu_sampled_seconds %r vs duration %r x %d cores" % (sampled, duration, cores))
    scrape = m.one("pprof_scrape_duration_seconds", target="proxied", profile="cpu")
    h.check(scrape >= 1.0, "CPU scrape of a 1s profile took only %rs" % scrape)
    # Heap totals are consistent with each other.
    inuse = m.one("pprof_heap_inuse_bytes", target="proxied")
    alloc = m.one("pprof_heap_alloc_bytes_total", target="proxied")
    h.check(0 < inuse <= alloc, "heap inuse %r vs alloc %r" % (inuse, alloc))
    for kind in h.KINDS:
        for reason in h.ERROR_REASONS:
            h.check_eq(m.one("pprof_scrape_errors_total", target="proxied", profile=kind,
                             reason=reason), 0,
                       "pprof_scrape_errors_total{profile=%s,reason=%s}" % (kind, reason))


if __name__ == "__main__":
    try:
        h.run_tests([test_exact_agreement_through_proxy, test_direct_goroutine_by_hand,
                     test_cpu_sanity])
    finally:
        PROXY.close()
