#!/usr/bin/env python3
"""The profile archive with the real daemon and the Go demo service.

 * Every fetched profile lands in <dir>/<encoded target>/<kind>/<RFC 3339
   UTC ms>.pb.gz with the target name percent-encoded ("demo/1 x" ->
   demo%2F1%20x), no temporary file stays behind, each file is a profile
   that `pprof_exporter reduce` reads, and pprof_archive_profiles /
   pprof_archive_bytes agree with the directory. A restart (against a dead
   target, so nothing new is written) rebuilds the index from the
   directory: the metrics equal what is on disk.
 * max_bytes: the archive never holds more, and deletes oldest first: what
   is left is always the newest files, across kinds.
 * max_age: files older than it go after each write, and also without any
   write (the demo stopped), by the retention timer.
 * Reload: new limits apply at once; no archive block closes the archive;
   another dir opens that one; a bad archive block keeps the old one.
 * promtool accepts /metrics with the archive families.
 * A file where the archive directory should be (and, when not root, a
   read-only directory): scrapes stay up, pprof_archive_errors_total
   counts the failures, the error is logged once (rate-limited), and
   archiving resumes when the directory is fixed.
"""

import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import h  # noqa: E402

KINDS = ("heap", "goroutine")


def archived(m, target, kind):
    return m.get("pprof_archive_profiles", 0, target=target, profile=kind)


def test_files_atomic_and_restart():
    demo = h.Demo()
    adir = os.path.join(h.tmpdir(), "files")
    name = "demo/1 x"
    cfg = h.write_file("files.yml", common.config(
        demo.pprof_url, common.archive_block(adir), name=name))
    start = time.time()
    e = h.Exporter("--config.file=" + cfg)
    m = e.wait_metrics(
        lambda m: all(archived(m, name, k) >= 3 for k in KINDS),
        "3 archived profiles of each kind", timeout=30)
    for kind in KINDS:
        h.check_eq(m.one("pprof_up", target=name, profile=kind), 1, "pprof_up")
        h.check_eq(m.one("pprof_archive_errors_total", target=name,
                         profile=kind), 0, "pprof_archive_errors_total")
        h.check_eq(m.types.get("pprof_archive_errors_total"), "counter", "TYPE")
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if os.path.exists(promtool):
        p = subprocess.run([promtool, "check", "metrics"], input=e.metrics_text().encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        h.check(p.returncode == 0, "promtool check metrics:\n" + p.stdout.decode())
    e.stop()  # SIGTERM: in-flight scrapes end, writes complete
    end = time.time()

    files = common.archive_files(adir)
    per_kind = {k: {} for k in KINDS}
    for rel, size in files.items():
        parts = rel.split(os.sep)
        h.check(len(parts) == 3 and parts[0] == "demo%2F1%20x" and parts[1] in KINDS,
                "unexpected path in the archive: %r (all: %r)" % (rel, sorted(files)))
        millis = common.file_millis(parts[2])  # also: no temporary files
        h.check(start - 1 <= millis / 1000 <= end + 1,
                "%s is not from this run (%.3f..%.3f)" % (rel, start, end))
        h.check(size > 0, "%s is empty" % rel)
        per_kind[parts[1]][rel] = size
    for kind in KINDS:
        h.check(len(per_kind[kind]) >= 3, "%s files: %r" % (kind, per_kind[kind]))
        newest = max(per_kind[kind])
        with open(os.path.join(adir, newest), "rb") as f:
            h.check(f.read(2) == b"\x1f\x8b", "%s is not gzip (as Go serves it)" % newest)
        out = h.reduce_file(os.path.join(adir, newest), kind, "x")
        h.check(len(out) > 0, "reduce of %s printed nothing" % newest)

    # Restart against a target that refuses connections: nothing new is
    # written, so the metrics must come from the rebuilt index alone.
    sock, port = h.free_port_not_listening()
    try:
        cfg2 = h.write_file("files2.yml", common.config(
            "http://127.0.0.1:%d/" % port, common.archive_block(adir), name=name))
        e2 = h.Exporter("--config.file=" + cfg2, name="restarted")
        m = e2.metrics()
        for kind in KINDS:
            h.check_eq(m.one("pprof_archive_profiles", target=name, profile=kind),
                       len(per_kind[kind]), "%s profiles after restart" % kind)
            h.check_eq(m.one("pprof_archive_bytes", target=name, profile=kind),
                       sum(per_kind[kind].values()), "%s bytes after restart" % kind)
        h.check("msg=\"opened the profile archive\"" in e2.proc.stderr()
                and "profiles=%d " % len(files) in e2.proc.stderr(),
                "start-up log names the rebuilt archive:\n" + e2.proc.stderr())
        # Scrapes fail; the archive is untouched.
        e2.wait_metrics(lambda m: all(
            m.get("pprof_up", None, target=name, profile=k) == 0 for k in KINDS),
            "failed scrapes of the dead target", timeout=20)
        h.check_eq(common.archive_files(adir), files, "archive after restart")
        e2.stop()
    finally:
        sock.close()


def test_retention_max_bytes_oldest_first():
    demo = h.Demo()
    # Room for about three rounds of both kinds.
    sizes = [len(demo.get("/debug/pprof/" + k)[2]) for k in KINDS]
    max_bytes = 3 * sum(sizes)
    adir = os.path.join(h.tmpdir(), "bytes")
    cfg = h.write_file("bytes.yml", common.config(
        demo.pprof_url, common.archive_block(adir, max_bytes=max_bytes)))
    e = h.Exporter("--config.file=" + cfg)
    seen = {}

    def enough():
        for rel in common.archive_files(adir, finished_only=True):
            seen.setdefault(rel, common.file_millis(os.path.basename(rel)))
        m = e.metrics()
        total = common.metric_sum(m, "pprof_archive_bytes")
        h.check(total <= max_bytes, "pprof_archive_bytes %d > max_bytes %d"
                % (total, max_bytes))
        gone = set(seen) - set(common.archive_files(adir, finished_only=True))
        return len(gone) >= 4 and len(seen) >= 10

    h.poll(enough, 60, "retention deleting archived profiles",
           fatal=(h.TestFailure,))
    e.stop()
    present = common.archive_files(adir)
    for rel in present:
        seen.setdefault(rel, common.file_millis(os.path.basename(rel)))
    gone = set(seen) - set(present)
    h.check(sum(present.values()) <= max_bytes, "on disk: %d bytes > %d"
            % (sum(present.values()), max_bytes))
    h.check(present, "retention deleted everything")
    newest_gone = max(seen[r] for r in gone)
    oldest_kept = min(seen[r] for r in present)
    h.check(newest_gone <= oldest_kept,
            "not oldest first: deleted a file from %d but kept one from %d\n"
            "kept: %r\ndeleted: %r" % (newest_gone, oldest_kept,
                                       sorted(present), sorted(gone)))
    h.check({r.split(os.sep)[1] for r in gone} == set(KINDS),
            "retention works across kinds: deleted %r" % sorted(gone))


def test_retention_max_age_on_write_and_timer():
    demo = h.Demo()
    adir = os.path.join(h.tmpdir(), "age")
    cfg = h.write_file("age.yml", common.config(
        demo.pprof_url, common.archive_block(adir, max_age="3s")))
    e = h.Exporter("--config.file=" + cfg)
    seen = set()

    def some_expired():
        present = common.archive_files(adir, finished_only=True)
        seen.update(present)
        return len(seen - set(present)) >= 2 and present

    h.poll(some_expired, 30, "archived profiles older than 3s deleted")
    now_ms = time.time() * 1000
    for rel in common.archive_files(adir, finished_only=True):
        age = now_ms - common.file_millis(os.path.basename(rel))
        # 3 s plus one scrape interval (files go at the next write) and slack.
        h.check(age < 3000 + 1000 + 2000, "%s is %.0f ms old" % (rel, age))

    # No more writes: the timer alone expires the rest.
    demo.stop()

    def all_expired():
        m = e.metrics()
        return (not common.archive_files(adir)
                and common.metric_sum(m, "pprof_archive_profiles") == 0
                and common.metric_sum(m, "pprof_archive_bytes") == 0)

    e.wait_metrics(lambda m: all(m.get("pprof_up", None, target="demo", profile=k) == 0
                                 for k in KINDS), "scrapes failing", timeout=20)
    h.poll(all_expired, 20, "every archived profile expired without writes")


def test_unwritable_archive_keeps_scraping():
    demo = h.Demo()
    blocker = os.path.join(h.tmpdir(), "blocker")
    with open(blocker, "w") as f:
        f.write("a file where the archive directory should be\n")
    cfg = h.write_file("blocked.yml", common.config(
        demo.pprof_url, common.archive_block(blocker)))
    e = h.Exporter("--config.file=" + cfg)
    m = e.wait_metrics(lambda m: all(
        m.get("pprof_archive_errors_total", 0, target="demo", profile=k) >= 3
        for k in KINDS), "archive errors counted", timeout=30)
    for kind in KINDS:
        h.check_eq(m.one("pprof_up", target="demo", profile=kind), 1,
                   "pprof_up with an unwritable archive")
        h.check_eq(common.metric_sum(m, "pprof_scrape_errors_total",
                                     target="demo", profile=kind), 0,
                   "scrape errors")
        h.check_eq(m.one("pprof_archive_profiles", target="demo", profile=kind), 0,
                   "archived profiles")
    log = e.proc.stderr()
    h.check("cannot open the profile archive" in log, log)
    for kind in KINDS:
        lines = [l for l in log.splitlines()
                 if "msg=\"cannot archive a profile\"" in l and "profile=%s " % kind in l]
        h.check_eq(len(lines), 1, "logged %s archive failures (rate-limited)\n%s"
                   % (kind, log))
        h.check("Not a directory" in lines[0], lines[0])

    # Fixed: archiving resumes, the counter keeps its count.
    before = {k: m.one("pprof_archive_errors_total", target="demo", profile=k)
              for k in KINDS}
    os.remove(blocker)
    m = e.wait_metrics(lambda m: all(archived(m, "demo", k) >= 1 for k in KINDS),
                       "archiving after the fix", timeout=20)
    for kind in KINDS:
        h.check(m.one("pprof_archive_errors_total", target="demo", profile=kind)
                >= before[kind], "the error counter went down")
    h.check("msg=\"archiving profiles again\"" in e.proc.stderr(), e.proc.stderr())
    e.stop()

    # A series directory that cannot be made, as root too (a read-only
    # directory would not stop root): a file where <dir>/demo/heap should
    # be. Heap archiving fails; goroutine profiles beside it still archive.
    partial = os.path.join(h.tmpdir(), "partial")
    os.makedirs(os.path.join(partial, "demo"))
    with open(os.path.join(partial, "demo", "heap"), "w") as f:
        f.write("a file where the heap series directory should be\n")
    cfg = h.write_file("partial.yml", common.config(
        demo.pprof_url if demo.proc.alive() else h.Demo().pprof_url,
        common.archive_block(partial)))
    e = h.Exporter("--config.file=" + cfg, name="partial")
    m = e.wait_metrics(lambda m: m.get(
        "pprof_archive_errors_total", 0, target="demo", profile="heap") >= 1
        and archived(m, "demo", "goroutine") >= 1,
        "heap archive errors beside archived goroutine profiles", timeout=30)
    h.check_eq(m.one("pprof_up", target="demo", profile="heap"), 1, "pprof_up")
    h.check_eq(m.one("pprof_archive_profiles", target="demo", profile="heap"), 0,
               "archived heap profiles")
    h.check("Not a directory" in e.proc.stderr(), e.proc.stderr())


def test_reload_changes_the_archive():
    demo = h.Demo()
    first = os.path.join(h.tmpdir(), "reload1")
    second = os.path.join(h.tmpdir(), "reload2")
    cfg = h.write_file("reload.yml", common.config(
        demo.pprof_url, common.archive_block(first)))
    e = h.Exporter("--config.file=" + cfg)
    e.wait_metrics(lambda m: archived(m, "demo", "heap") >= 2, "archived profiles",
                   timeout=30)

    def reload(text):
        h.write_file("reload.yml", text)
        status, _, body = e.post("/-/reload")
        h.check_eq(status, 200, "POST /-/reload: %r" % body)

    # Tighter limits apply at once, to the same directory.
    reload(common.config(demo.pprof_url, common.archive_block(first, max_bytes="1")))
    m = e.metrics()
    h.check_eq(common.metric_sum(m, "pprof_archive_bytes"), 0, "bytes after max_bytes: 1")
    h.check_eq(common.archive_files(first, finished_only=True), {},
               "files after max_bytes: 1")
    # No archive block: no archive, no archive metrics.
    reload(common.config(demo.pprof_url))
    m = e.metrics()
    h.check(not m.find("pprof_archive_profiles"), "archive metrics without an archive")
    # Another directory: opened and written there; the first stays as it is.
    reload(common.config(demo.pprof_url, common.archive_block(second)))
    e.wait_metrics(lambda m: archived(m, "demo", "heap") >= 1, "archived in the new dir",
                   timeout=20)
    h.check(any(r.startswith("demo" + os.sep + "heap" + os.sep)
                for r in common.archive_files(second)), "files in the new directory")
    h.check_eq(common.archive_files(first), {}, "the old directory after the switch")
    # A bad archive block is rejected like any bad config; the archive stays.
    h.write_file("reload.yml", common.config(
        demo.pprof_url, "{dir: %s, max_bytes: 10GB}" % second))
    status, _, body = e.post("/-/reload")
    h.check_eq(status, 500, "reload with max_bytes: 10GB")
    h.check(b"global.archive.max_bytes" in body, body)
    h.check(e.metrics().find("pprof_archive_profiles"), "archive kept after a bad reload")


if __name__ == "__main__":
    h.run_tests([
        test_files_atomic_and_restart,
        test_retention_max_bytes_oldest_first,
        test_retention_max_age_on_write_and_timer,
        test_unwritable_archive_keeps_scraping,
        test_reload_changes_the_archive,
    ])
