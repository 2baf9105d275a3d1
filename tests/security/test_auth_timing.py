#!/usr/bin/env python3
"""Basic auth does not tell user names by timing, on the real daemon.

basic_auth_users has alice with a cost-12 bcrypt hash and bob with a
cost-4 one. A request for an unknown user is checked against a dummy hash,
which must cost as much as the costliest user's (12): were it cheaper
(say cost 10, 4x faster), an unknown name would answer visibly faster than
alice with a wrong password.

The test times both cases, interleaved, over plain HTTP on loopback (a TLS
handshake would only add noise) and compares the medians: the ratio must
lie within [0.5, 2]. One bcrypt step doubles the time, so a dummy even one
cost below or above the costliest user's would sit at the bound; the
4x of cost 10 is far out. A loaded machine slows both cases alike, and the
median ignores bursts; a round that misses is measured again, up to three
times, before the test fails.
"""

import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "daemon"))
import harness as h  # noqa: E402
import pki  # noqa: E402

ROUNDS = 3
PAIRS = 5  # per round: unknown user, then alice with a wrong password
LOW, HIGH = 0.5, 2.0


def timed_401(e, user, password):
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}
    start = time.monotonic()
    status, _, _ = h.http_request("GET", e.base + "/-/healthy", headers=auth,
                                  timeout=60)
    elapsed = time.monotonic() - start
    h.check_eq(status, 401, "GET /-/healthy as %s" % user)
    return elapsed


def test_unknown_user_costs_as_much_as_a_wrong_password():
    web = h.write_file("web.yml", "basic_auth_users:\n  alice: '%s'\n  bob: '%s'\n"
                       % (pki.bcrypt_hash("alice-pass", cost=12),
                          pki.bcrypt_hash("bob-pass", cost=4)))
    sock, port = h.free_port_not_listening()
    e = h.Exporter("--target=nothing=http://127.0.0.1:%d/" % port,
                   "--web.config.file=" + web)
    timed_401(e, "alice", "warm-up")  # first-request costs (page cache, ...)
    ratios = []
    for _ in range(ROUNDS):
        unknown, known = [], []
        for _ in range(PAIRS):
            unknown.append(timed_401(e, "mallory", "not-the-password"))
            known.append(timed_401(e, "alice", "not-the-password"))
        ratio = statistics.median(unknown) / statistics.median(known)
        ratios.append(ratio)
        print("  unknown user %.0f ms, known user with a wrong password %.0f ms"
              " (medians of %d): ratio %.2f" % (statistics.median(unknown) * 1e3,
                                                 statistics.median(known) * 1e3,
                                                 PAIRS, ratio))
        if LOW <= ratio <= HIGH:
            break
    h.check(LOW <= ratios[-1] <= HIGH,
            "an unknown user's 401 takes %s of a known user's (want %.1f-%.1f in "
            "one of %d rounds): user names can be told by timing"
            % (", ".join("%.2fx" % r for r in ratios), LOW, HIGH, ROUNDS))
    e.stop()
    sock.close()


if __name__ == "__main__":
    h.run_tests([test_unknown_user_costs_as_much_as_a_wrong_password])
