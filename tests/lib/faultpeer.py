#!/usr/bin/env python3
"""faultpeer.py - one end of a relayed TCP connection for the fault tests
(tests/integration/6*-fault-*.sh): it sends or receives a byte stream,
paced, and reports what happened and when, so that a test can break
something in the middle (a link, a process) and judge the aftermath.

  faultpeer.py serve --port P [--bind A] [--conns N] ROLE...
      accept N connections (default 1), each one run as ROLE in a thread
      of its own; --port-file F gets "PORT n" once listening
  faultpeer.py connect --host H --port P ROLE...
      one connection as ROLE

  faultpeer.py flood --host H --port P --source A --count N [--rate R]
      N connection attempts from address A, one after the other (at most
      R a second when R is given; from when --go-file F exists); each
      waits (at most 5 s) for the other side to close.  Reports
      "flood attempts=N closed=C data=D failed=F elapsed=S t0=EPOCH [WHY=N...]": C
      closed at once (reset or EOF), D sent something (not refused), F
      failed (connect or receive; counted by WHY)

  ROLE: --send N  send N bytes (0: until the connection breaks)
        --recv N  receive N bytes, then close (0: until the connection ends)
        --rate R  pace the sender at R bytes/s (0: as fast as it goes)
        --idle    neither send nor receive: wait for the end
        --timeout S  give up after S s (default 600)

The stream is deterministic: 64 KiB chunks of a fixed pseudo-random block,
each starting with its chunk number, so the receiver compares every byte
with what must have been sent and reports the first bad offset (unless
--no-compare: then the sha256 of both ends is the check).

Reports go to stdout, one line each, "key=value" words:
  listening port=P
  conn n=I peer=ADDR t=EPOCH
  progress n=I bytes=B t=EPOCH         (every --progress bytes, default 16 MiB)
  end n=I how=HOW bytes=B ok=0|1 sha256=H elapsed=S t=EPOCH
HOW: done (N bytes moved, then closed), eof (the peer closed first),
reset, timeout (--timeout), error:ERRNO-NAME.  --progress-file F also
gets the byte count written (rewritten) as it moves, for tests that must
act mid-transfer.  Exit status 0 when every connection ended `done` with
ok=1, else 1 (the test judges the lines).
"""

import argparse
import errno
import hashlib
import os
import random
import socket
import sys
import threading
import time

CHUNK = 65536
_rng = random.Random(20261202)
BLOCK = bytes(_rng.getrandbits(8) for _ in range(CHUNK))


def chunk(i):
    """The i-th chunk of the stream: its number in 8 bytes, then BLOCK."""
    return i.to_bytes(8, "big") + BLOCK[8:]


def say(*words):
    print(" ".join(words), flush=True)


class Stream:
    """Expected bytes by offset, for the receiver's comparison."""

    def __init__(self):
        self.i = -1
        self.cur = b""

    def at(self, off, n):
        out = bytearray()
        while n > 0:
            i, o = divmod(off, CHUNK)
            if i != self.i:
                self.i, self.cur = i, chunk(i)
            take = min(n, CHUNK - o)
            out += self.cur[o:o + take]
            off += take
            n -= take
        return bytes(out)


def how_of(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, BrokenPipeError):
        return "eof"
    return "error:" + errno.errorcode.get(getattr(e, "errno", 0) or 0, str(e).replace(" ", "_"))


def progress(a, n, moved, state):
    if a.progress_file:
        tmp = a.progress_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % moved)
        os.replace(tmp, a.progress_file)
    while moved >= state[0]:
        say("progress", "n=%d" % n, "bytes=%d" % moved, "t=%.3f" % time.time())
        state[0] += a.progress


def run_conn(a, s, n):
    t0 = time.time()
    s.settimeout(a.timeout)
    h = hashlib.sha256()
    moved, ok, how = 0, 1, "done"
    nextp = [a.progress]
    deadline = t0 + a.timeout
    try:
        if a.send is not None:
            i = 0
            while a.send == 0 or moved < a.send:
                c = chunk(i)
                if a.send:
                    c = c[:a.send - moved]
                s.settimeout(max(0.001, deadline - time.time()))
                s.sendall(c)
                h.update(c)
                moved += len(c)
                i += 1
                progress(a, n, moved, nextp)
                if a.rate:
                    ahead = moved / a.rate - (time.time() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            s.shutdown(socket.SHUT_WR)
            # wait for the peer's close so "done" means it got everything
            s.settimeout(max(0.001, deadline - time.time()))
            while s.recv(65536):
                pass
        elif a.recv is not None:
            exp = Stream()
            while True:
                if a.recv and moved >= a.recv:
                    break           # all there: close (the sender sees it)
                s.settimeout(max(0.001, deadline - time.time()))
                b = s.recv(min(1 << 20, a.recv - moved) if a.recv else 1 << 20)
                if not b:
                    how = "done" if a.recv and moved == a.recv else "eof"
                    break
                if ok and a.compare and b != exp.at(moved, len(b)):
                    ok = 0
                    bad = next(k for k in range(len(b)) if b[k:k + 1] != exp.at(moved + k, 1))
                    say("mismatch", "n=%d" % n, "offset=%d" % (moved + bad))
                h.update(b)
                moved += len(b)
                progress(a, n, moved, nextp)
        else:
            s.settimeout(max(0.001, deadline - time.time()))
            how = "eof" if not s.recv(1) else "error:unexpected_data"
    except (OSError, socket.timeout) as e:
        how = how_of(e)
    finally:
        s.close()
    say("end", "n=%d" % n, "how=%s" % how, "bytes=%d" % moved, "ok=%d" % ok,
        "sha256=%s" % h.hexdigest(), "elapsed=%.3f" % (time.time() - t0), "t=%.3f" % time.time())
    return how == "done" and ok


def flood(a):
    while a.go_file and not os.path.exists(a.go_file):
        time.sleep(0.01)
    t0 = time.time()
    closed = data = failed = 0
    why = {}
    for k in range(a.count):
        if a.rate:
            ahead = k / a.rate - (time.time() - t0)
            if ahead > 0:
                time.sleep(ahead)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        s.settimeout(5)
        try:
            if a.source:
                s.bind((a.source, 0))
            s.connect((a.host, a.port))
        except ConnectionResetError:
            closed += 1     # the reset came before connect() looked
            s.close()
            continue
        except OSError as e:
            failed += 1
            why["connect-" + how_of(e)] = why.get("connect-" + how_of(e), 0) + 1
            s.close()
            continue
        try:
            if s.recv(1):
                data += 1
            else:
                closed += 1
        except ConnectionResetError:
            closed += 1
        except OSError as e:
            failed += 1
            why[how_of(e)] = why.get(how_of(e), 0) + 1
        s.close()
    say("flood", "attempts=%d" % a.count, "closed=%d" % closed, "data=%d" % data,
        "failed=%d" % failed, "elapsed=%.3f" % (time.time() - t0), "t0=%.3f" % t0,
        *("%s=%d" % kv for kv in sorted(why.items())))
    return 0 if closed == a.count else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["serve", "connect", "flood"])
    p.add_argument("--source")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--go-file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--port-file")
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--send", type=int)
    p.add_argument("--recv", type=int)
    p.add_argument("--idle", action="store_true")
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--progress", type=int, default=16 << 20)
    p.add_argument("--progress-file")
    p.add_argument("--no-compare", dest="compare", action="store_false",
                   help="receiver: only the sha256 (less CPU), no byte comparison")
    a = p.parse_args()
    if a.mode != "flood" and sum(x is not None for x in (a.send, a.recv, a.idle or None)) != 1:
        p.error("give exactly one of --send, --recv, --idle")
    good = True
    if a.mode == "flood":
        return flood(a)
    if a.mode == "connect":
        t = time.time()
        try:
            s = socket.create_connection((a.host, a.port), timeout=30)
        except OSError as e:
            say("end", "n=1", "how=connect-%s" % how_of(e), "bytes=0", "ok=0",
                "sha256=-", "elapsed=%.3f" % (time.time() - t), "t=%.3f" % time.time())
            return 1
        say("conn", "n=1", "peer=%s:%d" % s.getpeername()[:2], "t=%.3f" % time.time())
        good = run_conn(a, s, 1)
    else:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(16)
        port = ls.getsockname()[1]
        if a.port_file:
            with open(a.port_file + ".tmp", "w") as f:
                f.write("PORT %d\n" % port)
            os.replace(a.port_file + ".tmp", a.port_file)
        say("listening", "port=%d" % port)
        results, threads = [], []
        for n in range(1, a.conns + 1):
            s, peer = ls.accept()
            say("conn", "n=%d" % n, "peer=%s:%d" % peer[:2], "t=%.3f" % time.time())
            th = threading.Thread(target=lambda s=s, n=n: results.append(run_conn(a, s, n)))
            th.start()
            threads.append(th)
        ls.close()
        for th in threads:
            th.join()
        good = len(results) == a.conns and all(results)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
