#!/usr/bin/env python3
"""file_sd_configs: targets from files, followed without a restart.

One exporter, started once, with a static target and two file_sd_configs
entries whose targets all point at the Go demo (under different names):

 1. sd/a.json lists two targets (one named by its address, one by its
    `name` label): both come up with the entry's defaults (label env,
    service_label) and the group's labels, without __meta labels.
 2. Rewriting the file (atomically, then in place) adds, removes and
    relabels targets within a bounded wait, via inotify alone (the entry's
    refresh_interval is an hour); the static target keeps its state and
    the config is not reloaded.
 3. A broken file keeps its previous targets (still scraped) and bumps
    pprof_exporter_sd_refresh_failures_total; fixing it applies the fix.
 4. A new YAML file matching the glob adds its targets; deleting a file
    removes them.
 5. The second entry watches a directory that does not exist yet: its
    1 s refresh_interval finds the file once it is created.
 6. A discovered target named like the static one is rejected with a
    logged error; the static one stays.
"""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import harness as h  # noqa: E402

CONFIG = """\
global: {scrape_interval: 30s, scrape_timeout: 5s}
targets:
  - name: static
    url: %(demo)s
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
file_sd_configs:
  - files: ['sd/*.json', 'sd/*.yml']   # relative to this file
    refresh_interval: 1h               # only inotify is fast enough here
    labels: {env: test}
    service_label: service
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
  - files: ['%(later)s/*.json']
    refresh_interval: 1s
    profiles: {goroutine: {interval: 1s, timeout: 1s}}
"""

# Bounded waits for a change to show in /metrics: inotify + settling
# (~0.1 s) + the first scrape of a new target (phase < its 1 s interval),
# with lots of room for a loaded 2-core machine.
CHANGE_TIMEOUT = 10.0


def up_targets(m):
    """{target: value of pprof_up{profile=goroutine}}."""
    return {d["target"]: v for d, v in m.find("pprof_up", profile="goroutine")}


def labels_of(m, target):
    """The constant labels of `target`, None if it has no pprof_up (yet)."""
    found = m.find("pprof_up", target=target, profile="goroutine")
    if len(found) != 1:
        return None
    return {k: v for k, v in found[0][0].items() if k not in ("target", "profile")}


def write_json(name, groups):
    return h.write_file(name, json.dumps(groups, indent=1) + "\n")


def write_in_place(path, text):
    with open(path, "w", encoding="utf-8") as f:  # truncate, then write
        f.write(text)


class Setup:
    def __init__(self):
        self.demo = h.Demo()
        self.addr = "%s:%d" % (self.demo.host, self.demo.port)
        os.makedirs(os.path.join(h.tmpdir(), "sd"), exist_ok=True)
        self.later = os.path.join(h.tmpdir(), "later")
        self.config = h.write_file("config.yml", CONFIG % {
            "demo": self.demo.pprof_url, "later": self.later})


def test_discovered_targets_follow_their_files():
    s = Setup()
    a_json = write_json("sd/a.json", [
        {"targets": [s.addr], "labels": {"team": "a", "__meta_dc": "x"}},
        {"targets": [s.demo.pprof_url], "labels": {"name": "second"}},
    ])
    ex = h.Exporter("--config.file=" + s.config)

    # 1. Both discovered targets and the static one come up.
    m = ex.wait_metrics(lambda m: up_targets(m) == {"static": 1, s.addr: 1, "second": 1},
                        "static and both discovered targets up")
    h.check_eq(labels_of(m, s.addr), {"env": "test", "team": "a"}, "labels of %s" % s.addr)
    h.check_eq(labels_of(m, "second"), {"env": "test"}, "labels of second")
    h.check_eq(labels_of(m, "static"), {}, "labels of static")
    # The entry's defaults apply: service_label counts the demo's 8 services.
    m = ex.wait_metrics(lambda m: m.get("pprof_services", target="second") == 8,
                        "second counts services by label")
    h.check_eq(m.one("pprof_exporter_discovered_targets"), 2, "discovered targets")
    h.check_eq(m.one("pprof_exporter_targets"), 3, "targets")
    h.check_eq(m.one("pprof_exporter_sd_refresh_failures_total"), 0, "SD failures")
    reload_ts = m.one("pprof_exporter_config_last_reload_success_timestamp_seconds")
    static_since = m.one("pprof_last_success_timestamp_seconds",
                         target="static", profile="goroutine")

    # 2a. Atomic rewrite: "second" goes, "third" comes, team changes.
    write_json("sd/a.json", [
        {"targets": [s.addr], "labels": {"team": "b"}},
        {"targets": [s.addr], "labels": {"name": "third", "tier": "2"}},
    ])
    m = ex.wait_metrics(
        lambda m: up_targets(m) == {"static": 1, s.addr: 1, "third": 1}
        and labels_of(m, s.addr) == {"env": "test", "team": "b"},
        "second removed, third added, team relabelled", timeout=CHANGE_TIMEOUT)
    h.check_eq(labels_of(m, "third"), {"env": "test", "tier": "2"}, "labels of third")
    h.check(not m.with_label(target="second"), "series of second left behind")
    h.check(not m.find("pprof_up", team="a"), "series with the old label left behind")
    # The static target's slot was kept: its last success did not reset.
    h.check(m.one("pprof_last_success_timestamp_seconds", target="static",
                  profile="goroutine") >= static_since, "static target's state lost")
    ex.proc.wait_output(r'msg="discovered targets changed"')

    # 2b. Rewritten in place (truncate + write, no rename).
    write_in_place(a_json, json.dumps([
        {"targets": [s.addr], "labels": {"team": "b"}},
        {"targets": [s.addr], "labels": {"name": "fourth"}},
    ]))
    m = ex.wait_metrics(lambda m: up_targets(m) == {"static": 1, s.addr: 1, "fourth": 1},
                        "third renamed to fourth by an in-place write",
                        timeout=CHANGE_TIMEOUT)
    h.check_eq(m.one("pprof_exporter_sd_refresh_failures_total"), 0,
               "SD failures after good edits")

    # 3. A broken file keeps the previous targets, still scraped.
    h.write_file("sd/a.json", '[{"targets": ["%s"]' % s.addr)  # cut short
    m = ex.wait_metrics(lambda m: m.one("pprof_exporter_sd_refresh_failures_total") >= 1,
                        "the broken file counted", timeout=CHANGE_TIMEOUT)
    h.check_eq(up_targets(m), {"static": 1, s.addr: 1, "fourth": 1},
               "targets after a broken file")
    h.check_eq(m.one("pprof_exporter_discovered_targets"), 2,
               "discovered targets (kept) after a broken file")
    ex.proc.wait_output(r"level=error msg=\"error reading service discovery file; "
                        r"keeping its previous targets\" file=%s" % re.escape(a_json))
    last = m.one("pprof_last_success_timestamp_seconds", target="fourth", profile="goroutine")
    m = ex.wait_metrics(lambda m: m.get("pprof_last_success_timestamp_seconds", target="fourth",
                                        profile="goroutine", default=0) > last,
                        "a kept target still scraped")
    # Read now, not when the first failure showed: one write can raise more
    # than one change notice, and each read of the broken file counts.
    failures = m.one("pprof_exporter_sd_refresh_failures_total")

    # ... and fixing it applies the fix.
    write_json("sd/a.json", [{"targets": [s.addr], "labels": {"team": "c"}}])
    m = ex.wait_metrics(
        lambda m: up_targets(m) == {"static": 1, s.addr: 1}
        and labels_of(m, s.addr) == {"env": "test", "team": "c"},
        "the fixed file applied", timeout=CHANGE_TIMEOUT)
    h.check_eq(m.one("pprof_exporter_sd_refresh_failures_total"), failures,
               "SD failures after the fix")
    ex.proc.wait_output(r'msg="service discovery file fixed" file=%s' % re.escape(a_json))

    # 4. A new YAML file matching the glob; then a.json deleted.
    h.write_file("sd/b.yml", "- targets: ['%s']\n  labels: {name: yaml-one}\n" % s.addr)
    ex.wait_metrics(lambda m: up_targets(m) == {"static": 1, s.addr: 1, "yaml-one": 1},
                    "the target of a new YAML file", timeout=CHANGE_TIMEOUT)
    os.unlink(a_json)
    m = ex.wait_metrics(lambda m: up_targets(m) == {"static": 1, "yaml-one": 1},
                        "the targets of a deleted file gone", timeout=CHANGE_TIMEOUT)
    h.check(not m.with_label(target=s.addr), "series of a deleted file's target left behind")
    h.check_eq(m.one("pprof_exporter_discovered_targets"), 1, "discovered targets")

    # 5. A directory created after start: found by the 1 s refresh.
    os.makedirs(s.later)
    h.write_file("later/late.json", json.dumps(
        [{"targets": [s.addr], "labels": {"name": "late"}}]))
    ex.wait_metrics(lambda m: up_targets(m) == {"static": 1, "yaml-one": 1, "late": 1},
                    "the target of a directory created later", timeout=CHANGE_TIMEOUT)

    # 6. A discovered name that is already taken: rejected, logged.
    h.write_file("sd/b.yml", "- targets: ['127.0.0.1:1']\n  labels: {name: static}\n"
                 "- targets: ['%s']\n  labels: {name: yaml-one}\n" % s.addr)
    ex.proc.wait_output(r'level=error msg="discovered target rejected: its name is '
                        r'already used" target=static source=%s:1'
                        % re.escape(os.path.join(h.tmpdir(), "sd/b.yml")),
                        timeout=CHANGE_TIMEOUT)
    m = ex.metrics()
    h.check_eq(up_targets(m), {"static": 1, "yaml-one": 1, "late": 1},
               "targets after a duplicate name")
    h.check_eq(m.one("pprof_exporter_targets"), 3, "targets after a duplicate name")

    # All of it without a restart or a config reload.
    h.check(ex.proc.alive(), "exporter died")
    h.check_eq(m.one("pprof_exporter_config_last_reload_success_timestamp_seconds"),
               reload_ts, "config reload timestamp")
    h.check("error loading config" not in ex.proc.stderr(), "a config error was logged")


def test_config_with_only_file_sd_starts_without_targets():
    # No static target and no file yet: the exporter starts, serves, and
    # picks up the file when it appears.
    sd_dir = os.path.join(h.tmpdir(), "empty-sd")
    os.makedirs(sd_dir, exist_ok=True)
    config = h.write_file("only_sd.yml", "file_sd_configs:\n  - files: ['%s/*.json']\n"
                          "    profiles: {goroutine: {interval: 1s, timeout: 1s}}\n" % sd_dir)
    ex = h.Exporter("--config.file=" + config)
    m = ex.metrics()
    h.check_eq(m.one("pprof_exporter_targets"), 0, "targets without files")
    h.check_eq(m.one("pprof_exporter_discovered_targets"), 0, "discovered without files")
    status, _, _ = ex.get("/-/ready")
    h.check_eq(status, 200, "/-/ready without targets")
    demo = h.Demo()
    h.write_file("empty-sd/t.json", json.dumps(
        [{"targets": ["%s:%d" % (demo.host, demo.port)], "labels": {"name": "t"}}]))
    ex.wait_metrics(lambda m: up_targets(m) == {"t": 1}, "the first discovered target",
                    timeout=CHANGE_TIMEOUT)


if __name__ == "__main__":
    h.run_tests([test_discovered_targets_follow_their_files,
                 test_config_with_only_file_sd_starts_without_targets])
