#!/usr/bin/env python3
"""A misbehaving net/http/pprof server for the fault-matrix test.

One process, Python 3.11 standard library only, 127.0.0.1 only. Every
target is a path prefix on one listening port, so a target's pprof base URL
is http://127.0.0.1:PORT/<mode>/debug/pprof/ and the exporter appends
`profile?seconds=N`, `heap`, `goroutine`, ... as it does for Go. Each mode
answers every profile kind the same (broken) way:

  ok           the fixture tests/testdata/<kind>.pb.gz, like a healthy Go
               process; `profile?seconds=N` answers after N seconds, as Go
               does (at most 30, sooner if the client goes away)
  silent       reads the request, then never answers (until the client
               hangs up)                                        -> timeout
  slow         headers at once, then the fixture one byte per 100 ms, far
               past any 1-3 s deadline                          -> timeout
  reset        headers with the full Content-Length, half the body, then a
               TCP RST (SO_LINGER 0 + close)                    -> connect
  notfound     404 "404 page not found"                         -> http_status
  error500     500 without X-Go-Pprof: a plain server error     -> http_status
  busy         500 with "X-Go-Pprof: 1" and Go's "cpu profiling already in
               use" text                                        -> profiler_busy
  html         200 text/html, a web page instead of a profile   -> decode
  garbage      200 application/octet-stream, bytes that are no profile
                                                                -> decode
  truncated    200 with the first half of the fixture (and that length)
                                                                -> decode
  huge_length  200 with Content-Length 64 MiB + 1, then zeros up to that
               length until the client hangs up                 -> too_large
  huge_stream  200 chunked, no Content-Length: 72 MiB of zeros  -> too_large
  tsnsrv       the bytes a real tsnsrv served: tests/testdata/tsnsrv-storage/
               <kind>.pb.gz (404 for a kind not kept there)
  redirect     302 to the URL set by /_control/redirect?to=URL, plus the
               path after /redirect (for "redirects are not followed")
  restart      the fixture while the generation is 0; from generation 1
               on, a copy whose every sample value is divided by 4, as if
               the process had restarted (cumulative counters go down)
  goroutineleak  like ok, plus /debug/pprof/goroutineleak: a profile of
               the shape Go 1.27's runtime serves there (sample and period
               type goroutineleak/count, one sample per stack with its
               count, like the goroutine profile), built by leak_profile():
               LEAKS leaked goroutines (3 in main.leakyHandler, 2 in
               main.(*pool).wait)

and a refused target: a port bound but never listening, so a connect is
refused (http://127.0.0.1:REFUSED/refused/debug/pprof/).

Control (not pprof): GET /_control/generation?set=N sets the restart
target's generation and answers the new one; GET /_control/redirect?to=URL
sets where the redirect target points; GET /_control/stats answers
per-mode request counts as JSON.

Nothing big is ever allocated: the zeros come from one 256 KiB buffer.

Run standalone:  python3 tests/faults/fault_server.py [--testdata DIR]
It prints "fault server listening on 127.0.0.1:PORT refused PORT2" on stdout
and serves until SIGTERM/SIGINT. The test starts it as a child process so
that its threads (dribbling, streaming 64 MiB) do not compete with the
test's own load generator for the GIL.
"""

import argparse
import gzip
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

KINDS = ("cpu", "heap", "allocs", "goroutine", "mutex", "block")
FETCH_CAP = 64 << 20  # the exporter's limit on a compressed profile
MODES = ("ok", "silent", "slow", "reset", "notfound", "error500", "busy", "html",
         "garbage", "truncated", "huge_length", "huge_stream", "restart", "redirect", "tsnsrv",
         "goroutineleak")

_ZEROS = memoryview(bytes(256 << 10))
HUGE_STREAM_BYTES = FETCH_CAP + (8 << 20)
SLOW_BYTE_EVERY = 0.1      # seconds between two bytes of the slow body
SLOW_GIVE_UP = 60.0        # stop dribbling after this long regardless
SILENT_GIVE_UP = 120.0     # hang up on a silent connection after this long
MAX_CPU_SECONDS = 30

HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
             b"<body><h1>Please sign in</h1><form method=post action=/login>"
             b"<input name=user></form></body></html>\n")
BUSY_TEXT = b"Could not enable CPU profiling: cpu profiling already in use\n"


# ---------------------------------------------------------------------------
# profile.proto rewriting (just enough wire format for Profile.sample.value)

def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _put_varint(n):
    n &= (1 << 64) - 1  # int64 values are encoded as 64-bit two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf):
    """Yields (field number, wire type, raw bytes of the whole field,
    payload) for a protobuf message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            value, pos = _varint(buf, pos)
        elif wt == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, wt, buf[start:pos], value


def _signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


def _scale_sample(sample, divisor):
    values = []
    rest = bytearray()
    for num, wt, raw, value in _fields(sample):
        if num == 2 and wt == 2:      # packed values
            pos = 0
            while pos < len(value):
                v, pos = _varint(value, pos)
                values.append(_signed(v))
        elif num == 2 and wt == 0:    # unpacked value
            values.append(_signed(value))
        else:
            rest += raw
    packed = b"".join(_put_varint(int(v / divisor)) for v in values)
    return bytes(rest) + b"\x12" + _put_varint(len(packed)) + packed


def restarted_profile(gz_bytes, divisor=4):
    """The profile with every sample value divided by `divisor` (toward
    zero), gzipped: the same stacks counted by a process that started
    later, so every cumulative total is lower."""
    raw = gzip.decompress(gz_bytes)
    out = bytearray()
    for num, wt, field, value in _fields(raw):
        if num == 2 and wt == 2:      # Profile.sample
            sample = _scale_sample(value, divisor)
            out += b"\x12" + _put_varint(len(sample)) + sample
        else:
            out += field
    return gzip.compress(bytes(out), mtime=0)


def _field(num, payload):
    """A length-delimited field (wire type 2)."""
    return _put_varint(num << 3 | 2) + _put_varint(len(payload)) + payload


def _ints(num, *values):
    """A varint field per value (wire type 0)."""
    return b"".join(_put_varint(num << 3) + _put_varint(v) for v in values)


# (count, stack leaf first) of leak_profile(); their sum is LEAKS.
LEAK_STACKS = (
    (3, ("runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.leakyHandler",
         "net/http.HandlerFunc.ServeHTTP")),
    (2, ("runtime.gopark", "runtime.goparkunlock", "sync.runtime_notifyListWait",
         "sync.(*Cond).Wait", "main.(*pool).wait")),
)
LEAKS = sum(n for n, _ in LEAK_STACKS)


def leak_profile():
    """A gzipped goroutineleak profile (profile.proto) of LEAK_STACKS: sample
    type goroutineleak/count and period type goroutineleak/count, period 1,
    as runtime/pprof writes it for Go 1.27's goroutineleak profile (the
    goroutine profile's shape under another name)."""
    strings = [""]

    def sid(text):
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    value_type = _ints(1, sid("goroutineleak")) + _ints(2, sid("count"))
    out = _field(1, value_type)
    functions, locations = {}, []
    for count, stack in LEAK_STACKS:
        ids = []
        for name in stack:
            if name not in functions:
                functions[name] = len(functions) + 1
                locations.append(name)
                out_loc = (_ints(1, len(locations)) + _ints(2, 1)
                           + _ints(3, 0x400000 + 0x10 * len(locations))
                           + _field(4, _ints(1, functions[name]) + _ints(2, 10)))
                out += _field(4, out_loc)
            ids.append(locations.index(name) + 1)
        out += _field(2, _field(1, b"".join(_put_varint(i) for i in ids))
                      + _field(2, _put_varint(count)))
    for name, fid in functions.items():
        out += _field(5, _ints(1, fid) + _ints(2, sid(name)) + _ints(3, sid(name))
                      + _ints(4, sid("main.go")))
    out += _field(3, _ints(1, 1) + _ints(2, 0x400000) + _ints(3, 0x800000)
                  + _ints(5, sid("/usr/local/bin/app")) + _ints(7, 1))
    out += _field(11, value_type) + _ints(12, 1) + _ints(9, 1_700_000_000_000_000_000)
    table = b"".join(_field(6, t.encode()) for t in strings)
    return gzip.compress(out + table, mtime=0)


# ---------------------------------------------------------------------------
# The server

class _Gone(Exception):
    """The client hung up."""


class FaultServer:
    def __init__(self, testdata):
        self.testdata = testdata
        self.fixtures = {}
        for kind in KINDS:
            with open(os.path.join(testdata, kind + ".pb.gz"), "rb") as f:
                self.fixtures[kind] = f.read()
        self.restarted = {k: restarted_profile(v) for k, v in self.fixtures.items()
                          if k != "cpu"}
        self.restarted["cpu"] = self.fixtures["cpu"]
        self.leaks = leak_profile()
        self.generation = 0
        self.redirect_to = ""
        self.counts = {}
        self.lock = threading.Lock()
        self.closing = threading.Event()

        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        # Bound, never listening: connections are refused, and no other
        # process can take the port while this socket is open.
        self.refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.refused.bind(("127.0.0.1", 0))
        self.refused_port = self.refused.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, name="accept",
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def url(self, mode):
        port = self.refused_port if mode == "refused" else self.port
        return "http://127.0.0.1:%d/%s/debug/pprof/" % (port, mode)

    def close(self):
        self.closing.set()
        try:
            self.listener.close()
        finally:
            self.refused.close()

    def _accept_loop(self):
        while not self.closing.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # -- one connection, one request ---------------------------------------

    def _serve(self, conn):
        detached = False
        try:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
                if len(head) > 65536:
                    return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            if len(parts) != 3:
                return
            method, target = parts[0], parts[1]
            conn.settimeout(None)
            detached = self._dispatch(conn, method, target)
        except (_Gone, OSError):
            pass
        finally:
            if not detached:
                try:
                    conn.close()
                except OSError:
                    pass

    @staticmethod
    def _send(conn, data):
        try:
            conn.sendall(data)
        except OSError as e:
            raise _Gone() from e

    def _respond(self, conn, status, body, content_type="application/octet-stream",
                 extra=(), length=None):
        reason = {200: "OK", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}[status]
        headers = ["HTTP/1.1 %d %s" % (status, reason),
                   "Content-Type: " + content_type,
                   "Content-Length: %d" % (len(body) if length is None else length),
                   "Connection: close",
                   "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())]
        headers += ["%s: %s" % kv for kv in extra]
        self._send(conn, ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body)

    def _wait_for_hangup(self, conn, limit):
        """Blocks until the client closes (or `limit` seconds pass)."""
        conn.settimeout(limit)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass

    def _dispatch(self, conn, method, target):
        """Answers one request. Returns True when the socket was already
        closed (and must not be touched again)."""
        url = urllib.parse.urlsplit(target)
        path = url.path.strip("/").split("/")
        query = urllib.parse.parse_qs(url.query)
        if path[0] == "_control":
            return self._control(conn, path[1:], query)
        mode = path[0]
        last = path[-1] if len(path) > 1 else ""
        kind = "cpu" if last == "profile" else last
        with self.lock:
            self.counts[mode] = self.counts.get(mode, 0) + 1
        if mode == "goroutineleak" and kind == "goroutineleak" and method == "GET":
            self._respond(conn, 200, self.leaks)
            return False
        if method != "GET" or mode not in MODES or kind not in KINDS:
            self._respond(conn, 404, b"404 page not found\n", "text/plain; charset=utf-8")
            return False
        fixture = self.fixtures[kind]

        if mode in ("ok", "restart", "goroutineleak"):
            if mode == "restart" and self.generation > 0:
                fixture = self.restarted[kind]
            if kind == "cpu":
                # A CPU profile answers after its window; give up early if
                # the client leaves.
                try:
                    seconds = int(query.get("seconds", ["30"])[0])
                except ValueError:
                    seconds = 30
                conn.settimeout(max(0, min(seconds, MAX_CPU_SECONDS)))
                try:
                    if conn.recv(1) == b"":
                        return False
                except TimeoutError:
                    pass
                conn.settimeout(None)
            self._respond(conn, 200, fixture, extra=[
                ("Content-Disposition", 'attachment; filename="profile"'),
                ("X-Content-Type-Options", "nosniff")])
        elif mode == "silent":
            self._wait_for_hangup(conn, SILENT_GIVE_UP)
        elif mode == "slow":
            self._respond(conn, 200, b"", length=len(fixture))
            give_up = time.monotonic() + SLOW_GIVE_UP
            for i in range(len(fixture)):
                if self.closing.wait(SLOW_BYTE_EVERY) or time.monotonic() > give_up:
                    break
                self._send(conn, fixture[i:i + 1])
        elif mode == "reset":
            half = len(fixture) // 2
            self._respond(conn, 200, fixture[:half], length=len(fixture))
            # Abortive close: SO_LINGER {on, 0} makes close() send RST.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return True
        elif mode == "notfound":
            self._respond(conn, 404, b"404 page not found\n", "text/plain; charset=utf-8",
                          extra=[("X-Content-Type-Options", "nosniff")])
        elif mode == "error500":
            self._respond(conn, 500, b"internal error\n", "text/plain; charset=utf-8")
        elif mode == "busy":
            self._respond(conn, 500, BUSY_TEXT, "text/plain; charset=utf-8",
                          extra=[("X-Go-Pprof", "1"), ("X-Content-Type-Options", "nosniff")])
        elif mode == "html":
            self._respond(conn, 200, HTML_PAGE, "text/html; charset=utf-8")
        elif mode == "garbage":
            self._respond(conn, 200, b"this is not a profile\n")
        elif mode == "tsnsrv":
            captured = os.path.join(self.testdata, "tsnsrv-storage", kind + ".pb.gz")
            if os.path.exists(captured):
                with open(captured, "rb") as f:
                    self._respond(conn, 200, f.read())
            else:
                self._respond(conn, 404, b"404 page not found\n", "text/plain; charset=utf-8")
        elif mode == "redirect":
            location = self.redirect_to + target[len("/redirect"):]
            self._respond(conn, 302, b"", extra=[("Location", location)])
        elif mode == "truncated":
            self._respond(conn, 200, fixture[:len(fixture) // 2])
        elif mode == "huge_length":
            total = FETCH_CAP + 1
            self._respond(conn, 200, b"", length=total)
            sent = 0
            while sent < total and not self.closing.is_set():
                n = min(len(_ZEROS), total - sent)
                self._send(conn, _ZEROS[:n])
                sent += n
        elif mode == "huge_stream":
            self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            chunk_head = b"%x\r\n" % len(_ZEROS)
            sent = 0
            while sent < HUGE_STREAM_BYTES and not self.closing.is_set():
                self._send(conn, chunk_head)
                self._send(conn, _ZEROS)
                self._send(conn, b"\r\n")
                sent += len(_ZEROS)
            self._send(conn, b"0\r\n\r\n")
        return False

    def _control(self, conn, path, query):
        if path == ["redirect"]:
            self.redirect_to = query.get("to", [""])[0]
            body = self.redirect_to.encode() + b"\n"
        elif path == ["generation"]:
            if "set" in query:
                self.generation = int(query["set"][0])
            body = b"%d\n" % self.generation
        elif path == ["stats"]:
            with self.lock:
                body = json.dumps(self.counts, sort_keys=True).encode() + b"\n"
        elif path[:1] == ["profile"] and len(path) == 3 and path[2] in KINDS:
            # /_control/profile/<generation>/<kind>: the bytes `restart`
            # serves in that generation (for the test's expected values).
            table = self.restarted if path[1] != "0" else self.fixtures
            body = table[path[2]]
        else:
            self._respond(conn, 404, b"unknown control path\n", "text/plain")
            return False
        self._respond(conn, 200, body, "text/plain")
        return False


def main():
    default_testdata = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "testdata")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--testdata", default=default_testdata,
                    help="directory with the <kind>.pb.gz fixtures")
    args = ap.parse_args()
    server = FaultServer(args.testdata).start()
    done = threading.Event()

    def stop(_signum, _frame):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("fault server listening on 127.0.0.1:%d refused %d"
          % (server.port, server.refused_port), flush=True)
    while not done.wait(3600):
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
