#!/usr/bin/env python3
"""Start-up errors of the daemon: exit codes and messages.

 * Usage errors exit 2 with the problem and the usage text on stderr:
   unknown flag, stray positional argument, value-less flag given a value,
   --log.level=bogus, a telemetry path that is not an absolute path.
 * Configuration errors exit 1 with "FILE:LINE:" on stderr: a bad duration, an
   unknown key, a cpu window not shorter than its interval, YAML syntax; also
   a missing file, a file without targets, a bad --target flag and a port
   that is already taken.
 * --version prints "pprof_exporter VERSION" and exits 0; --help prints the
   usage on stdout and exits 0.
No daemon here gets as far as scraping; each run must end by itself.
"""

import os
import re
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as h  # noqa: E402


def expect(args, code, stderr_pattern, stdout_pattern=None):
    got_code, out, err = h.run_cli(args, timeout=20)
    h.check(got_code == code,
            "%s: exit %d, want %d\nstdout: %s\nstderr: %s" % (args, got_code, code, out, err))
    h.check(re.search(stderr_pattern, err),
            "%s: stderr does not match /%s/:\n%s" % (args, stderr_pattern, err))
    if stdout_pattern is not None:
        h.check(re.search(stdout_pattern, out),
                "%s: stdout does not match /%s/:\n%s" % (args, stdout_pattern, out))
    return out, err


LISTEN = "--web.listen-address=127.0.0.1:0"


def test_usage_errors_exit_2():
    expect(["--no-such-flag"], 2, r"unknown flag --no-such-flag[\s\S]*usage: pprof_exporter")
    expect(["--web.listen-address=127.0.0.1:0", "stray"], 2, r'unexpected argument "stray"')
    expect(["--version=yes"], 2, r"--version takes no value")
    expect(["--log.level=bogus", LISTEN], 2, r"bad --log.level=bogus")
    expect(["--web.telemetry-path=metrics", LISTEN], 2, r"--web.telemetry-path must start")
    expect(["--web.listen-address=127.0.0.1:0", "--web.listen-address=127.0.0.1:0"], 2,
           r"given more than once")


def test_version_and_help():
    expect(["--version"], 0, r"^$", r"^pprof_exporter \d+\.\d+\.\d+\S*\n$")
    expect(["--help"], 0, r"^$", r"usage: pprof_exporter")


# (name, config text, line the error must name, message pattern)
BAD_CONFIGS = [
    ("duration", "targets:\n  - name: a\n    url: http://127.0.0.1:1/\n"
     "    profiles:\n      heap: {interval: 6O s}\n", 5, r"interval.*bad duration"),
    ("unknown_key", "global: {scrape_interval: 30s}\ntargets:\n  - name: a\n"
     "    url: http://127.0.0.1:1/\n    colour: blue\n", 5, r"colour"),
    ("cpu_window", "targets:\n  - name: a\n    url: http://127.0.0.1:1/\n"
     "    profiles:\n      cpu: {interval: 10s, seconds: 10}\n", 5,
     r"cpu seconds \(10\) must be less than interval"),
    ("yaml_syntax", "targets:\n  - name: a\n    url: [http://127.0.0.1:1/\n", 4,
     r"YAML syntax error"),
]


def test_bad_config_exit_1_with_file_and_line():
    for name, text, line, pattern in BAD_CONFIGS:
        path = h.write_file("bad_%s.yml" % name, text)
        expect(["--config.file=" + path, LISTEN], 1,
               r"%s:%d: .*%s" % (re.escape(path), line, pattern))


def test_other_start_up_failures_exit_1():
    missing = os.path.join(h.tmpdir(), "does-not-exist.yml")
    expect(["--config.file=" + missing, LISTEN], 1, re.escape(missing))
    empty = h.write_file("no_targets.yml", "global: {scrape_interval: 30s}\n")
    expect(["--config.file=" + empty, LISTEN], 1, r"no targets configured")
    expect(["--target=nourl", LISTEN], 1, r"--target=nourl: expected NAME=URL")
    expect(["--target=a=ftp://x/", LISTEN], 1, r"must start with http")
    expect(["--target=a=http://127.0.0.1:1/", "--target=a=http://127.0.0.1:2/", LISTEN], 1,
           r'target name \\?"a\\?" is already used')
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        expect(["--target=a=http://127.0.0.1:1/", "--web.listen-address=127.0.0.1:%d" % port],
               1, r"cannot listen")
    finally:
        taken.close()


if __name__ == "__main__":
    h.run_tests([test_usage_errors_exit_2, test_version_and_help,
                 test_bad_config_exit_1_with_file_and_line, test_other_start_up_failures_exit_1])
