#!/usr/bin/env python3
"""Re-serving scraped profiles in pprof's protocol, checked with the real
`go tool pprof` against the real daemon and the Go demo service.

 * --web.enable-pprof-reserve: `go tool pprof -top` (and -raw) of
   /debug/pprof/demo/heap shows a heap profile, whose bytes are exactly an
   archived file's; /debug/pprof/demo/cpu answers at once with the latest
   scraped 1-second CPU profile (go tool pprof adds no ?seconds= to a URL
   that is not the default /debug/pprof/profile, so nothing waits);
   `go tool pprof -top -base OLDER NEWER` compares two archived profiles
   without touching the target; the archive list is newest first; unknown
   targets, kinds, never-scraped slots and names outside the index (path
   traversal attempts) are 404; the landing page links to all of it.
 * Without the flag every /debug/pprof/ path is 404 (the archive is still
   written).
 * With basic_auth_users in --web.config.file, every re-serve path needs
   the password (401 and WWW-Authenticate otherwise); go tool pprof gets
   the profile with user:password@ in the URL. The target name "a/b" is
   a%2Fb in URLs.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import h  # noqa: E402


def two_targets_config(demo_url, dead_port, adir):
    return (
        "global:\n  scrape_interval: 10s\n  scrape_timeout: 1s\n"
        "  archive: %s\n"
        "targets:\n"
        "  - name: demo\n    url: %s\n    profiles:\n"
        "      heap: {interval: 1s}\n"
        "      cpu: {interval: 5s, seconds: 1}\n"
        "  - name: dead\n    url: http://127.0.0.1:%d/\n"
        "    profiles: {heap: {interval: 1s}}\n"
        % (common.archive_block(adir), demo_url, dead_port))


def header(headers, name):
    return headers.get(name) if headers is not None else None


def check_pprof(rc, out, err, what, want_type):
    h.check(rc == 0, "%s: exit %d\nstdout:\n%s\nstderr:\n%s" % (what, rc, out, err))
    h.check("Type: %s" % want_type in out, "%s: no 'Type: %s' in\n%s\n%s"
            % (what, want_type, out, err))
    h.check(re.search(r"^\s*flat\s+flat%\s+sum%\s+cum\s+cum%", out, re.M),
            "%s: no -top table in\n%s" % (what, out))


def test_go_tool_pprof_latest_and_archive():
    h.require_tool("go", "golang-go")
    demo = h.Demo()
    sock, dead_port = h.free_port_not_listening()
    adir = os.path.join(h.tmpdir(), "reserve")
    cfg = h.write_file("reserve.yml", two_targets_config(demo.pprof_url, dead_port, adir))
    e = h.Exporter("--config.file=" + cfg, "--web.enable-pprof-reserve")
    e.wait_metrics(lambda m: m.get("pprof_archive_profiles", 0, target="demo",
                                   profile="heap") >= 2
                   and m.get("pprof_up", 0, target="demo", profile="cpu") == 1,
                   "2 archived heap profiles and a CPU profile", timeout=40)

    # The latest heap profile: exactly the bytes the target served (which
    # were archived before they became the latest).
    status, headers, body = e.get("/debug/pprof/demo/heap")
    h.check_eq(status, 200, "GET latest heap")
    h.check_eq(header(headers, "Content-Type"), "application/octet-stream", "Content-Type")
    h.check_eq(header(headers, "Content-Disposition"),
               'attachment; filename="heap.pb.gz"', "Content-Disposition")
    on_disk = []
    for rel in common.archive_files(os.path.join(adir, "demo", "heap"),
                                    finished_only=True):
        with open(os.path.join(adir, "demo", "heap", rel), "rb") as f:
            on_disk.append(f.read())
    h.check(body in on_disk, "the latest heap profile is not byte-identical to "
            "any archived file (%d bytes, %d files)" % (len(body), len(on_disk)))

    url = e.base + "/debug/pprof/demo/heap"
    rc, out, err, _ = common.go_pprof("-top", url)
    check_pprof(rc, out, err, "go tool pprof -top " + url, "inuse_space")
    h.check("Fetching profile over HTTP from " + url in err, err)
    rc, out, err, _ = common.go_pprof("-raw", url)
    h.check(rc == 0 and "PeriodType: space bytes" in out and "Samples:" in out,
            "go tool pprof -raw: exit %d\n%s\n%s" % (rc, out[:2000], err))

    # CPU: the latest scraped profile, at once; its 1 s window shows it is
    # the exporter's, not a fresh 30 s one.
    url = e.base + "/debug/pprof/demo/cpu"
    rc, out, err, seconds = common.go_pprof("-top", url)
    check_pprof(rc, out, err, "go tool pprof -top " + url, "cpu")
    h.check(re.search(r"Duration: 1(\.\d+)?s", out), "CPU window in\n" + out)
    h.check(seconds < 30, "go tool pprof took %.1fs for a re-served CPU profile"
            % seconds)
    h.check("Please wait" not in err, err)

    # The archive: newest first; compare two archived profiles.
    status, headers, body = e.get("/debug/pprof/demo/heap/archive")
    h.check_eq(status, 200, "GET archive list")
    links = [l for l in common.hrefs(body.decode())
             if l.startswith("/debug/pprof/demo/heap/archive/")]
    h.check(len(links) >= 2, "archive list links: %r" % links)
    names = [l.rsplit("/", 1)[1] for l in links]
    millis = [common.file_millis(n) for n in names]
    h.check(millis == sorted(millis, reverse=True), "not newest first: %r" % names)
    h.check(set(names) <= set(os.listdir(os.path.join(adir, "demo", "heap"))),
            "listed names not on disk: %r" % names)
    newer, older = e.base + links[0], e.base + links[-1]
    status, headers, body = e.get(links[-1])
    h.check_eq(status, 200, "GET archived file")
    with open(os.path.join(adir, "demo", "heap", names[-1]), "rb") as f:
        h.check(body == f.read(), "archived file served differs from disk")
    h.check_eq(header(headers, "Content-Disposition"),
               'attachment; filename="heap-%s"' % names[-1], "Content-Disposition")
    rc, out, err, _ = common.go_pprof("-top", "-base", older, newer)
    check_pprof(rc, out, err, "go tool pprof -top -base OLDER NEWER", "inuse_space")
    h.check(older in err and newer in err, "both URLs fetched:\n" + err)

    # 404s: never scraped, unknown target or kind, outside the index.
    for path in ["/debug/pprof/dead/heap", "/debug/pprof/dead/heap/archive",
                 "/debug/pprof/nosuch/heap", "/debug/pprof/demo/goroutine",
                 "/debug/pprof/demo/nokind", "/debug/pprof/demo",
                 "/debug/pprof/demo/heap/archive/2000-01-01T00:00:00.000Z.pb.gz",
                 "/debug/pprof/demo/heap/archive/..%2F..%2F..%2Fetc%2Fpasswd",
                 "/debug/pprof/demo/heap/archive/%2E%2E%2Fcpu%2F" + names[0],
                 "/debug/pprof/%2E%2E/heap/archive/" + names[0],
                 "/debug/pprof/demo/heap/archive/../../../../etc/passwd",
                 "/debug/pprof/demo/heap/archive/" + names[0] + "/x"]:
        status, _, body = e.get(path)
        h.check_eq(status, 404, "GET %s (%r)" % (path, body[:200]))

    # The landing page links to both.
    status, _, body = e.get("/")
    page = body.decode()
    for link in ("/debug/pprof/demo/heap", "/debug/pprof/demo/heap/archive",
                 "/debug/pprof/demo/cpu"):
        h.check('href="%s"' % link in page, "landing page lacks %s:\n%s" % (link, page))
    sock.close()


def test_reserve_off_is_404():
    demo = h.Demo()
    adir = os.path.join(h.tmpdir(), "off")
    cfg = h.write_file("off.yml", common.config(
        demo.pprof_url, common.archive_block(adir), kinds={"heap": "{interval: 1s}"}))
    e = h.Exporter("--config.file=" + cfg)
    e.wait_metrics(lambda m: m.get("pprof_archive_profiles", 0, target="demo",
                                   profile="heap") >= 1, "an archived profile",
                   timeout=30)
    name = sorted(os.listdir(os.path.join(adir, "demo", "heap")))[0]
    for path in ["/debug/pprof/demo/heap", "/debug/pprof/demo/heap/archive",
                 "/debug/pprof/demo/heap/archive/" + name]:
        status, _, _ = e.get(path)
        h.check_eq(status, 404, "GET %s without --web.enable-pprof-reserve" % path)
    status, _, body = e.get("/")
    h.check("/debug/pprof/demo" not in body.decode(), "landing page links "
            "re-served profiles although re-serving is off")


def test_reserve_behind_basic_auth():
    demo = h.Demo()
    password = "re-serve-pass-7Qw"
    web = h.write_file("web.yml", "basic_auth_users:\n  alice: '%s'\n"
                       % common.bcrypt_hash(password))
    adir = os.path.join(h.tmpdir(), "auth")
    cfg = h.write_file("auth.yml", common.config(
        demo.pprof_url, common.archive_block(adir), name="a/b",
        kinds={"heap": "{interval: 1s}"}))
    e = h.Exporter("--config.file=" + cfg, "--web.config.file=" + web,
                   "--web.enable-pprof-reserve")
    good = common.basic("alice", password)

    def archived_twice():
        status, _, body = h.http_request("GET", e.base + "/metrics", headers=good)
        h.check_eq(status, 200, "GET /metrics with the password")
        m = h.parse_metrics(body.decode())
        return m.get("pprof_archive_profiles", 0, target="a/b", profile="heap") >= 2

    h.poll(archived_twice, 30, "2 archived profiles", fatal=(h.TestFailure,))
    status, _, body = h.http_request(
        "GET", e.base + "/debug/pprof/a%2Fb/heap/archive", headers=good)
    h.check_eq(status, 200, "archive list with the password")
    link = [l for l in common.hrefs(body.decode())
            if l.startswith("/debug/pprof/a%2Fb/heap/archive/")][0]
    paths = ["/debug/pprof/a%2Fb/heap", "/debug/pprof/a%2Fb/heap/archive", link,
             "/debug/pprof/nosuch/heap"]
    for path in paths:
        for headers, what in ((None, "no credentials"),
                              (common.basic("alice", "wrong"), "a wrong password"),
                              (common.basic("mallory", password), "an unknown user")):
            status, resp_headers, body = h.http_request("GET", e.base + path,
                                                        headers=headers)
            h.check_eq(status, 401, "GET %s with %s" % (path, what))
            h.check_eq(header(resp_headers, "WWW-Authenticate"), "Basic",
                       "WWW-Authenticate")
            h.check(b"\x1f\x8b" not in body, "profile bytes in a 401 answer")
        status, _, _ = h.http_request("GET", e.base + path, headers=good)
        h.check_eq(status, 404 if "nosuch" in path else 200,
                   "GET %s with the password" % path)

    h.require_tool("go", "golang-go")
    url = "http://alice:%s@127.0.0.1:%d/debug/pprof/a%%2Fb/heap" % (password, e.port)
    rc, out, err, _ = common.go_pprof("-top", url)
    check_pprof(rc, out, err, "go tool pprof -top with credentials", "inuse_space")
    rc, out, err, _ = common.go_pprof(
        "-top", "http://127.0.0.1:%d/debug/pprof/a%%2Fb/heap" % e.port)
    h.check(rc != 0 and "401" in err,
            "go tool pprof without credentials: exit %d\n%s\n%s" % (rc, out, err))


if __name__ == "__main__":
    h.run_tests([
        test_go_tool_pprof_latest_and_archive,
        test_reserve_off_is_404,
        test_reserve_behind_basic_auth,
    ])
