#!/usr/bin/env python3
"""tests/lib/loadprobe.py - what tests/bench-load reads from /proc (root, host PID namespace).

  loadprobe.py snap UID...          one line per live pv-forwarder of those users:
                                    pid starter threads vol_ctxt invol_ctxt cpu_ns pss_kib
                                    rss_kib private_kib  (context switches and CPU time, from
                                    /proc/PID/task/*/status and schedstat, summed over every
                                    thread; memory from /proc/PID/smaps_rollup)
  loadprobe.py delta A B SECONDS    per forwarder alive in both snapshots: wake-ups (voluntary
                                    context switches of all its threads), preemptions
                                    (involuntary ones) and CPU per second; per starter kind and
                                    over all
  loadprobe.py mem SNAP             total and mean PSS, RSS, private memory of the snapshot
  loadprobe.py pss PID...           summed PSS (KiB) of those processes (for srun & co)
  loadprobe.py pipes PID            the pipes PID holds: their sizes (F_GETPIPE_SZ through
                                    /proc/PID/fd), as "SIZE COUNT" lines

A wake-up is counted as a voluntary context switch: a thread that sleeps in epoll_wait, poll or
a futex blocks once per wake-up. Involuntary switches (preempted while running, which a busy
machine adds) are reported beside them, not counted as wake-ups.
"""
import fcntl
import os
import statistics
import sys

F_GETPIPE_SZ = 1032


def read(path):
    with open(path) as f:
        return f.read()


def forwarders(uids):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if read(f"/proc/{d}/comm").strip() != "pv-forwarder":
                continue
            st = os.stat(f"/proc/{d}")
            stat = read(f"/proc/{d}/stat")
        except OSError:
            continue
        if st.st_uid in uids and stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            yield int(d)


def starter(pid):
    argv = read(f"/proc/{pid}/cmdline").split("\0")
    return argv[argv.index("--starter") + 1] if "--starter" in argv else "-"


def threads(pid):
    vol = invol = ns = 0
    tids = os.listdir(f"/proc/{pid}/task")
    for t in tids:
        try:
            for line in read(f"/proc/{pid}/task/{t}/status").splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    invol += int(line.split()[1])
            ns += int(read(f"/proc/{pid}/task/{t}/schedstat").split()[0])   # on-CPU time
        except OSError:
            pass
    return len(tids), vol, invol, ns


def rollup(pid):
    m = {}
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines()[1:]:
        k, v = line.split(":", 1)
        m[k] = int(v.split()[0])
    return m["Pss"], m["Rss"], m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)


def snap(uids):
    for pid in forwarders(uids):
        try:
            n, vol, invol, ns = threads(pid)
            pss, rss, priv = rollup(pid)
            print(pid, starter(pid), n, vol, invol, ns, pss, rss, priv)
        except (OSError, ValueError, KeyError):
            pass      # gone meanwhile


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            out[p[0]] = (p[1],) + tuple(int(x) for x in p[2:])
    return out


def summary(vals):
    return (f"mean {statistics.mean(vals):.3f}  median {statistics.median(vals):.3f}  "
            f"min {min(vals):.3f}  max {max(vals):.3f}")


def delta(a, b, secs):
    A, B = load(a), load(b)
    kinds = {}
    for pid, vb in B.items():
        va = A.get(pid)
        if not va:
            continue
        wake = (vb[2] - va[2]) / secs
        pre = (vb[3] - va[3]) / secs
        cpu = (vb[4] - va[4]) / 1e6 / secs
        kinds.setdefault(vb[0], []).append((wake, pre, cpu))
        kinds.setdefault("all", []).append((wake, pre, cpu))
    for k in sorted(kinds, key=lambda k: (k == "all", k)):
        w = [x[0] for x in kinds[k]]
        p = [x[1] for x in kinds[k]]
        c = [x[2] for x in kinds[k]]
        print(f"  {k:7s} {len(w):4d} forwarders  wake-ups/s:    {summary(w)}")
        print(f"  {'':7s} {'':4s}              preemptions/s: mean {statistics.mean(p):.3f}")
        print(f"  {'':7s} {'':4s}              CPU ms/s:      {summary(c)}  (sum {sum(c):.3f} ms/s)")


def mem(path):
    S = load(path)
    pss = [v[5] for v in S.values()]
    rss = [v[6] for v in S.values()]
    priv = [v[7] for v in S.values()]
    thr = [v[1] for v in S.values()]
    n = len(pss)
    print(f"  {n} forwarders: PSS total {sum(pss) / 1024:.1f} MiB (mean {statistics.mean(pss) / 1024:.2f} MiB), "
          f"private total {sum(priv) / 1024:.1f} MiB (mean {statistics.mean(priv) / 1024:.2f}), "
          f"RSS mean {statistics.mean(rss) / 1024:.2f} MiB, threads {min(thr)}-{max(thr)} each")


def pss(pids):
    tot = 0
    for p in pids:
        try:
            tot += rollup(int(p))[0]
        except OSError:
            pass
    print(tot)


def pipes(pid):
    sizes = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:"):
                continue
            f = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
            try:
                sz = fcntl.fcntl(f, F_GETPIPE_SZ)
            finally:
                os.close(f)
        except OSError:
            continue
        sizes[sz] = sizes.get(sz, 0) + 1
    for sz in sorted(sizes):
        print(sz, sizes[sz])


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "snap":
        snap({int(u) for u in argv[2:]})
    elif cmd == "delta" and len(argv) == 5:
        delta(argv[2], argv[3], float(argv[4]))
    elif cmd == "mem" and len(argv) == 3:
        mem(argv[2])
    elif cmd == "pss":
        pss(argv[2:])
    elif cmd == "pipes" and len(argv) == 3:
        pipes(int(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
