#!/usr/bin/env python3
"""nattest.py - the two ends of a connection relayed through the user's ssh -R socket
(tests/integration/5*-nat-*.sh).

    nattest.py server --port P              on desktop: serves every connection (below)
    nattest.py ping --host H --port P       PING -> PONG, exit 0 if answered
    nattest.py hold --host H --port P [--timeout T]
                                            PING -> PONG, then wait until the peer closes the
                                            connection: exit 0 if it did within T s
    nattest.py bulk --host H --port P --up N --down M
                                            N bytes up, then M bytes down, each compared byte
                                            for byte with the stream tests/lib/fwdtest.py makes

A connection's first line says what it wants: "PING\\n" (the server answers "PONG\\n" and
keeps the connection until the client closes it) or "BULK N M\\n" (the server checks the N
bytes that follow, prints one line "bulk: up N bytes sha256 S first-bad B", sends M bytes and
closes).  The client prints "bulk: up N sha256 S; down M bytes first-bad B in T s (R MB/s)".
"""
import argparse
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fwdtest import Sender, Verifier  # noqa: E402

UP_SEED, DOWN_SEED = 7001, 7002


def say(*a):
    sys.stdout.write(" ".join(str(x) for x in a) + "\n")
    sys.stdout.flush()


def read_line(s):
    line = b""
    while not line.endswith(b"\n") and len(line) < 200:
        b = s.recv(1)
        if not b:
            break
        line += b
    return line.decode("ascii", "replace").strip()


def serve(c):
    try:
        cmd = read_line(c).split()
        if cmd[:1] == ["PING"]:
            c.sendall(b"PONG\n")
            while c.recv(65536):
                pass
        elif cmd[:1] == ["BULK"] and len(cmd) == 3:
            up, down = int(cmd[1]), int(cmd[2])
            v = Verifier(UP_SEED)
            v.recv_all(c, limit=up)
            say("bulk: up %d bytes sha256 %s first-bad %s" % (v.got, v.hexdigest(), v.bad))
            Sender(DOWN_SEED).send(c, down)
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
        else:
            say("server: unknown request %r" % (cmd,))
    except OSError as e:
        say("server: %s" % e)
    finally:
        c.close()


def cmd_server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(16)
    say("server: listening on port %d" % a.port)
    while True:
        c, peer = ls.accept()
        say("server: connection from %s" % (peer[0],))
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def connect(a):
    return socket.create_connection((a.host, a.port), timeout=30)


def cmd_ping(a):
    s = connect(a)
    s.sendall(b"PING\n")
    ok = read_line(s) == "PONG"
    say("ping: %s" % ("PONG" if ok else "no answer"))
    s.close()
    return 0 if ok else 1


def cmd_hold(a):
    s = connect(a)
    s.sendall(b"PING\n")
    if read_line(s) != "PONG":
        say("hold: no answer")
        return 1
    say("hold: connected")
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        while s.recv(65536):
            pass
        how = "eof"
    except socket.timeout:
        say("hold: still open after %.0f s" % a.timeout)
        return 1
    except ConnectionResetError:
        how = "reset"
    say("hold: closed by the peer (%s) after %.1f s" % (how, time.monotonic() - t0))
    return 0


def cmd_bulk(a):
    s = connect(a)
    s.settimeout(None)
    s.sendall(b"BULK %d %d\n" % (a.up, a.down))
    snd, v = Sender(UP_SEED), Verifier(DOWN_SEED)
    t0 = time.monotonic()
    up = threading.Thread(target=snd.send, args=(s, a.up))
    up.start()
    how = v.recv_all(s)
    up.join()
    dt = time.monotonic() - t0
    s.close()
    say("bulk: up %d sha256 %s; down %d bytes first-bad %s (%s) in %.2f s (%.0f MB/s)"
        % (snd.sent, snd.hexdigest(), v.got, v.bad, how, dt, (snd.sent + v.got) / dt / 1e6))
    return 0 if v.got == a.down and v.bad is None and how == "eof" else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("server")
    sp.add_argument("--port", type=int, required=True)
    sp.set_defaults(fn=cmd_server)
    for name, fn in (("ping", cmd_ping), ("hold", cmd_hold), ("bulk", cmd_bulk)):
        sp = sub.add_parser(name)
        sp.add_argument("--host", required=True)
        sp.add_argument("--port", type=int, required=True)
        if name == "hold":
            sp.add_argument("--timeout", type=float, default=30.0)
        if name == "bulk":
            sp.add_argument("--up", type=int, required=True)
            sp.add_argument("--down", type=int, required=True)
        sp.set_defaults(fn=fn)
    a = p.parse_args()
    try:
        return a.fn(a)
    except OSError as e:
        say("%s: %s: %s" % (a.cmd, type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
