"""Test-time certificates and password hashes for tests/security.

Everything is made fresh by each test run with the `openssl` CLI, into the
test's temporary directory: nothing secret or expiring is committed.

  Pki(dir)                      a CA (EC P-256, valid 2 days)
  pki.issue(name, sans, usage)  a leaf certificate signed by it:
                                returns (cert path, key path)
  bcrypt_hash(password)         "$2b$10$..." via libcrypt (python3's crypt
                                module; `htpasswd -nbBC 10` as a fallback)
"""

import os
import shutil
import subprocess
import warnings


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + [str(a) for a in args], cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed (%d): %s"
                           % (" ".join(map(str, args)), p.returncode,
                              p.stderr.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


class Pki:
    """A certificate authority in `directory` (created if need be)."""

    def __init__(self, directory, name="test-ca"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.name = name
        self.ca_cert = os.path.join(directory, name + ".crt")
        self.ca_key = os.path.join(directory, name + ".key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "2",
                "-subj", "/CN=" + name,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._serial = 1

    def issue(self, name, sans=(), usage="serverAuth"):
        """A certificate for `sans` (e.g. ["IP:127.0.0.1", "DNS:localhost"])
        with extended key usage `usage` (serverAuth or clientAuth)."""
        cert = os.path.join(self.dir, name + ".crt")
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w", encoding="utf-8") as f:
            f.write("basicConstraints=critical,CA:FALSE\n")
            f.write("keyUsage=critical,digitalSignature\n")
            f.write("extendedKeyUsage=%s\n" % usage)
            if sans:
                f.write("subjectAltName=%s\n" % ",".join(sans))
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + name)
        self._serial += 1
        openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert,
                "-CAkey", self.ca_key, "-set_serial", str(self._serial),
                "-days", "2", "-extfile", ext, "-out", cert)
        return cert, key


def bcrypt_hash(password, cost=10):
    """A $2b$ bcrypt hash of `password`, as basic_auth_users wants."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # noqa: PLC0415 - deprecated, gone in Python 3.13
        salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << cost)
        hashed = crypt.crypt(password, salt)
        if hashed and hashed.startswith("$2"):
            return hashed
    except (ImportError, AttributeError, OSError):
        pass
    if shutil.which("htpasswd"):
        out = subprocess.run(["htpasswd", "-nbBC", str(cost), "u", password],
                             stdout=subprocess.PIPE, check=True, timeout=60)
        return out.stdout.decode().strip().split(":", 1)[1]
    raise RuntimeError("no bcrypt: python3's crypt module lacks it and "
                       "htpasswd (apache2-utils) is not installed")
