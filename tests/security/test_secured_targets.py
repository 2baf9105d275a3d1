#!/usr/bin/env python3
"""Scraping secured pprof targets: HTTPS with basic auth, bearer tokens and
client certificates, against Python's http.server wrapped in ssl serving
tests/testdata/goroutine.pb.gz. Certificates are made at test time (pki.py).

One exporter scrapes these targets (goroutine only, every second):

  target          server             settings                        want
  basic_ok        auth (CA)          basic_auth + password_file      up
  basic_wrong     auth               wrong inline password           http_status
  bearer_ok       auth               authorization credentials_file  up
  bearer_rotated  auth               token file stale, then fixed    http_status, then up
  mtls_ok         mtls (needs cert)  cert_file/key_file, TLS13 min   up
  mtls_no_cert    mtls               no client certificate           connect
  unknown_ca      auth               ca_file of another CA           connect
  system_cas      auth               no ca_file (system CAs)         connect
  insecure        auth               insecure_skip_verify            up
  server_name     named (pprof.test) server_name: pprof.test         up
  wrong_name      named              no server_name (127.0.0.1)      connect

The "auth" server answers a bad Authorization with a 401 whose body echoes
the header it got, as a careless or hostile target might. Then no secret
(passwords, tokens, their base64 forms) may appear in the exporter's log
(at debug level), its landing page or /metrics.
"""

import base64
import http.server
import os
import ssl
import sys
import threading

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "lib"))
import harness as h  # noqa: E402
import pki  # noqa: E402

PASSWORD = "pw-Qm3v-SECRET"
WRONG_PASSWORD = "wrongpw-8Jd2-SECRET"
TOKEN = "tok-Zr7w-SECRET"
STALE_TOKEN = "stale-Lp4x-SECRET"


def testdata(name):
    for base in (os.environ.get("TEST_SRCDIR") and
                 os.path.join(os.environ["TEST_SRCDIR"],
                              os.environ.get("TEST_WORKSPACE", h.WORKSPACE)),
                 os.path.dirname(os.path.dirname(_HERE))):
        if base and os.path.exists(os.path.join(base, "tests/testdata", name)):
            return os.path.join(base, "tests/testdata", name)
    raise h.TestFailure("cannot find tests/testdata/" + name)


class PprofTarget:
    """An HTTPS net/http/pprof stand-in serving one goroutine profile.

    `client_ca`: require a client certificate signed by it. `basic` (user,
    password) or `bearer` (token): what /basic/... or /bearer/... require.
    """

    def __init__(self, cert, key, client_ca=None, basic=None, bearers=()):
        with open(testdata("goroutine.pb.gz"), "rb") as f:
            profile = f.read()
        self.seen = []  # (path, Authorization) of every request
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                got = self.headers.get("Authorization", "")
                target.seen.append((self.path, got))
                mode = self.path.strip("/").split("/", 1)[0]
                ok = True
                if mode == "basic":
                    want = "Basic " + base64.b64encode(
                        ("%s:%s" % basic).encode()).decode()
                    ok = got == want
                elif mode == "bearer":
                    ok = got in ["Bearer " + b for b in bearers]
                if not self.path.endswith("/debug/pprof/goroutine"):
                    self.answer(404, b"404 page not found\n")
                elif not ok:
                    # Echo what came in, as a careless target might.
                    self.answer(401, ("unauthorized: got %r" % got).encode())
                else:
                    self.answer(200, profile, "application/octet-stream")

            def answer(self, status, body, ctype="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)

        class TlsServer(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # refused handshakes are the point of some tests

        self.server = TlsServer(("127.0.0.1", 0), Handler)
        # The handshake happens in each connection's own thread, on first
        # read, so a failing client cannot stall the accept loop.
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                             do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         name="pprof-tls-%d" % self.port).start()

    def url(self, mode=""):
        return "https://127.0.0.1:%d/%sdebug/pprof/" % (self.port,
                                                          mode + "/" if mode else "")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_secured_targets_and_no_leaks():
    d = os.path.join(h.tmpdir(), "targets-pki")
    ca = pki.Pki(d, "ca")
    other = pki.Pki(os.path.join(h.tmpdir(), "other-pki"), "other-ca")
    server_cert = ca.issue("pprof-server", ["IP:127.0.0.1", "DNS:localhost"])
    named_cert = ca.issue("named-server", ["DNS:pprof.test"])
    client_cert, client_key = ca.issue("scraper", ["DNS:scraper"], usage="clientAuth")

    auth = PprofTarget(*server_cert, basic=("alice", PASSWORD), bearers=[TOKEN])
    mtls = PprofTarget(*server_cert, client_ca=ca.ca_cert)
    named = PprofTarget(*named_cert)
    try:
        run_scrapes(d, ca, other, client_cert, client_key, auth, mtls, named)
    finally:
        for s in (auth, mtls, named):
            s.close()


def run_scrapes(d, ca, other, client_cert, client_key, auth, mtls, named):
    def secret_file(name, text):
        path = os.path.join(d, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    secret_file("password", PASSWORD + "\n")
    secret_file("token", TOKEN + "\n")
    rotated = secret_file("rotated-token", STALE_TOKEN + "\n")

    def target(name, url, extra):
        return ("- name: %s\n  url: %s\n  profiles: {goroutine: {interval: 1s, "
                "timeout: 1s}}\n%s" % (name, url, extra))

    ca_tls = "  tls_config: {ca_file: ca.crt}\n"
    # Relative paths: relative to the config file, which lives in `d`.
    config = "targets:\n" + "".join([
        target("basic_ok", auth.url("basic"),
               "  basic_auth: {username: alice, password_file: password}\n" + ca_tls),
        target("basic_wrong", auth.url("basic"),
               "  basic_auth: {username: alice, password: %s}\n" % WRONG_PASSWORD + ca_tls),
        target("bearer_ok", auth.url("bearer"),
               "  authorization: {type: Bearer, credentials_file: token}\n" + ca_tls),
        target("bearer_rotated", auth.url("bearer"),
               "  authorization: {credentials_file: rotated-token}\n" + ca_tls),
        target("mtls_ok", mtls.url(),
               "  tls_config: {ca_file: ca.crt, cert_file: %s, key_file: %s,\n"
               "               min_version: TLS13}\n"
               % (client_cert, client_key)),
        target("mtls_no_cert", mtls.url(), ca_tls),
        target("unknown_ca", auth.url("basic"),
               "  basic_auth: {username: alice, password_file: password}\n"
               "  tls_config: {ca_file: %s}\n" % other.ca_cert),
        target("system_cas", auth.url("basic"),
               "  basic_auth: {username: alice, password_file: password}\n"),
        target("insecure", auth.url("basic"),
               "  basic_auth: {username: alice, password_file: password}\n"
               "  tls_config: {insecure_skip_verify: true}\n"),
        target("server_name", named.url(),
               "  tls_config: {ca_file: ca.crt, server_name: pprof.test}\n"),
        target("wrong_name", named.url(), ca_tls),
    ])
    config_path = os.path.join(d, "config.yml")
    with open(config_path, "w", encoding="utf-8") as f:
        f.write(config)

    e = h.Exporter("--config.file=" + config_path, "--log.level=debug")
    want = {
        "basic_ok": None, "bearer_ok": None, "mtls_ok": None, "insecure": None,
        "server_name": None,
        "basic_wrong": "http_status", "bearer_rotated": "http_status",
        "mtls_no_cert": "connect", "unknown_ca": "connect",
        "system_cas": "connect", "wrong_name": "connect",
    }

    def state(m, name):
        up = m.get("pprof_up", target=name, profile="goroutine")
        if up is None:
            return "pending"
        if up == 1:
            return None
        reasons = [labels["reason"] for labels, v in
                   m.find("pprof_scrape_errors_total", target=name, profile="goroutine")
                   if v > 0]
        return ",".join(sorted(reasons)) or "down without errors"

    def all_as_wanted(m):
        return all(state(m, n) == w for n, w in want.items())

    try:
        m = e.wait_metrics(all_as_wanted, "every target up or failing as wanted",
                           timeout=30)
    except h.TestFailure:
        m = e.metrics()
        raise h.TestFailure("targets not as wanted:\n%s" % "\n".join(
            "  %-15s got %-22s want %s" % (n, state(m, n), w) for n, w in want.items()))

    # The goroutine profile's numbers arrived through TLS and auth.
    h.check(m.get("pprof_goroutines", target="basic_ok") is not None,
            "no pprof_goroutines for basic_ok")
    # The right credentials were sent, and only to their own target.
    h.check(any(a.startswith("Bearer %s" % TOKEN) for _, a in auth.seen),
            "bearer token never arrived")
    h.check(not any(a for p, a in mtls.seen), "credentials sent to a target without auth")

    # A rotated token file is read by the next scrape; no reload needed.
    secret_file("rotated-token", TOKEN + "\n")
    e.wait_metrics(lambda m: m.get("pprof_up", target="bearer_rotated",
                                   profile="goroutine") == 1,
                   "bearer_rotated up after the token file changed", timeout=15)

    # The failures explain themselves, without secrets.
    page = e.get("/")[2].decode("utf-8", "replace")
    for name, words in [("basic_wrong", "HTTP 401"), ("unknown_ca", "TLS"),
                        ("wrong_name", "not valid for 127.0.0.1"),
                        ("mtls_no_cert", "https://127.0.0.1:%d" % mtls.port)]:
        errors = [line for line in e.proc.stderr().splitlines()
                  if "target=%s " % name in line and "level=warn" in line]
        h.check(errors and words in errors[0],
                "log for %s lacks %r: %r" % (name, words, errors))
    h.check("&lt;secret&gt;" in page or "<secret>" in page,
            "the echoed credentials were not redacted on the landing page")

    check_no_secrets(e, page, [PASSWORD, WRONG_PASSWORD, TOKEN, STALE_TOKEN])


def check_no_secrets(e, page, secrets):
    forms = []
    for s in secrets:
        forms.append(s)
        for user in ("alice",):
            forms.append(base64.b64encode(("%s:%s" % (user, s)).encode()).decode())
    texts = {
        "log (stderr)": e.proc.stderr(),
        "stdout": e.proc.stdout(),
        "landing page": page,
        "/metrics": e.metrics_text(),
    }
    for where, text in texts.items():
        for form in forms:
            h.check(form not in text, "secret %r found in the %s" % (form, where))


if __name__ == "__main__":
    h.run_tests([test_secured_targets_and_no_leaks])
