#!/usr/bin/env python3
"""fwdtest.py - both peers of a relayed TCP connection, for pv-forwarder's
integration tests (tests/integration/1*-forwarder-*.sh) and tests/bench.

Each scenario runs the destination server and the clients in this one
process, so it can check every byte both ways and time every event.  The
forwarder under test is started by the shell script; the two meet through
files:

  --dest-port-file F   written once the destination socket is bound
                       ("PORT n"); the script starts the forwarder with
                       --to 127.0.0.1:n
  --fwd-ready F        the forwarder's --ready-fd output; polled (bounded)
                       until it holds "PORT n"
  --fwd-host H         where that forwarder listens (default 127.0.0.1)
  --fwd HOST:PORT      or the forwarder's address given directly
  --direct             connect straight to the destination (self-test of
                       this helper without a forwarder)

Byte streams are generated deterministically (no files): stream(seed) is a
sequence of 64 KiB chunks, each a 16-byte header (seed, chunk number) and a
slice of a fixed pseudo-random block, so every chunk of every stream is
distinct.  The sender hashes what it sends (sha256), the receiver hashes what
it receives and also compares every byte with the expected stream, so a
mismatch is reported with its offset.

Every scenario prints what it measured and exits 0 only when every assertion
held; 1 on a failed assertion, 2 on bad usage.  Commands:

  relay     N connections, each with UP bytes client->server and DOWN bytes
            server->client (optionally all N open at once, a half-close
            order, a delay)
  hold      the destination starts listening DELAY s after the connection
            arrived; the held connection must then carry bytes both ways
  nodest    the destination never listens; the forwarder must hold the
            client about HOLD s and then close it
  allow     sources outside the allow-list are closed at once and never reach
            the destination; an allowed source works
  maxconns  N connections work, the N+1th is closed, a slot freed is reusable
  load      endless transfer both ways until the connection is cut (SIGTERM
            test): received bytes must be an exact prefix
  stall     writers push both ways while nobody reads; the forwarder's VmRSS
            stays bounded and flat, the writers are held back; afterwards
            every byte arrives
  finidle   the FIN timeout: one side sends and shuts down its write side,
            the other goes idle; the pair must be closed --fin-timeout s after
            the last byte moved (not before, at most --slack s later), and
            traffic the open way (--keep-alive s of it) must keep it open
  emfile    the forwarder runs out of descriptors (its RLIMIT_NOFILE is lowered
            to its lowest free descriptor, prlimit): a new connection waits in
            the backlog while the forwarder stays nearly idle (no accept loop)
            and an open connection keeps working; once the limit is back, the
            waiting connection is served within --resume-within s
  wait-listen  wait (bounded) until a TCP port is listening, or check that it
            is not (--absent)
"""

import argparse
import hashlib
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

CHUNK = 64 * 1024
_HDR = struct.Struct("<QQ")
_BASE_LEN = 1 << 20
_BASE = random.Random(0x5EED).randbytes(_BASE_LEN + CHUNK)

# Connection header, sent first by every client of the in-process server:
# magic, connection id, up bytes, down bytes, flags, delay (ms).
CONN_HDR = struct.Struct("<4sIQQII")
MAGIC = b"PVFT"
F_ECHO = 1          # server echoes everything until EOF
F_AFTER_EOF = 2     # server reads the upload to EOF, waits delay, then sends the download
F_SERVER_FIRST = 4  # server sends the download and shuts down first; client uploads delay later
F_ENDLESS = 8       # both sides stream until the connection is cut
F_TOGETHER = 16     # server waits until every connection of the run is open (DestServer.gate)

MiB = 1024 * 1024


_log_lock = threading.Lock()


def log(*a):
    # one write per line under a lock: print() from several threads interleaves its pieces
    with _log_lock:
        sys.stdout.write(" ".join(str(x) for x in a) + "\n")
        sys.stdout.flush()


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------- streams

def chunk(seed, k):
    off = (k * 40503 + seed * 977) % _BASE_LEN
    return _HDR.pack(seed, k) + _BASE[off:off + CHUNK - _HDR.size]


def up_seed(cid):
    return 2 * cid + 1000


def down_seed(cid):
    return 2 * cid + 1001


class Sender:
    """Sends stream(seed); counts and hashes exactly what was sent."""

    def __init__(self, seed):
        self.seed = seed
        self.sent = 0
        self.sha = hashlib.sha256()

    def send(self, sock, nbytes, stop=None):
        """Sends nbytes (None: until stop is set or the socket fails)."""
        k = self.sent // CHUNK
        check(self.sent % CHUNK == 0, "sender restarted mid-chunk")
        while nbytes is None or self.sent < nbytes:
            if stop is not None and stop.is_set():
                break
            c = chunk(self.seed, k)
            if nbytes is not None and self.sent + len(c) > nbytes:
                c = c[:nbytes - self.sent]
            sock.sendall(c)
            self.sha.update(c)
            self.sent += len(c)
            k += 1

    def hexdigest(self):
        return self.sha.hexdigest()


class Verifier:
    """Checks received bytes against stream(seed), hashing them too."""

    def __init__(self, seed):
        self.seed = seed
        self.got = 0
        self.sha = hashlib.sha256()
        self.bad = None          # offset of the first wrong byte
        self._k = -1
        self._c = b""

    def feed(self, data):
        self.sha.update(data)
        if self.bad is None:
            pos = 0
            n = len(data)
            while pos < n:
                off = self.got + pos
                k, i = divmod(off, CHUNK)
                if k != self._k:
                    self._k, self._c = k, chunk(self.seed, k)
                take = min(CHUNK - i, n - pos)
                if bytes(data[pos:pos + take]) != self._c[i:i + take]:
                    for j in range(take):
                        if data[pos + j] != self._c[i + j]:
                            self.bad = off + j
                            break
                    break
                pos += take
        self.got += len(data)

    def recv_all(self, sock, limit=None, bufsize=256 * 1024):
        """Reads until EOF (or limit bytes).  Returns 'eof', 'reset' or 'limit'."""
        buf = bytearray(bufsize)
        mv = memoryview(buf)
        while limit is None or self.got < limit:
            want = bufsize if limit is None else min(bufsize, limit - self.got)
            try:
                n = sock.recv_into(mv[:want])
            except ConnectionResetError:
                return "reset"
            if n == 0:
                return "eof"
            self.feed(mv[:n])
        return "limit"

    def hexdigest(self):
        return self.sha.hexdigest()


# ---------------------------------------------------------------- addresses

def parse_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    return host, int(port)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def read_ready_port(path, timeout):
    """Polls the forwarder's --ready-fd file until it holds 'PORT n'."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                last = f.read()
        except FileNotFoundError:
            last = ""
        for line in last.splitlines():
            if line.startswith("PORT "):
                return int(line.split()[1])
            if line.startswith("ERROR"):
                raise Fail("forwarder reported: " + line)
        time.sleep(0.05)
    raise Fail("no 'PORT n' in %s after %ss (has %r)" % (path, timeout, last))


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


# ---------------------------------------------------------------- server

class DestServer:
    """The destination: accepts, reads the connection header, acts on it."""

    def __init__(self, host, port, listen_now=True):
        self.sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if ":" in host:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.accepts = []        # (monotonic time, peer address)
        self.open = 0
        self.max_open = 0
        self.results = {}        # connection id -> dict
        self.errors = []
        self.listen_time = None
        self.conns = []
        self.io_timeout = 60.0
        self.gate = None         # threading.Barrier for F_TOGETHER
        self._stop = False
        if listen_now:
            self.listen()

    def listen(self):
        self.sock.listen(1024)
        self.listen_time = time.monotonic()
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()

    def close(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass

    def naccepts(self):
        with self.lock:
            return len(self.accepts)

    def _accept_loop(self):
        while not self._stop:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepts.append((time.monotonic(), peer))
                self.open += 1
                self.max_open = max(self.max_open, self.open)
                self.conns.append(c)
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    def _handle(self, c):
        try:
            c.settimeout(self.io_timeout)
            self._serve(c)
        except Fail as e:
            with self.lock:
                self.errors.append(str(e))
        except OSError as e:
            with self.lock:
                self.errors.append("server: %s" % e)
        finally:
            with self.lock:
                self.open -= 1
            try:
                c.close()
            except OSError:
                pass

    def _serve(self, c):
        hdr = b""
        while len(hdr) < CONN_HDR.size:
            d = c.recv(CONN_HDR.size - len(hdr))
            if not d:
                if hdr:
                    raise Fail("server: connection closed inside the header")
                return   # a probe without a header
            hdr += d
        magic, cid, up, down, flags, delay_ms = CONN_HDR.unpack(hdr)
        check(magic == MAGIC, "server: bad header %r" % hdr)
        res = {"t_accept": time.monotonic()}
        with self.lock:
            self.results[cid] = res
        delay = delay_ms / 1000.0
        if flags & F_TOGETHER:
            try:
                self.gate.wait()
            except threading.BrokenBarrierError:
                raise Fail("server: conn %d: not all connections arrived together (%d of %d)"
                           % (cid, self.gate.n_waiting, self.gate.parties))

        if flags & F_ECHO:
            n = 0
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
                n += len(d)
            res["echoed"] = n
            c.shutdown(socket.SHUT_WR)
            return

        ver = Verifier(up_seed(cid))
        snd = Sender(down_seed(cid))
        res["ver"], res["snd"] = ver, snd

        if flags & F_ENDLESS:
            stop = threading.Event()
            t = threading.Thread(target=self._send_quiet, args=(c, snd, None, stop), daemon=True)
            t.start()
            res["end_up"] = ver.recv_all(c)
            stop.set()
            return

        if flags & F_AFTER_EOF:
            res["end_up"] = ver.recv_all(c)
            res["t_up_eof"] = time.monotonic()
            time.sleep(delay)
            res["t_down_start"] = time.monotonic()
            snd.send(c, down)
            c.shutdown(socket.SHUT_WR)
            res["t_down_done"] = time.monotonic()
            return

        if flags & F_SERVER_FIRST:
            snd.send(c, down)
            c.shutdown(socket.SHUT_WR)
            res["t_down_done"] = time.monotonic()
            res["end_up"] = ver.recv_all(c)
            res["t_up_eof"] = time.monotonic()
            return

        # both ways at once, no half-close before every byte arrived: read
        # exactly `up` bytes, then the client's EOF, then close
        err = []
        t = threading.Thread(target=self._send_down, args=(c, snd, down, err), daemon=True)
        t.start()
        end = ver.recv_all(c, limit=up)
        t.join(self.io_timeout)
        check(not t.is_alive(), "server: conn %d: sending the download did not finish" % cid)
        if err:
            raise Fail("server: conn %d: sending the download: %s" % (cid, err[0]))
        if end == "limit":
            how, _, extra = wait_closed(c, self.io_timeout)
            end = how if extra == 0 else "%d bytes more than expected" % extra
        res["end_up"] = end
        res["t_up_eof"] = time.monotonic()

    @staticmethod
    def _send_down(c, snd, down, err):
        try:
            snd.send(c, down)
        except OSError as e:
            err.append(str(e))

    @staticmethod
    def _send_quiet(c, snd, n, stop):
        try:
            snd.send(c, n, stop)
        except OSError:
            pass


# ---------------------------------------------------------------- client

class Target:
    def __init__(self, args, dest_addr):
        self.dest_addr = dest_addr
        self.direct = args.direct
        self.fwd = args.fwd
        self.ready = args.fwd_ready
        self.fwd_host = args.fwd_host
        self.ready_timeout = args.ready_timeout
        self._addr = None

    def addr(self):
        if self._addr is None:
            if self.direct:
                self._addr = self.dest_addr
            elif self.fwd:
                self._addr = parse_hostport(self.fwd)
            elif self.ready:
                self._addr = (self.fwd_host, read_ready_port(self.ready, self.ready_timeout))
            else:
                raise Fail("no forwarder address: give --fwd, --fwd-ready or --direct")
        return self._addr

    def connect(self, src=None, timeout=30.0):
        host, port = self.addr()
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.settimeout(timeout)
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        return s


def send_header(s, cid, up, down, flags=0, delay=0.0):
    s.sendall(CONN_HDR.pack(MAGIC, cid, up, down, flags, int(delay * 1000)))


def wait_closed(s, timeout):
    """Reads until the peer closes.  Returns (how, seconds, bytes received)."""
    t0 = time.monotonic()
    s.settimeout(timeout)
    got = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return "eof", time.monotonic() - t0, got
            got += len(d)
    except ConnectionResetError:
        return "reset", time.monotonic() - t0, got
    except socket.timeout:
        return "open", time.monotonic() - t0, got


def mbps(nbytes, secs):
    return nbytes / MiB / secs if secs > 0 else float("inf")


# ---------------------------------------------------------------- scenarios

def setup(args, listen_now=True):
    host, port = parse_hostport(args.dest)
    dest = DestServer(host, port, listen_now=listen_now)
    dest.io_timeout = args.io_timeout
    if args.dest_port_file:
        write_file(args.dest_port_file, "PORT %d\n" % dest.port)
    return dest, Target(args, dest.sock.getsockname()[:2])


def check_server_result(dest, cid, up, sender):
    res = dest.results.get(cid)
    check(res is not None, "conn %d: the destination never got its header" % cid)
    ver = res["ver"]
    check(res.get("end_up") == "eof",
          "conn %d: the destination's read ended with %s after %d bytes, not EOF"
          % (cid, res.get("end_up"), ver.got))
    check(ver.bad is None, "conn %d: client->server byte %d is wrong" % (cid, ver.bad or 0))
    check(ver.got == up, "conn %d: client->server delivered %d bytes, sent %d" % (cid, ver.got, up))
    check(ver.hexdigest() == sender.hexdigest(),
          "conn %d: client->server sha256 differs: sent %s, received %s"
          % (cid, sender.hexdigest(), ver.hexdigest()))


def cmd_relay(args):
    dest, tgt = setup(args)
    n = args.conns
    barrier = threading.Barrier(n, timeout=args.io_timeout) if args.together else None
    flags = 0
    if args.half_close == "client-first":
        flags |= F_AFTER_EOF
    elif args.half_close == "server-first":
        flags |= F_SERVER_FIRST
    if args.together:
        flags |= F_TOGETHER
        dest.gate = threading.Barrier(n, timeout=args.io_timeout)
    results = [None] * n
    tgt.addr()

    def one(i):
        cid = i + 1
        r = {"ok": False}
        results[i] = r
        try:
            s = tgt.connect(src=args.src, timeout=args.io_timeout)
            r["t_conn"] = time.monotonic()
            send_header(s, cid, args.up, args.down, flags, args.delay)
            if barrier:
                barrier.wait()
            snd = Sender(up_seed(cid))
            ver = Verifier(down_seed(cid))
            r["snd"], r["ver"] = snd, ver
            if flags & F_SERVER_FIRST:
                r["end_down"] = ver.recv_all(s)
                r["t_down_eof"] = time.monotonic()
                time.sleep(args.delay)
                snd.send(s, args.up)
                s.shutdown(socket.SHUT_WR)
                r["t_up_done"] = time.monotonic()
                how, _, extra = wait_closed(s, args.io_timeout)
                r["after"] = (how, extra)
            else:
                err = []
                halfclose = bool(flags & F_AFTER_EOF)

                def up():
                    try:
                        snd.send(s, args.up)
                        if halfclose:
                            s.shutdown(socket.SHUT_WR)
                        r["t_up_done"] = time.monotonic()
                    except OSError as e:
                        err.append(str(e))
                t = threading.Thread(target=up, daemon=True)
                t.start()
                # with a half-close the reply ends with EOF; without, read exactly
                # `down` bytes, then shut down and expect EOF with nothing more
                end = ver.recv_all(s, limit=None if halfclose else args.down)
                r["t_down_eof"] = time.monotonic()
                t.join(args.io_timeout)
                if t.is_alive():
                    raise Fail("conn %d: sending the upload did not finish" % cid)
                if err:
                    raise Fail("conn %d: sending the upload failed: %s" % (cid, err[0]))
                if end == "limit":
                    s.shutdown(socket.SHUT_WR)
                    how, _, extra = wait_closed(s, args.io_timeout)
                    end = how if extra == 0 else "%d bytes more than expected" % extra
                r["end_down"] = end
            s.close()
            r["ok"] = True
        except (OSError, threading.BrokenBarrierError) as e:
            r["err"] = "conn %d: %s: %s" % (cid, type(e).__name__, e)
        except Fail as e:
            r["err"] = str(e)

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.io_timeout * 3)
    elapsed = time.monotonic() - t0
    # let the last server threads finish their bookkeeping
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with dest.lock:
            if dest.open == 0:
                break
        time.sleep(0.02)

    problems = []
    for t in threads:
        if t.is_alive():
            problems.append("a client thread is still running after %ss" % (args.io_timeout * 3))
            break
    for i, r in enumerate(results):
        cid = i + 1
        try:
            check(r is not None and r.get("ok"), (r or {}).get("err", "conn %d: did not finish" % cid))
            ver, snd = r["ver"], r["snd"]
            check(r["end_down"] == "eof", "conn %d: the client's read ended with %s after %d bytes, not EOF"
                  % (cid, r["end_down"], ver.got))
            check(ver.bad is None, "conn %d: server->client byte %d is wrong" % (cid, ver.bad or 0))
            check(ver.got == args.down, "conn %d: server->client delivered %d bytes, sent %d"
                  % (cid, ver.got, args.down))
            sres = dest.results.get(cid)
            check(sres is not None, "conn %d: the destination never got its header" % cid)
            check(ver.hexdigest() == sres["snd"].hexdigest(),
                  "conn %d: server->client sha256 differs: sent %s, received %s"
                  % (cid, sres["snd"].hexdigest(), ver.hexdigest()))
            check_server_result(dest, cid, args.up, snd)
            if flags & F_AFTER_EOF:
                gap = sres["t_down_start"] - sres["t_up_eof"]
                lag = r["t_down_eof"] - r["t_up_done"]
                check(lag >= args.delay * 0.9,
                      "conn %d: reply complete %.3fs after the client's shutdown, expected >= %.1fs"
                      % (cid, lag, args.delay))
                r["lag"] = lag
                r["gap"] = gap
            if flags & F_SERVER_FIRST:
                check(r["after"] == ("eof", 0), "conn %d: after the upload the client saw %s, not EOF"
                      % (cid, r["after"]))
                lag = sres["t_up_eof"] - sres["t_down_done"]
                check(lag >= args.delay * 0.9,
                      "conn %d: upload complete %.3fs after the server's shutdown, expected >= %.1fs"
                      % (cid, lag, args.delay))
                r["lag"] = lag
        except Fail as e:
            problems.append(str(e))
    problems.extend(dest.errors)

    total_up = args.up * n
    total_down = args.down * n
    log("relay: %d connection(s)%s, %d bytes up + %d bytes down each, %.2f s"
        % (n, " open at once" if args.together else "", args.up, args.down, elapsed))
    log("relay: aggregate %.1f MiB/s up, %.1f MiB/s down (python peers; not a benchmark)"
        % (mbps(total_up, elapsed), mbps(total_down, elapsed)))
    log("relay: destination accepted %d connection(s), at most %d open at once"
        % (dest.naccepts(), dest.max_open))
    if n <= 2:
        for i, r in enumerate(results):
            cid = i + 1
            sres = dest.results.get(cid, {})
            if r and "snd" in r and "ver" in r:
                log("relay: conn %d up   sent sha256 %s" % (cid, r["snd"].hexdigest()))
                if "ver" in sres:
                    log("relay: conn %d up   recv sha256 %s (%d bytes)" % (cid, sres["ver"].hexdigest(), sres["ver"].got))
                if "snd" in sres:
                    log("relay: conn %d down sent sha256 %s" % (cid, sres["snd"].hexdigest()))
                log("relay: conn %d down recv sha256 %s (%d bytes)" % (cid, r["ver"].hexdigest(), r["ver"].got))
            if r and "lag" in r:
                log("relay: conn %d: %s side shut down first; the %s data arrived %.3f s later"
                    % (cid, "client" if flags & F_AFTER_EOF else "server",
                       "reply" if flags & F_AFTER_EOF else "upload", r["lag"]))
    else:
        ok = sum(1 for r in results if r and r.get("ok"))
        conn = sum(1 for r in results if r and "t_conn" in r)
        log("relay: %d/%d connections finished; all sha256 compared per connection and direction" % (ok, n))
        if ok < n:
            # which step the others stopped at, to tell the relay's fault from the peers'
            kinds = {}
            for r in results:
                if r and "err" in r:
                    k = re.sub(r"^conn \d+: ", "", r["err"])[:80]
                    kinds[k] = kinds.get(k, 0) + 1
            log("relay: %d/%d client connects completed; errors by kind: %s"
                % (conn, n, "; ".join("%d x %s" % (v, k) for k, v in sorted(kinds.items()))))
    if args.together:
        if dest.max_open < n:
            problems.append("only %d of %d connections were open at the destination at once"
                            % (dest.max_open, n))
    if dest.naccepts() != n:
        problems.append("destination accepted %d connections, expected %d" % (dest.naccepts(), n))
    dest.close()
    return report(problems, "relay")


def report(problems, name):
    if problems:
        for p in problems[:20]:
            log("%s: FAIL: %s" % (name, p))
        if len(problems) > 20:
            log("%s: ... and %d more" % (name, len(problems) - 20))
        return 1
    log("%s: all assertions held" % name)
    return 0


def cmd_hold(args):
    dest, tgt = setup(args, listen_now=False)
    problems = []
    up = down = 256 * 1024
    cid = 7
    s = tgt.connect(timeout=args.io_timeout)
    t_conn = time.monotonic()
    log("hold: connected to the forwarder; destination port %d is bound but not listening" % dest.port)
    if args.status_file:
        write_file(args.status_file, "connected\n")
    send_header(s, cid, up, down)
    snd = Sender(up_seed(cid))
    ver = Verifier(down_seed(cid))
    err = []

    def upl():
        try:
            snd.send(s, up)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(str(e))
    tu = threading.Thread(target=upl, daemon=True)
    tu.start()
    # the destination appears `delay` seconds after the connection arrived
    early = []

    def starter():
        time.sleep(max(0.0, t_conn + args.delay - time.monotonic()))
        early.append(dest.naccepts())
        dest.listen()
    threading.Thread(target=starter, daemon=True).start()
    try:
        end = ver.recv_all(s)
    except OSError as e:
        end = "error: %s" % e
    t_end = time.monotonic()
    tu.join(5)
    try:
        check(end == "eof", "the client's read ended with %s after %d bytes" % (end, ver.got))
        check(not err, "sending the upload failed: %s" % (err[0] if err else ""))
        check(ver.bad is None, "server->client byte %s is wrong" % ver.bad)
        check(ver.got == down, "server->client delivered %d of %d bytes" % (ver.got, down))
        check(dest.naccepts() == 1, "destination accepted %d connections, expected 1" % dest.naccepts())
        t_acc = dest.accepts[0][0]
        check(t_acc >= dest.listen_time, "accepted before listening?")
        deadline = time.monotonic() + 5
        while "end_up" not in dest.results.get(cid, {}) and time.monotonic() < deadline:
            time.sleep(0.02)
        check_server_result(dest, cid, up, snd)
        sres = dest.results[cid]
        check(ver.hexdigest() == sres["snd"].hexdigest(), "server->client sha256 differs")
        log("hold: destination listened %.2f s after the connection arrived, the forwarder connected "
            "%.2f s after that; all %d + %d bytes arrived exactly %.2f s after connecting"
            % (dest.listen_time - t_conn, t_acc - dest.listen_time, up, down, t_end - t_conn))
        check(t_acc - dest.listen_time <= args.max_retry_lag,
              "the forwarder took %.1f s to connect once the destination listened (allowed %.1f)"
              % (t_acc - dest.listen_time, args.max_retry_lag))
    except Fail as e:
        problems.append(str(e))
    problems.extend(dest.errors)
    s.close()
    dest.close()
    return report(problems, "hold")


def cmd_nodest(args):
    dest, tgt = setup(args, listen_now=False)   # bound, never listening: connects are refused
    problems = []
    s = tgt.connect(timeout=args.io_timeout)
    log("nodest: connected to the forwarder; destination port %d refuses connections" % dest.port)
    if args.send:
        s.sendall(b"x" * args.send)
    how, secs, got = wait_closed(s, args.hold + 30)
    log("nodest: the forwarder closed the client after %.2f s (%s, %d bytes received); --hold %g"
        % (secs, how, got, args.hold))
    try:
        check(how in ("eof", "reset"), "the client was not closed within %.0f s" % (args.hold + 30))
        check(got == 0, "the client received %d bytes from nowhere" % got)
        check(secs >= args.hold - 0.5,
              "closed after %.2f s: before the hold time of %g s" % (secs, args.hold))
        check(secs <= args.hold + args.slack,
              "closed after %.2f s: more than %g s after the hold time of %g s" % (secs, args.slack, args.hold))
        if args.want_eof:
            check(how == "eof", "the close was a reset, not a clean FIN")
    except Fail as e:
        problems.append(str(e))
    s.close()
    dest.close()
    return report(problems, "nodest")


def probe_closed(tgt, src, timeout):
    """Connects from src, sends a little, returns (how, seconds, bytes) until closed."""
    t0 = time.monotonic()
    try:
        s = tgt.connect(src=src, timeout=timeout)
    except ConnectionRefusedError:
        return "refused", time.monotonic() - t0, 0
    except (ConnectionResetError, ConnectionAbortedError):
        # the reset arrived before connect() returned (Python's connect with a timeout
        # polls and then reads SO_ERROR)
        return "reset", time.monotonic() - t0, 0
    try:
        send_header(s, 999, 0, 0, F_ECHO)
        s.sendall(b"ping")
    except OSError:
        pass
    how, secs, got = wait_closed(s, timeout)
    s.close()
    return how, time.monotonic() - t0, got


def echo_roundtrip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(len(msg) - len(got))
        if not d:
            break
        got += d
    return got


def open_echo(tgt, cid, src=None, timeout=10.0):
    s = tgt.connect(src=src, timeout=timeout)
    send_header(s, cid, 0, 0, F_ECHO)
    msg = b"ping %d\n" % cid
    got = echo_roundtrip(s, msg)
    check(got == msg, "conn %d: echo returned %r instead of %r" % (cid, got, msg))
    return s


def cmd_allow(args):
    dest, tgt = setup(args)
    problems = []
    try:
        for src in args.denied:
            how, secs, got = probe_closed(tgt, src, args.close_within + 5)
            log("allow: from %s (not allowed): %s after %.3f s, %d bytes received" % (src, how, secs, got))
            check(how in ("eof", "reset", "refused"), "from %s: the connection stayed open" % src)
            check(secs <= args.close_within, "from %s: closed only after %.2f s" % (src, secs))
            check(got == 0, "from %s: received %d bytes" % (src, got))
        # give a wrongly relayed connection time to show up at the destination
        time.sleep(1.0)
        log("allow: the destination saw %d connection(s) from refused sources" % dest.naccepts())
        check(dest.naccepts() == 0, "the destination saw %d connection(s) from refused sources: %s"
              % (dest.naccepts(), [a[1] for a in dest.accepts]))
        # the positive control: the allowed source gets through
        s = open_echo(tgt, 1, src=args.allowed)
        s.close()
        log("allow: from %s (allowed): echo round trip ok" % args.allowed)
        deadline = time.monotonic() + 5
        while dest.naccepts() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        check(dest.naccepts() == 1, "the destination saw %d connections, expected 1" % dest.naccepts())
    except (Fail, OSError) as e:
        problems.append(str(e))
    problems.extend(dest.errors)
    dest.close()
    return report(problems, "allow")


def cmd_maxconns(args):
    dest, tgt = setup(args)
    problems = []
    held = []
    n = args.n
    try:
        for i in range(n):
            held.append(open_echo(tgt, i + 1))
        log("maxconns: %d connections open, each echoed" % n)
        how, secs, got = probe_closed(tgt, None, args.close_within + 5)
        log("maxconns: connection %d: %s after %.3f s, %d bytes received" % (n + 1, how, secs, got))
        check(how in ("eof", "reset", "refused"), "connection %d stayed open" % (n + 1))
        check(secs <= args.close_within, "connection %d closed only after %.2f s" % (n + 1, secs))
        check(got == 0, "connection %d received %d bytes" % (n + 1, got))
        time.sleep(0.5)
        check(dest.naccepts() == n, "the destination saw %d connections, expected %d"
              % (dest.naccepts(), n))
        for s in held:   # the held ones still work
            check(echo_roundtrip(s, b"again\n") == b"again\n", "a held connection stopped echoing")
        held.pop(0).close()
        t0 = time.monotonic()
        ok = False
        last = None
        while time.monotonic() - t0 < 10:
            try:
                held.append(open_echo(tgt, 100 + n, timeout=5))
                ok = True
                break
            except (Fail, OSError) as e:
                last = e
                time.sleep(0.1)
        check(ok, "after closing one of %d, no new connection worked within 10 s (%s)" % (n, last))
        log("maxconns: after closing one, a new connection worked %.2f s later" % (time.monotonic() - t0))
    except (Fail, OSError) as e:
        problems.append(str(e))
    for s in held:
        s.close()
    problems.extend(dest.errors)
    dest.close()
    return report(problems, "maxconns")


def cmd_load(args):
    dest, tgt = setup(args)
    problems = []
    cid = 3
    s = tgt.connect(timeout=args.io_timeout)
    send_header(s, cid, 0, 0, F_ENDLESS)
    snd = Sender(up_seed(cid))
    ver = Verifier(down_seed(cid))
    stop = threading.Event()

    def upl():
        try:
            snd.send(s, None, stop)
        except OSError:
            pass
    t0 = time.monotonic()
    tu = threading.Thread(target=upl, daemon=True)
    tu.start()
    ends = []

    def downl():
        try:
            ends.append(ver.recv_all(s))
        except OSError as e:
            ends.append("error: %s" % e)
    td = threading.Thread(target=downl, daemon=True)
    td.start()
    marked = False
    while td.is_alive() and time.monotonic() - t0 < args.io_timeout:
        if not marked and time.monotonic() - t0 >= 1.0 and ver.got >= args.min_flow and snd.sent >= args.min_flow:
            log("load: flowing: %.1f MiB up, %.1f MiB down after %.2f s"
                % (snd.sent / MiB, ver.got / MiB, time.monotonic() - t0))
            if args.status_file:
                write_file(args.status_file, "flowing\n")
            marked = True
        td.join(0.05)
    t_cut = time.monotonic()
    stop.set()
    try:
        check(marked, "the transfer never reached %d bytes each way" % args.min_flow)
        check(not td.is_alive(), "the connection was not cut within %ss" % args.io_timeout)
        log("load: connection ended (%s) after %.2f s: %.1f MiB sent up, %.1f MiB received down"
            % (ends[0], t_cut - t0, snd.sent / MiB, ver.got / MiB))
        check(ver.bad is None, "server->client byte %s is wrong" % ver.bad)
        deadline = time.monotonic() + 5
        while "end_up" not in dest.results.get(cid, {}) and time.monotonic() < deadline:
            time.sleep(0.02)
        sres = dest.results.get(cid, {})
        check("end_up" in sres, "the destination side did not see the connection end")
        check(sres["ver"].bad is None, "client->server byte %s is wrong" % sres["ver"].bad)
        # the sender counts a chunk once sendall() returned: one chunk may be in flight
        check(sres["ver"].got <= snd.sent + CHUNK, "the destination got more than was sent")
        log("load: destination saw %s after %.1f MiB; every byte received both ways was right"
            % (sres["end_up"], sres["ver"].got / MiB))
    except Fail as e:
        problems.append(str(e))
    s.close()
    dest.close()
    return report(problems, "load")


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Fail("no VmRSS for pid %d" % pid)


def wait_pid_file(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                txt = f.read().split()
            if txt:
                return int(txt[0])
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise Fail("no pid in %s after %ss" % (path, timeout))


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fl = f.read().rsplit(")", 1)[1].split()
    return (int(fl[11]) + int(fl[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def nofile_limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise Fail("no 'Max open files' for pid %d" % pid)


def set_nofile(pid, soft, hard):
    """prlimit as the process's own user: root here may lack CAP_SYS_RESOURCE, and a
    process may set its own kind's soft limit anywhere up to the hard one."""
    with open("/proc/%d/status" % pid) as f:
        ids = {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("Uid:", "Gid:"))}
    r = subprocess.run(["setpriv", "--reuid=" + ids["Uid"], "--regid=" + ids["Gid"], "--clear-groups",
                        "prlimit", "--pid", str(pid), "--nofile=%d:%d" % (soft, hard)],
                       capture_output=True, text=True)
    check(r.returncode == 0, "prlimit --nofile=%d:%d failed: %s" % (soft, hard, r.stderr.strip()))


def cmd_emfile(args):
    dest, tgt = setup(args)
    pid = wait_pid_file(args.pid_file)
    problems = []
    held = waiting = None
    soft = hard = None
    try:
        held = open_echo(tgt, 1)
        soft, hard = nofile_limits(pid)
        fds = {int(x) for x in os.listdir("/proc/%d/fd" % pid)}
        lowest_free = next(i for i in range(len(fds) + 1) if i not in fds)
        set_nofile(pid, lowest_free, hard)       # the next accept() gets EMFILE
        log("emfile: the forwarder's descriptor limit is %d (was %d), %d open"
            % (lowest_free, soft, len(fds)))
        waiting = tgt.connect(timeout=10)         # completed by the kernel, in the backlog
        cpu0 = proc_cpu_s(pid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.seconds:   # the open connection keeps working
            check(echo_roundtrip(held, b"still here\n") == b"still here\n",
                  "the open connection stopped echoing while descriptors ran out")
            time.sleep(0.1)
        cpu = proc_cpu_s(pid) - cpu0
        log("emfile: %.1f s out of descriptors with a connection waiting: %.2f s CPU"
            % (args.seconds, cpu))
        check(cpu <= args.cpu_limit, "the forwarder used %.2f s CPU in %.1f s (limit %.2f): "
              "it spins on accept()" % (cpu, args.seconds, args.cpu_limit))
        check(dest.naccepts() == 1, "the destination saw %d connections, expected 1"
              % dest.naccepts())
        set_nofile(pid, soft, hard)
        soft = None
        t1 = time.monotonic()
        waiting.settimeout(args.resume_within + 5)
        send_header(waiting, 2, 0, 0, F_ECHO)
        got = echo_roundtrip(waiting, b"served\n")
        lag = time.monotonic() - t1
        log("emfile: limit restored; the waiting connection echoed %.2f s later" % lag)
        check(got == b"served\n", "the waiting connection echoed %r" % got)
        check(lag <= args.resume_within, "the waiting connection was served only after %.2f s" % lag)
    except (Fail, OSError) as e:
        problems.append(str(e))
    if soft is not None:
        try:
            set_nofile(pid, soft, hard)
        except Fail as e:
            problems.append(str(e))
    for c in (held, waiting):
        if c:
            c.close()
    problems.extend(dest.errors)
    dest.close()
    return report(problems, "emfile")


def cmd_stall(args):
    """The destination is a plain listening socket; this drives both ends."""
    host, port = parse_hostport(args.dest)
    lst = socket.socket(family_of(host), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((host, port))
    lst.listen(8)
    lst.settimeout(args.io_timeout)
    if args.dest_port_file:
        write_file(args.dest_port_file, "PORT %d\n" % lst.getsockname()[1])
    tgt = Target(args, lst.getsockname()[:2])
    tgt.addr()
    pid = wait_pid_file(args.pid_file)
    problems = []
    c = tgt.connect(timeout=args.io_timeout)
    srv, _ = lst.accept()
    srv.settimeout(args.io_timeout)
    rss_idle = vmrss_kib(pid)
    log("stall: relay pid %d: VmRSS %d KiB with one idle connection" % (pid, rss_idle))
    snd_up, snd_down = Sender(up_seed(9)), Sender(down_seed(9))
    stop = threading.Event()

    def writer(sock, snd):
        try:
            snd.send(sock, None, stop)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    tw = [threading.Thread(target=writer, args=(c, snd_up), daemon=True),
          threading.Thread(target=writer, args=(srv, snd_down), daemon=True)]
    t0 = time.monotonic()
    for t in tw:
        t.start()
    samples = []

    def sample(label):
        samples.append((label, time.monotonic() - t0, vmrss_kib(pid), snd_up.sent, snd_down.sent))
        _, at, rss, u, d = samples[-1]
        log("stall: t=%5.2f s  %-22s VmRSS %6d KiB  written so far: up %7.2f MiB, down %7.2f MiB"
            % (at, label, rss, u / MiB, d / MiB))
    # wait until the writers are held back (no progress for 0.5 s), sample A; B `seconds` later
    sample("nobody reading")
    last = (-1, -1)
    still_since = None
    while True:
        now = time.monotonic()
        cur = (snd_up.sent, snd_down.sent)
        if cur != last:
            last, still_since = cur, now
        elif now - still_since >= 0.5:
            break
        if now - t0 > args.settle_max:
            sample("still writing")
            problems.append("the writers were never held back: still writing after %.0f s" % args.settle_max)
            break
        time.sleep(0.05)
    if not problems:
        sample("nobody reading (A)")
        a_at = time.monotonic()
        time.sleep(args.seconds / 2)
        sample("nobody reading")
        time.sleep(max(0.0, a_at + args.seconds - time.monotonic()))
        sample("nobody reading (B)")
    # now read: everything the writers pushed must arrive exactly
    vu, vd = Verifier(up_seed(9)), Verifier(down_seed(9))
    ends = {}

    def reader(sock, ver, key):
        try:
            ends[key] = ver.recv_all(sock)
        except OSError as e:
            ends[key] = "error: %s" % e
    tr = [threading.Thread(target=reader, args=(srv, vu, "up"), daemon=True),
          threading.Thread(target=reader, args=(c, vd, "down"), daemon=True)]
    for t in tr:
        t.start()
    time.sleep(args.flow_seconds)
    sample("reading again")
    stop.set()
    for t in tw + tr:
        t.join(args.io_timeout)
    if problems:
        stop.set()
        for x in (c, srv, lst):
            x.close()
        return report(problems, "stall")
    try:
        a = [x for x in samples if x[0].endswith("(A)")][0]
        b = [x for x in samples if x[0].endswith("(B)")][0]
        peak = max(x[2] for x in samples)
        log("stall: VmRSS idle %d KiB, peak %d KiB, change between samples A and B %+d KiB"
            % (rss_idle, peak, b[2] - a[2]))
        log("stall: between A and B the writers got %.2f MiB up / %.2f MiB down further"
            % ((b[3] - a[3]) / MiB, (b[4] - a[4]) / MiB))
        log("stall: after reading: %.1f MiB up, %.1f MiB down delivered (%s / %s)"
            % (vu.got / MiB, vd.got / MiB, ends.get("up"), ends.get("down")))
        if args.rss_over_idle:
            check(peak - rss_idle <= args.rss_limit_kib, "VmRSS peaked %d KiB above the idle %d KiB, limit %d KiB"
                  % (peak - rss_idle, rss_idle, args.rss_limit_kib))
        else:
            check(peak <= args.rss_limit_kib, "VmRSS peaked at %d KiB, limit %d KiB" % (peak, args.rss_limit_kib))
        check(b[2] - a[2] <= args.growth_limit_kib,
              "VmRSS grew by %d KiB while nobody read (limit %d KiB)" % (b[2] - a[2], args.growth_limit_kib))
        for k, idx in (("up", 3), ("down", 4)):
            moved = b[idx] - a[idx]
            check(moved <= args.writer_limit_mib * MiB,
                  "the %s writer pushed %.1f MiB more while nobody read: no back-pressure"
                  % (k, moved / MiB))
        check(a[3] > 0 and a[4] > 0, "a writer could not write anything at all")
        check(ends.get("up") == "eof" and ends.get("down") == "eof",
              "the transfer did not end with EOF both ways: %s" % ends)
        check(vu.bad is None, "client->server byte %s is wrong" % vu.bad)
        check(vd.bad is None, "server->client byte %s is wrong" % vd.bad)
        check(vu.got == snd_up.sent and vu.hexdigest() == snd_up.hexdigest(),
              "client->server: %d bytes sent, %d delivered (sha256 %s)"
              % (snd_up.sent, vu.got, "equal" if vu.hexdigest() == snd_up.hexdigest() else "differs"))
        check(vd.got == snd_down.sent and vd.hexdigest() == snd_down.hexdigest(),
              "server->client: %d bytes sent, %d delivered (sha256 %s)"
              % (snd_down.sent, vd.got, "equal" if vd.hexdigest() == snd_down.hexdigest() else "differs"))
        log("stall: sha256 up %s, down %s: equal on both ends" % (vu.hexdigest()[:16], vd.hexdigest()[:16]))
    except Fail as e:
        problems.append(str(e))
    for x in (c, srv, lst):
        x.close()
    return report(problems, "stall")


def recv_exact(s, n):
    got = b""
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            raise Fail("EOF after %d of %d bytes" % (len(got), n))
        got += d
    return got


def finidle_case(dest, tgt, order, keep_alive, args):
    """One connection: returns a list of problems (empty when all held)."""
    T, slack = args.fin_timeout, args.slack
    c = tgt.connect(timeout=10)
    dest.sock.settimeout(10)
    d, _ = dest.sock.accept()
    d.settimeout(10)
    # closer: sends, then shuts its write side; other: the side that goes idle (after
    # keep_alive seconds of sending a little every --interval)
    closer, other = (c, d) if order == "client-first" else (d, c)
    cname, oname = ("client", "destination") if order == "client-first" else ("destination", "client")
    name = "%s, %g s of traffic" % (order, keep_alive)
    problems = []
    try:
        closer.sendall(b"q" * 1000)
        t_shut = time.monotonic()
        closer.shutdown(socket.SHUT_WR)
        check(recv_exact(other, 1000) == b"q" * 1000, "%s: the 1000 bytes arrived changed" % name)
        check(other.recv(1) == b"", "%s: no EOF after the %s's 1000 bytes" % (name, cname))
        t_eof = time.monotonic()            # the forwarder has passed the FIN on: its timer runs
        lo, hi, sent = t_shut, t_eof, 0     # the last byte moved between lo and hi
        t_end = time.monotonic() + keep_alive
        while time.monotonic() < t_end:
            time.sleep(args.interval)
            lo = time.monotonic()
            other.sendall(b"k" * 100)
            sent += 100
            check(recv_exact(closer, 100) == b"k" * 100, "%s: keep-alive bytes changed" % name)
            hi = time.monotonic()
        if keep_alive:
            log("finidle: %s: %d bytes %s -> %s in %.1f s, %.1f x the FIN timeout after the FIN: "
                "the pair stayed open" % (name, sent, oname, cname, hi - t_shut, (hi - t_shut) / T))
        # now nothing moves: the closer must see the forwarder's close (EOF) T s after the last byte
        closer.settimeout(T + slack + 10)
        try:
            d_ = closer.recv(1)
            how = "eof" if d_ == b"" else "%d unexpected bytes" % len(d_)
        except ConnectionResetError:
            how = "reset"
        except socket.timeout:
            how = "still open"
        t_close = time.monotonic()
        log("finidle: %s: the %s saw the forwarder's close (%s) %.3f s after the last byte moved "
            "(%.3f-%.3f s; --fin-timeout %g, slack %g)"
            % (name, cname, how, (t_close - lo + t_close - hi) / 2, t_close - hi, t_close - lo, T, slack))
        check(how == "eof", "%s: the %s's read ended with %s, not EOF" % (name, cname, how))
        check(t_close - lo >= T, "%s: closed %.3f s after the last byte: before the FIN timeout of %g s"
              % (name, t_close - lo, T))
        check(t_close - hi <= T + slack, "%s: closed %.3f s after the last byte: more than %g s after "
              "the FIN timeout of %g s" % (name, t_close - hi, slack, T))
        # the other side's socket is closed as well: its writes are answered with a reset
        t0 = time.monotonic()
        err = None
        while err is None and time.monotonic() - t0 < 3:
            try:
                other.send(b"x")
                time.sleep(0.05)
            except OSError as e:
                err = e.strerror or str(e)
        check(err is not None, "%s: the %s can still send 3 s after the close" % (name, oname))
        log("finidle: %s: the %s's writes fail too (%s)" % (name, oname, err))
    except (Fail, OSError) as e:
        problems.append(str(e) if isinstance(e, Fail) else "%s: %s: %s" % (name, type(e).__name__, e))
    for x in (c, d):
        x.close()
    return problems


def cmd_finidle(args):
    dest, tgt = setup(args, listen_now=False)
    dest.sock.listen(16)                 # accepted here, not by DestServer's protocol
    problems = []
    for order in args.orders.split(","):
        for keep_alive in ([0.0, args.keep_alive] if args.keep_alive else [0.0]):
            problems += finidle_case(dest, tgt, order, keep_alive, args)
    dest.close()
    return report(problems, "finidle")


def cmd_wait_listen(args):
    deadline = time.monotonic() + args.timeout

    def listening():
        found = []
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(name) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        local, state = fields[1], fields[3]
                        port = int(local.rsplit(":", 1)[1], 16)
                        if state == "0A" and port == args.port:
                            found.append(name)
            except FileNotFoundError:
                pass
        return found
    if args.absent:
        f = listening()
        if f:
            log("wait-listen: port %d IS listening (%s)" % (args.port, ", ".join(f)))
            return 1
        return 0
    while time.monotonic() < deadline:
        if listening():
            return 0
        time.sleep(0.05)
    log("wait-listen: nothing listening on port %d after %ss" % (args.port, args.timeout))
    return 1


def main(argv):
    p = argparse.ArgumentParser(prog="fwdtest.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--dest", default="127.0.0.1:0", help="destination listen HOST:PORT")
        sp.add_argument("--dest-port-file")
        sp.add_argument("--fwd", help="forwarder HOST:PORT")
        sp.add_argument("--fwd-ready", help="the forwarder's --ready-fd output file")
        sp.add_argument("--fwd-host", default="127.0.0.1", help="the forwarder's address (--fwd-ready)")
        sp.add_argument("--ready-timeout", type=float, default=15.0)
        sp.add_argument("--direct", action="store_true")
        sp.add_argument("--io-timeout", type=float, default=60.0)
        return sp

    sp = common(sub.add_parser("relay"))
    sp.add_argument("--conns", type=int, default=1)
    sp.add_argument("--up", type=int, default=MiB)
    sp.add_argument("--down", type=int, default=MiB)
    sp.add_argument("--together", action="store_true", help="all connections open at once")
    sp.add_argument("--half-close", choices=("none", "client-first", "server-first"), default="none")
    sp.add_argument("--delay", type=float, default=0.0)
    sp.add_argument("--src", help="bind the clients to this source address")
    sp.set_defaults(fn=cmd_relay)

    sp = common(sub.add_parser("hold"))
    sp.add_argument("--delay", type=float, default=10.0)
    sp.add_argument("--max-retry-lag", type=float, default=12.0)
    sp.add_argument("--status-file")
    sp.set_defaults(fn=cmd_hold)

    sp = common(sub.add_parser("nodest"))
    sp.add_argument("--hold", type=float, required=True)
    sp.add_argument("--slack", type=float, default=5.0)
    sp.add_argument("--send", type=int, default=0, help="bytes the client sends first")
    sp.add_argument("--want-eof", action="store_true")
    sp.set_defaults(fn=cmd_nodest)

    sp = common(sub.add_parser("allow"))
    sp.add_argument("--allowed", required=True)
    sp.add_argument("--denied", action="append", required=True)
    sp.add_argument("--close-within", type=float, default=1.0)
    sp.set_defaults(fn=cmd_allow)

    sp = common(sub.add_parser("maxconns"))
    sp.add_argument("--n", type=int, required=True)
    sp.add_argument("--close-within", type=float, default=1.0)
    sp.set_defaults(fn=cmd_maxconns)

    sp = common(sub.add_parser("load"))
    sp.add_argument("--status-file")
    sp.add_argument("--min-flow", type=int, default=8 * MiB)
    sp.set_defaults(fn=cmd_load)

    sp = common(sub.add_parser("stall"))
    sp.add_argument("--pid-file", required=True)
    sp.add_argument("--seconds", type=float, default=3.0, help="between samples A and B")
    sp.add_argument("--settle-max", type=float, default=10.0,
                    help="the writers must be held back within this many seconds")
    sp.add_argument("--flow-seconds", type=float, default=1.0)
    sp.add_argument("--rss-limit-kib", type=int, default=16384)
    # For a forwarder under a wrapper (memcheck) whose VmRSS is mostly the wrapper's own: the
    # limit applies to the growth over the VmRSS with one idle connection.
    sp.add_argument("--rss-over-idle", action="store_true",
                    help="--rss-limit-kib bounds the peak minus the idle VmRSS")
    sp.add_argument("--growth-limit-kib", type=int, default=512)
    sp.add_argument("--writer-limit-mib", type=float, default=2.0)
    sp.set_defaults(fn=cmd_stall)

    sp = common(sub.add_parser("finidle"))
    sp.add_argument("--fin-timeout", type=float, required=True, help="the forwarder's --fin-timeout")
    sp.add_argument("--slack", type=float, default=1.0, help="allowed lateness of the close")
    sp.add_argument("--orders", default="client-first,server-first",
                    help="who shuts down first: client-first, server-first or both")
    sp.add_argument("--keep-alive", type=float, default=0.0,
                    help="also a case with this many seconds of traffic the open way first")
    sp.add_argument("--interval", type=float, default=0.5, help="between keep-alive sends")
    sp.set_defaults(fn=cmd_finidle)

    sp = common(sub.add_parser("emfile"))
    sp.add_argument("--pid-file", required=True)
    sp.add_argument("--seconds", type=float, default=3.0, help="out of descriptors this long")
    sp.add_argument("--cpu-limit", type=float, default=0.5, help="CPU seconds allowed meanwhile")
    sp.add_argument("--resume-within", type=float, default=3.0)
    sp.set_defaults(fn=cmd_emfile)

    sp = sub.add_parser("wait-listen")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--timeout", type=float, default=10.0)
    sp.add_argument("--absent", action="store_true")
    sp.set_defaults(fn=cmd_wait_listen)

    args = p.parse_args(argv)
    try:
        return args.fn(args)
    except Fail as e:
        log("%s: FAIL: %s" % (args.cmd, e))
        return 1
    except OSError as e:
        log("%s: FAIL: %s: %s" % (args.cmd, type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
