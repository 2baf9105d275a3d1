#!/usr/bin/env python3
"""Starts the real pprof_exporter on what deploy/nixos/module.nix rendered.

Takes the module's evaluation with every feature on (nixos_test.sh), and
does what systemd would: puts fresh credentials (a certificate from a test
CA, its key, the CA, a basic-auth users file) where LoadCredential would,
runs the rendered ExecStartPre script to assemble the web config, and runs
the rendered ExecStart with the rendered config. Only the absolute paths of
a NixOS host (/run/credentials/..., /var/lib/..., /etc/...) are moved into
a temporary directory, and the listen address to a free loopback port.
Then: /-/ready answers over TLS with the password and 401 without, the
file_sd target is discovered, the archive directory is created, and SIGTERM
ends it with status 0.

  nixos_exporter_start.py EXPORTER FULL_EVAL_JSON WORKDIR TESTS_SECURITY_DIR
"""

import base64
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

DEADLINE_S = 30
CREDENTIALS = "/run/credentials/pprof-exporter.service"


def poll(fn, what):
    end = time.monotonic() + DEADLINE_S
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            sys.exit(f"timed out after {DEADLINE_S}s waiting for {what}")
        time.sleep(0.1)


def main(exporter, eval_json, work, security_dir):
    sys.path.insert(0, security_dir)
    import pki as pkilib  # tests/security/pki.py

    ev = json.load(open(eval_json))
    creds, run_dir, state = (os.path.join(work, d) for d in ("creds", "run", "state"))
    sd_etc, sd_dir = os.path.join(work, "etc-targets"), os.path.join(work, "sd-targets")
    for d in (creds, run_dir, sd_etc, sd_dir):
        os.makedirs(d, exist_ok=True)
    moved = {CREDENTIALS: creds, "/var/lib/pprof-exporter": state,
             "/etc/pprof-exporter/targets": sd_etc, "/var/lib/pprof-targets": sd_dir,
             "/run/pprof-exporter/web.yml": os.path.join(run_dir, "web.yml")}

    def move(s):
        for old, new in moved.items():
            s = s.replace(old, new)
        return s

    # LoadCredential's copies.
    ca = pkilib.Pki(os.path.join(work, "pki"))
    cert, key = ca.issue("server", ["IP:127.0.0.1"])
    for name, src in (("tls.crt", cert), ("tls.key", key), ("client_ca.crt", ca.ca_cert)):
        with open(src) as f, open(os.path.join(creds, name), "w") as out:
            out.write(f.read())
    with open(os.path.join(creds, "basic_auth_users"), "w") as f:
        f.write(f"# users\n\nalice: {pkilib.bcrypt_hash('s3cret', cost=4)}\n")

    # ExecStartPre, with the store's sed being the system's.
    script = re.sub(r"/nix/store/[0-9a-z]{32}-gnused/bin/sed", "sed", move(ev["webConfigScript"]))
    subprocess.run(["bash", "-c", script], check=True,
                   env=dict(os.environ, CREDENTIALS_DIRECTORY=creds, RUNTIME_DIRECTORY=run_dir))

    config = move(json.dumps(ev["exporterConfig"]))
    with open(os.path.join(work, "config.yml"), "w") as f:
        f.write(config)
    with open(os.path.join(sd_etc, "app.json"), "w") as f:
        json.dump([{"targets": ["127.0.0.1:1"], "labels": {"name": "sd-app"}}], f)

    argv = shlex.split(ev["service"]["serviceConfig"]["ExecStart"])
    assert argv[0].endswith("/bin/pprof_exporter"), argv
    args = [exporter]
    for a in argv[1:]:
        if a.startswith("--config.file="):
            a = "--config.file=" + os.path.join(work, "config.yml")
        elif a.startswith("--web.listen-address="):
            a = "--web.listen-address=127.0.0.1:0"
        args.append(move(a))
    print("started:", " ".join(args))
    log = open(os.path.join(work, "exporter.log"), "w+")
    proc = subprocess.Popen(args, stderr=log, stdout=log)
    try:
        def address():
            if proc.poll() is not None:
                log.seek(0)
                sys.exit(f"exporter exited with {proc.returncode}:\n{log.read()[-3000:]}")
            log.seek(0)
            m = re.search(r"msg=listening address=(127\.0\.0\.1:\d+)", log.read())
            return m and m.group(1)
        addr = poll(address, "the exporter to listen")
        tls = ssl.create_default_context(cafile=ca.ca_cert)
        auth = "Basic " + base64.b64encode(b"alice:s3cret").decode()

        def get(path, with_auth=True):
            req = urllib.request.Request(f"https://{addr}{path}",
                                         headers={"Authorization": auth} if with_auth else {})
            try:
                with urllib.request.urlopen(req, context=tls, timeout=5) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, ""

        poll(lambda: get("/-/ready")[0] == 200, "/-/ready over TLS with basic auth")
        status, _ = get("/-/ready", with_auth=False)
        assert status == 401, f"/-/ready without a password: HTTP {status}, want 401"
        poll(lambda: 'target="sd-app"' in get("/metrics")[1], "the file_sd target in /metrics")
        assert os.path.isdir(state), "archive directory not created"
        print(f"ready on https://{addr}; 401 without password; file_sd target found; archive at {state}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "killed"
    assert rc == 0, f"exporter exit status {rc} on SIGTERM"


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
