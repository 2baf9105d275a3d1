#!/usr/bin/env python3
"""The exporter's own endpoints behind --web.config.file, checked with real
TLS clients (curl and `openssl s_client`) against the real daemon.

Certificates are made at test time with the openssl CLI (pki.py): a CA, a
server certificate for 127.0.0.1, a client certificate from the same CA
and one from a stranger CA.

 * TLS: curl with the CA gets /metrics; without it curl refuses the
   certificate; s_client verifies it; plain HTTP to the TLS port gets no
   answer (and the exporter keeps serving). The web config lives in another
   directory than the exporter's working directory and names its files
   relative to itself.
 * min_version TLS13: `curl --tls-max 1.2` and `s_client -tls1_2` fail,
   TLS 1.3 works.
 * max_version TLS12: `s_client -tls1_3` and `curl --tlsv1.3` fail, TLS 1.2
   works.
 * client_auth_type RequireAndVerifyClientCert: no certificate or one from
   another CA fails; the CA's client certificate works.
 * basic_auth_users: every endpoint answers 401 with WWW-Authenticate: Basic
   without credentials, with a wrong password and for an unknown user;
   the right password gets 200 everywhere (POST /-/reload included).
 * A bad web config stops the exporter at start-up with file:line: key.
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "lib"))
import harness as h  # noqa: E402
import pki  # noqa: E402

PASSWORD = "web-pass-4Kd9"

_pki = {}


def certs():
    """The CA, server and client certificates, made once per run."""
    if not _pki:
        d = os.path.join(h.tmpdir(), "pki")
        ca = pki.Pki(d, "ca")
        stranger = pki.Pki(os.path.join(h.tmpdir(), "stranger"), "stranger-ca")
        _pki["dir"] = d
        _pki["ca"] = ca.ca_cert
        _pki["server"] = ca.issue("server", ["IP:127.0.0.1", "DNS:localhost"])
        _pki["client"] = ca.issue("client", ["DNS:scraper"], usage="clientAuth")
        _pki["stranger_client"] = stranger.issue("stranger-client", ["DNS:x"],
                                                 usage="clientAuth")
    return _pki


def start_exporter(web_yml_text, name):
    """The exporter with a web config written beside the certificates (so
    its relative paths resolve there, not in the working directory) and one
    target that refuses connections (scraping is not under test here)."""
    c = certs()
    web_yml = os.path.join(c["dir"], name + ".web.yml")
    with open(web_yml, "w", encoding="utf-8") as f:
        f.write(web_yml_text)
    sock, port = h.free_port_not_listening()
    _keep.append(sock)
    config = h.write_file(name + ".yml", (
        "targets:\n- name: nothing\n  url: http://127.0.0.1:%d/\n"
        "  profiles: {goroutine: {interval: 1h}}\n" % port))
    return h.Exporter("--config.file=" + config, "--web.config.file=" + web_yml,
                      name=name)


_keep = []  # sockets that must stay open while the tests run


def curl(url, *args, method=None):
    """Runs curl; returns (exit code, HTTP status or 0, headers, body, stderr)."""
    out = os.path.join(h.tmpdir(), "curl.body")
    hdr = os.path.join(h.tmpdir(), "curl.headers")
    for p in (out, hdr):
        if os.path.exists(p):
            os.remove(p)
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "-o", out,
           "-D", hdr, "-w", "%{http_code}"]
    if method == "POST":
        cmd += ["--data-binary", ""]
    elif method:
        cmd += ["-X", method]
    cmd += list(args) + [url]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    status = p.stdout.decode().strip()
    body = open(out, "rb").read().decode("utf-8", "replace") if os.path.exists(out) else ""
    headers = open(hdr, "rb").read().decode("utf-8", "replace") if os.path.exists(hdr) else ""
    return (p.returncode, int(status) if status.isdigit() else 0, headers, body,
            p.stderr.decode("utf-8", "replace"))


def s_client(port, *args):
    """openssl s_client against 127.0.0.1:port; returns (exit code, output)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-verify_return_error"] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def https(exporter, path="/metrics"):
    return "https://127.0.0.1:%d%s" % (exporter.port, path)


def tls_yml(extra=""):
    return ("tls_server_config:\n  cert_file: server.crt\n"
            "  key_file: server.key\n" + extra)


def test_tls_with_real_clients():
    c = certs()
    e = start_exporter(tls_yml(), "tls")
    h.check("tls=true" in e.proc.stderr(), "listening line says tls=true:\n"
            + e.proc.stderr())

    code, status, _, body, err = curl(https(e), "--cacert", c["ca"])
    h.check_eq((code, status), (0, 200), "curl --cacert: %s" % err)
    h.check("pprof_exporter_build_info" in body, "metrics body: " + body[:300])

    code, status, _, _, err = curl(https(e, "/"), "--cacert", c["ca"])
    h.check_eq((code, status), (0, 200), "landing page over TLS: %s" % err)

    # Without the CA the certificate is not trusted (curl exit 60).
    code, status, _, _, err = curl(https(e))
    h.check(code != 0 and status == 0, "curl without the CA must fail: %d %d %s"
            % (code, status, err))

    code, out = s_client(e.port, "-CAfile", c["ca"], "-verify_ip", "127.0.0.1")
    h.check(code == 0 and "Verify return code: 0 (ok)" in out,
            "s_client with the CA: exit %d\n%s" % (code, out[-2000:]))

    # Plain HTTP to the TLS port: no HTTP answer.
    code, status, _, body, err = curl("http://127.0.0.1:%d/metrics" % e.port)
    h.check(status != 200 and "pprof_" not in body,
            "plain HTTP got an answer: exit %d status %d %r" % (code, status, body[:200]))
    # ... and the exporter is still up and serving TLS.
    h.check(e.proc.alive(), "exporter died after a plain HTTP request")
    code, status, _, _, err = curl(https(e, "/-/healthy"), "--cacert", c["ca"])
    h.check_eq((code, status), (0, 200), "healthy after plain HTTP: %s" % err)


def test_min_version_tls13():
    c = certs()
    e = start_exporter(tls_yml("  min_version: TLS13\n"), "tls13")
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"], "--tls-max", "1.2")
    h.check(code != 0 and status == 0,
            "curl --tls-max 1.2 must fail against TLS13: exit %d status %d %s"
            % (code, status, err))
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"], "--tlsv1.3")
    h.check_eq((code, status), (0, 200), "curl --tlsv1.3: %s" % err)

    code, out = s_client(e.port, "-CAfile", c["ca"], "-tls1_2")
    h.check(code != 0, "s_client -tls1_2 must fail:\n" + out[-2000:])
    code, out = s_client(e.port, "-CAfile", c["ca"], "-tls1_3")
    h.check(code == 0 and "TLSv1.3" in out, "s_client -tls1_3:\n" + out[-2000:])


def test_max_version_tls12():
    c = certs()
    e = start_exporter(tls_yml("  max_version: TLS12\n"), "tls12max")
    code, out = s_client(e.port, "-CAfile", c["ca"], "-tls1_3")
    h.check(code != 0, "s_client -tls1_3 must fail against max_version TLS12:\n"
            + out[-2000:])
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"], "--tlsv1.3")
    h.check(code != 0 and status == 0,
            "curl --tlsv1.3 must fail against TLS12: exit %d status %d %s"
            % (code, status, err))

    code, out = s_client(e.port, "-CAfile", c["ca"], "-tls1_2")
    h.check(code == 0 and re.search(r"Protocol *: TLSv1\.2", out),
            "s_client -tls1_2:\n" + out[-2000:])
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"], "--tls-max", "1.2")
    h.check_eq((code, status), (0, 200), "curl --tls-max 1.2: %s" % err)


def test_client_certificate_required():
    c = certs()
    e = start_exporter(tls_yml(
        "  client_ca_file: ca.crt\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"), "mtls")
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"])
    h.check(code != 0 and status != 200,
            "no client certificate must fail: exit %d status %d %s" % (code, status, err))

    cert, key = c["stranger_client"]
    code, status, _, _, err = curl(https(e), "--cacert", c["ca"], "--cert", cert,
                                   "--key", key)
    h.check(code != 0 and status != 200,
            "a certificate from another CA must fail: exit %d status %d %s"
            % (code, status, err))

    cert, key = c["client"]
    code, status, _, body, err = curl(https(e), "--cacert", c["ca"], "--cert", cert,
                                      "--key", key)
    h.check_eq((code, status), (0, 200), "with the client certificate: %s" % err)
    h.check("pprof_exporter_build_info" in body, "metrics body: " + body[:300])

    code, out = s_client(e.port, "-CAfile", c["ca"], "-cert", cert, "-key", key)
    h.check(code == 0 and "Verify return code: 0 (ok)" in out,
            "s_client with the client certificate:\n" + out[-2000:])


def test_basic_auth_on_every_endpoint():
    c = certs()
    hashed = pki.bcrypt_hash(PASSWORD)
    e = start_exporter(tls_yml("basic_auth_users:\n  alice: %s\n  bob: %s\n"
                               % (hashed, pki.bcrypt_hash("bobs-password"))),
                       "basic")
    h.check("basic_auth=true" in e.proc.stderr(), e.proc.stderr())
    ca = ["--cacert", c["ca"]]
    endpoints = [("/metrics", None), ("/", None), ("/-/healthy", None),
                 ("/-/ready", None), ("/-/reload", "POST"), ("/nonexistent", None)]
    for path, method in endpoints:
        for what, creds in [("no credentials", []),
                            ("wrong password", ["-u", "alice:wrong"]),
                            ("unknown user", ["-u", "mallory:" + PASSWORD]),
                            ("another user's password", ["-u", "bob:" + PASSWORD])]:
            code, status, headers, body, err = curl(https(e, path), *(ca + creds),
                                                    method=method)
            h.check_eq(status, 401, "%s %s with %s (%s)" % (method or "GET", path, what, err))
            h.check("www-authenticate: basic" in headers.lower(),
                    "%s: 401 without WWW-Authenticate: Basic:\n%s" % (path, headers))
            h.check("pprof_" not in body, "%s leaked with %s: %r" % (path, what, body[:200]))

    good = ca + ["-u", "alice:" + PASSWORD]
    for path, method in endpoints:
        code, status, _, body, err = curl(https(e, path), *good, method=method)
        want = 404 if path == "/nonexistent" else 200
        h.check_eq(status, want, "%s %s with the right password (%s)"
                   % (method or "GET", path, err))
    code, status, _, body, err = curl(https(e), *good)
    h.check("pprof_exporter_build_info" in body, body[:300])
    code, status, _, _, err = curl(https(e), *(ca + ["-u", "bob:bobs-password"]))
    h.check_eq(status, 200, "second user (%s)" % err)
    for secret in (PASSWORD, "bobs-password", "wrong"):
        h.check(secret not in e.proc.stderr(), "%r in the log" % secret)


def test_bad_web_config_stops_startup():
    c = certs()
    sock, port = h.free_port_not_listening()
    _keep.append(sock)
    target = "--target=t=http://127.0.0.1:%d/" % port
    cases = [
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
         "  cert_fil: x\n", r"bad\.web\.yml:4: tls_server_config\.cert_fil: unknown key"),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
         r"cannot load cert_file \S*missing\.crt"),
        (None, r"cannot open \S*bad\.web\.yml"),
        ("basic_auth_users:\n  alice: plaintext-password\n",
         r"bad\.web\.yml:2: basic_auth_users\.alice: not a bcrypt hash"),
    ]
    for text, want in cases:
        path = os.path.join(c["dir"], "bad.web.yml")
        if text is None:  # a missing file
            if os.path.exists(path):
                os.remove(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        code, _, err = h.run_cli([target, "--web.listen-address=127.0.0.1:0",
                                  "--web.config.file=" + path], timeout=30)
        h.check_eq(code, 1, "exit code for:\n%s\n%s" % (text, err))
        h.check(re.search(want, err), "want /%s/ in:\n%s" % (want, err))
        h.check("plaintext-password" not in err, "the bad hash was echoed:\n" + err)


if __name__ == "__main__":
    h.run_tests([
        test_tls_with_real_clients,
        test_min_version_tls13,
        test_max_version_tls12,
        test_client_certificate_required,
        test_basic_auth_on_every_endpoint,
        test_bad_web_config_stops_startup,
    ])
