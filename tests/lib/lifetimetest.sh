# shellcheck shell=bash
# tests/lib/lifetimetest.sh - shared by tests/integration/3*-lifetime-*.sh and 3*-access-*.sh
# (source after testbed.sh and plugintest.sh). A forwarder's lifetime measured against the event
# that ends its job, `pv-forwarder --list` read at each step, a recording listener on desktop,
# a probe that tells "closed at once" from "relayed".
#
#   tb_up; lt_init
#   lt_sbatch b1 "$(lt_port)" --wrap='sleep 30'    # -> LT_JOB LT_PID LT_DEST PT_LPORT (own session)
#   lt_watch b1 "$LT_PID"                           # background: when the pid is gone, in ms
#   t0=$(lt_ms); tb_run login scancel "$LT_JOB"
#   lt_gone_check b1 "$t0" 5000 "after scancel"     # measured + asserted (pt_check: goes on)
#   lt_list_check "after scancel" "$LT_PID" gone
#   pt_done
#
# Times are epoch milliseconds (lt_ms). Forwarders are told apart by their destination: each
# scenario gets its own desktop port from lt_port, so `--to desktop:PORT` names one forwarder.
# Nothing here talks to slurmctld unless it says so (the sdiag test counts RPCs).

LT_UID=
LT_SBATCH_RC=        # exit status of the last lt_sbatch
LT_STATE=            # the test user's forwarder state directory on login (/tmp/pv-forward-UID)
LT_WATCHERS=()

lt_ms() { date +%s%3N; }

# lt_init   after tb_up: pt_init, the probe script, cleanup of the background watchers
lt_init() {
    pt_init
    LT_UID=$(id -u "$TB_USER")
    LT_STATE=/tmp/pv-forward-$LT_UID
    shuf -i 20000-28999 -n 1 >"$PT_DIR/lt-port"
    install -o "$TB_USER" -m 0644 /dev/stdin "$PT_DIR/probe.py" <<<"$LT_PROBE_PY" ||
        tb_fail "cannot write $PT_DIR/probe.py"
    tb_on_down lt__stop_watchers
    tb_run login scontrol show config 2>/dev/null | grep -E '^(SLURM_VERSION|MessageTimeout|SlurmctldTimeout) ' |
        tr -s ' ' | sed 's/^/config: /' || true
}

lt__stop_watchers() {
    local p
    for p in "${LT_WATCHERS[@]}"; do kill "$p" 2>/dev/null; done
    LT_WATCHERS=()
    return 0
}

# lt_port   a desktop port for one scenario (distinct within the test, free on desktop and login)
#   (the counter lives in a file: callers use $(lt_port))
lt_port() {
    local p
    p=$(cat "$PT_DIR/lt-port")
    while :; do
        p=$((p + 1))
        tb__port_listening desktop "$p" || tb__port_listening login "$p" || break
    done
    echo "$p" >"$PT_DIR/lt-port"
    echo "$p"
}

# ---------------------------------------------------------------- forwarders

# lt_fwd_pids DEST   pids of live forwarders of the test user with --to DEST
lt_fwd_pids() {
    local p
    for p in $(pt_forwarders); do
        grep -q -- "--to $1 " <<<"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" && echo "$p"
    done
    return 0
}
# lt_fwd_pid DEST   the one live forwarder to DEST (empty, status 1 unless exactly one)
lt_fwd_pid() {
    local p
    p=$(lt_fwd_pids "$1")
    [ -n "$p" ] && [ "$(echo "$p" | wc -l)" = 1 ] || return 1
    echo "$p"
}

# lt_log PID   the forwarder's per-job log (in the user's state directory on login)
lt_log() { cat "$LT_STATE/$1.log" 2>/dev/null || true; }
# lt_before_poll PID LEAD   waits until LEAD s before forwarder PID's next look at its running
# job: LIFE_POLL_BOUND_S (120) after the log line where that look was armed (the job seen
# running, "may connect", or confirmed by HELLO). Tests that stop slurmctld to see a poll fail
# keep it down briefly so: Slurm's own timeouts (SlurmctldTimeout, 120 s) are not reached.
lt_before_poll() {
    local last t wait
    last=$(lt_log "$1" | grep -E 'may connect|: confirmed \(' | tail -n1 | cut -c1-19)
    [ -n "$last" ] && t=$(date -d "$last" +%s) || return 1
    wait=$(( t + 120 - $2 - $(date +%s) ))
    [ "$wait" -le 0 ] || sleep "$wait"
}
# lt_show_log PID [N]   its last N lines (default 30), indented
lt_show_log() {
    echo "    [forwarder $1 log, last ${2:-30} lines]"
    lt_log "$1" | tail -n "${2:-30}" | sed 's/^/    | /'
}
lt__log_has() { grep -Eq -- "$2" <<<"$(lt_log "$1")"; }
# lt_wait_log PID ERE [TIMEOUT]   the forwarder's log has a line matching ERE
lt_wait_log() { tb_wait "${3:-10}" "/$2/ in forwarder $1's log" lt__log_has "$1" "$2"; }

# lt_watch NAME PID   in the background, poll PID every 20 ms; when it has exited (a zombie
#   counts as gone) write the time (ms) to $PT_DIR/NAME.gone. Never asks slurmctld anything.
lt_watch() {
    local name=$1 pid=$2
    rm -f "$PT_DIR/$name.gone"
    (
        set +e
        while tb__pid_alive "$pid"; do sleep 0.02; done
        lt_ms >"$PT_DIR/$name.gone.tmp" && mv "$PT_DIR/$name.gone.tmp" "$PT_DIR/$name.gone"
    ) </dev/null >/dev/null 2>&1 &
    LT_WATCHERS+=($!)
}
lt__gone_known() { [ -s "$PT_DIR/$1.gone" ]; }
# lt_gone_ms NAME [TIMEOUT]   wait up to TIMEOUT s (default 0) for NAME's forwarder to be gone;
#   prints the time it went (ms); status 1 if it is still there
lt_gone_ms() {
    if [ "${2:-0}" != 0 ]; then
        tb_wait "$2" "forwarder $1 to exit" lt__gone_known "$1" 2>/dev/null || return 1
    fi
    lt__gone_known "$1" || return 1
    cat "$PT_DIR/$1.gone"
}

# lt_gone_check NAME EVENT_MS LIMIT_MS WHAT [WAIT_S]   the forwarder watched as NAME must be
#   gone at most LIMIT_MS after EVENT_MS; waits up to WAIT_S (default LIMIT/1000 + 5) from now.
#   Prints and records the measured time. Sets LT_GONE_MS (the delay, or empty).
lt_gone_check() {
    local name=$1 ev=$2 limit=$3 what=$4 wait_s=${5:-$(( $3 / 1000 + 5 ))} gone
    LT_GONE_MS=
    if gone=$(lt_gone_ms "$name" "$wait_s"); then
        LT_GONE_MS=$((gone - ev))
        pt_measure "$name: forwarder gone $LT_GONE_MS ms $what (limit $limit ms)"
        if [ "$LT_GONE_MS" -le "$limit" ]; then
            pt_good "$name: forwarder gone within $limit ms $what"
        else
            pt_bad "$name: forwarder gone only $LT_GONE_MS ms $what (limit $limit ms)"
        fi
    else
        pt_measure "$name: forwarder still there $(( $(lt_ms) - ev )) ms $what (limit $limit ms)"
        pt_bad "$name: forwarder still running $(( $(lt_ms) - ev )) ms $what (limit $limit ms)"
        return 1
    fi
}

# lt_check_alive NAME PID WHAT   the forwarder must still run
lt_check_alive() {
    if tb__pid_alive "$2"; then pt_good "$1: forwarder $2 still runs $3"
    else pt_bad "$1: forwarder $2 has exited $3 (log: $(lt_log "$2" | tail -n 3 | tr '\n' '|'))"; fi
}

# ---------------------------------------------------------------- pv-forwarder --list

# lt_list   `pv-forwarder --list` as the test user on login
lt_list() { tb_user "$TB_FORWARDER" --list 2>&1; }

# lt_list_check WHAT PID gone | JOB STATE DEST CONNS [LPORT]
#   the --list row of forwarder PID (matched by the PID column) must say exactly this; `gone`:
#   no row for PID. JOB `-` means not bound yet. Prints the whole table once.
lt_list_check() {
    local what=$1 pid=$2 out row
    shift 2
    out=$(lt_list) || pt_bad "$what: pv-forwarder --list failed: $out"
    echo "    [pv-forwarder --list: $what]"
    echo "$out" | sed 's/^/    | /'
    row=$(echo "$out" | awk -v p="$pid" '$NF == p' || true)
    if [ "$1" = gone ]; then
        pt_check_eq "" "$row" "$what: --list has no row for forwarder $pid"
        return
    fi
    local job=$1 state=$2 dest=$3 conns=$4 lport=${5:-}
    if [ -z "$row" ]; then
        pt_bad "$what: --list has no row for forwarder $pid"
        return
    fi
    # JOB STATE LISTEN DEST CONNS TO_DEST TO_CLIENT AGE PID
    read -r r_job r_state r_listen r_dest r_conns _ <<<"$row"
    pt_check_eq "$job $state $dest $conns" "$r_job $r_state $r_dest $r_conns" \
        "$what: --list JOB STATE DEST CONNS of forwarder $pid"
    if [ -n "$lport" ]; then
        pt_check_match ":$lport\$" "$r_listen" "$what: --list LISTEN $r_listen is the advertised port $lport"
    fi
    pt_check_eq "$(echo "$out" | head -n1 | awk '{print $1, $2, $3, $4, $5, $NF}')" "JOB STATE LISTEN DEST CONNS PID" \
        "$what: --list header"
}

# ---------------------------------------------------------------- launching

# lt_start NAME DESTPORT SECS CLIENT [ARGS...]   CLIENT --pv-forward=desktop:DESTPORT ARGS... (srun
#   or salloc) as the test user on login in the background (at most SECS); waits for the plugin's
#   line and the forwarder, sets LT_PID and watches it (lt_watch NAME)
lt_start() {
    local name=$1 port=$2 secs=$3 client=$4
    shift 4
    pt_bg login "$name" "$secs" "$client" --pv-forward="desktop:$port" "$@"
    pt_wait_plugin_line "$name" "desktop:$port" 30 || { pt_show "$name"; tb_fail "$name: no plugin line"; }
    LT_PID=$(lt_fwd_pid "desktop:$port") || tb_fail "$name: not exactly one forwarder to desktop:$port: $(pt_forwarder_info)"
    lt_watch "$name" "$LT_PID"
}

# lt_sbatch NAME DESTPORT SBATCH-ARGS...   sbatch --pv-forward=desktop:DESTPORT as the test user
#   on login (its own session), output of the job in $PT_DIR/NAME.job.out. Waits for sbatch.
#   Sets LT_JOB (empty if none was submitted), LT_PID (its forwarder, empty if none is left),
#   LT_DEST, PT_LPORT, LT_SBATCH_RC; prints sbatch's stderr.
lt_sbatch() {
    local name=$1 port=$2 t0
    shift 2
    LT_DEST=desktop:$port LT_JOB='' LT_PID=''
    t0=$(lt_ms)
    pt_bg login "$name" 60 sbatch --pv-forward="$LT_DEST" -o "$PT_DIR/$name.job.out" "$@"
    pt_bg_wait "$name" 60 || tb_fail "$name: sbatch did not return within 60 s"
    # shellcheck disable=SC2034  # for tests
    LT_SBATCH_RC=$PT_RC
    LT_JOB=$(pt_out "$name" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
    # A job that fails at once may have taken its forwarder along before sbatch's exit is seen
    # here: then the forwarder is known by its log.
    LT_PID=$(lt_fwd_pid "$LT_DEST" || lt_fwd_log_pid "$LT_DEST" || true)
    pt_parse_plugin_line "$name" "$LT_DEST" || PT_LPORT=
    echo "$name: sbatch $* -> exit $PT_RC, job ${LT_JOB:-none}, forwarder ${LT_PID:-none}," \
        "login:${PT_LPORT:-?}, $(( $(lt_ms) - t0 )) ms"
    pt_err "$name" | sed 's/^/    sbatch: /'
}

# lt_srun_pid NAME   the srun (or salloc) process that pt_bg NAME runs (child of its `timeout`)
lt_client_pid() {
    local w=${PT_PIDS[$1]:-} t
    [ -n "$w" ] || return 1
    t=$(pgrep -P "$w" -x timeout | head -n1) || return 1
    pgrep -P "$t" | head -n1
}

# lt_end_ms NAME   when pt_bg NAME's command exited (the mtime of its .rc file), in ms
lt_end_ms() { stat -c '%.3Y' "$PT_DIR/$1.rc" | tr -d '.'; }

# lt_ctld_ms JOBID ERE [TIMEOUT]   the time (ms) of the first slurmctld log line that names
#   JobId=JOBID and matches ERE (waits up to TIMEOUT s for it, default 10); status 1 if none
lt__ctld_line() {
    grep -E "JobId=$1([^0-9]|\$)" "$TB_LOGS/slurmctld.log" 2>/dev/null | grep -E -- "$2" | head -n1
}
lt__ctld_has() { [ -n "$(lt__ctld_line "$1" "$2")" ]; }
lt_ctld_ms() {
    local line ts
    tb_wait "${3:-10}" "slurmctld to log /$2/ for job $1" lt__ctld_has "$1" "$2" || return 1
    line=$(lt__ctld_line "$1" "$2")
    ts=${line#\[}; ts=${ts%%\]*}
    echo "    slurmctld: $line" >&2
    date -d "$ts" +%s%3N
}

# lt_job_out NAME   the batch job's output
lt_job_out() { cat "$PT_DIR/$1.job.out" 2>/dev/null || true; }

# ---------------------------------------------------------------- desktop listener and probes

# lt_recorder PORT   a listener on desktop:PORT that logs each connection ("conn ADDR"), every
#   byte it receives ("data ADDR b'...'") and each close ("closed ADDR N bytes"), and sends
#   "desktop-PORT\n" first; log $TB_LOGS/recorder-PORT.log. Waits until it listens.
lt_recorder() {
    local port=$1
    tb_bg desktop "$TB_LOGS/recorder-$port.log" python3 -u -c '
import socket, sys, threading
port = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(64)
lock = threading.Lock()
def say(*words):   # one whole line at a time: print() from two threads interleaves its pieces
    with lock:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n"); sys.stdout.flush()
def serve(c, a):
    say("conn", a[0])
    n = 0
    try:
        c.sendall(("desktop-%d\n" % port).encode())
        while True:
            d = c.recv(65536)
            if not d: break
            n += len(d); say("data", a[0], repr(d))
    except OSError as e:
        say("error", a[0], e)
    say("closed", a[0], n, "bytes")
    c.close()
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
' "$port" >/dev/null || tb_fail "cannot start the recorder on desktop:$port"
    tb_wait_port desktop "$port" 10 || tb_fail "the recorder on desktop:$port does not listen"
}
lt_recorded() { cat "$TB_LOGS/recorder-$1.log" 2>/dev/null || true; }
# lt_recorded_conns PORT   how many connections reached the recorder
lt_recorded_conns() { grep -c '^conn ' "$TB_LOGS/recorder-$1.log" 2>/dev/null || true; }

# The probe (tests run it as $PT_DIR/probe.py on any node): connect to HOST:PORT, send MSG,
# read one line; prints `connect failed: ...`, `reply: LINE`, `closed: reset [at connect] after N ms`,
# `closed: eof after N ms` or `silent for T s`. With HOLD (a file name) it keeps the connection
# open until HOLD exists (at most 120 s, or TIMEOUT when that is longer), then `released`.
LT_PROBE_PY='import os, socket, sys, time
host, port, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hold = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
t = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
t0 = time.monotonic()
ms = lambda: int((time.monotonic() - t0) * 1000)
try:
    s = socket.create_connection((host, port), timeout=t)
except ConnectionResetError:
    # accepted and reset before connect() returned
    print("closed: reset at connect after %d ms" % ms(), flush=True); sys.exit(0)
except OSError as e:
    print("connect failed:", e, flush=True); sys.exit(0)
print("connected to %s:%d from %s" % (host, port, s.getsockname()[0]), flush=True)
try:
    s.sendall((msg + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            print("closed: eof after %d ms" % ms(), flush=True); sys.exit(0)
        buf += d
    print("reply:", buf.decode(errors="replace").strip(), flush=True)
except ConnectionResetError:
    print("closed: reset after %d ms" % ms(), flush=True); sys.exit(0)
except socket.timeout:
    print("silent for %g s" % t, flush=True); sys.exit(0)
except OSError as e:
    print("closed: %s after %d ms" % (e, ms()), flush=True); sys.exit(0)
if hold:
    end = time.monotonic() + max(120.0, t)
    while not os.path.exists(hold) and time.monotonic() < end:
        time.sleep(0.05)
    print("released", flush=True)
s.close()
'

# lt_probe NODE AS HOST PORT MSG [TIMEOUT]   run the probe in NODE as AS (root, nobody, or the
#   test user: `user`); prints its output
lt_probe() {
    local node=$1 as=$2 host=$3 port=$4 msg=$5 t=${6:-5}
    case $as in
    user) tb_run_user "$node" python3 "$PT_DIR/probe.py" "$host" "$port" "$msg" "" "$t" ;;
    root) tb_run "$node" python3 "$PT_DIR/probe.py" "$host" "$port" "$msg" "" "$t" ;;
    *)    tb_run "$node" setpriv --reuid="$as" --regid="$(id -g "$as")" --clear-groups --reset-env \
              python3 "$PT_DIR/probe.py" "$host" "$port" "$msg" "" "$t" ;;
    esac 2>&1 || echo "probe failed: status $?"
}

# lt_fwd_log_pid DEST   the pid of the newest forwarder whose log says it forwards to DEST (its
#   log outlives it); empty, status 1 if none
lt_fwd_log_pid() {
    local f
    f=$(grep -l -F -- "forwarding to $1," "$LT_STATE"/*.log 2>/dev/null | xargs -r ls -t 2>/dev/null | head -n1)
    [ -n "$f" ] || return 1
    f=${f##*/}
    echo "${f%.log}"
}

# lt_state_key PID KEY   a value from the forwarder's state file (empty if none)
lt_state_key() { sed -n "s/^$2=//p" "$LT_STATE/$1.state" 2>/dev/null || true; }

# ---------------------------------------------------------------- slurmctld restart

# lt_ctld_pid   the running slurmctld's pid (the last one tb__start recorded)
lt_ctld_pid() { awk '$1 == "slurmctld" { p = $2 } END { if (p) print p }' "$TB_STATE_DIR/pids"; }

# lt_ctld_stop   SIGTERM to slurmctld (it saves its state and exits), wait until it is gone
lt_ctld_stop() {
    local pid
    pid=$(lt_ctld_pid)
    [ -n "$pid" ] && tb__pid_alive "$pid" || { tb_log "no running slurmctld recorded"; return 1; }
    grep -qx slurmctld "/proc/$pid/comm" || { tb_log "pid $pid is not slurmctld"; return 1; }
    kill -TERM "$pid"
    tb_wait 30 "slurmctld ($pid) to exit" tb__pid_gone "$pid"
}

# lt_ctld_start   start slurmctld again exactly as tb_up does, wait until it answers ping
lt_ctld_start() {
    tb__start slurmctld login slurmctld -D -f "$SLURM_CONF"
    tb_wait 30 "slurmctld to answer ping" tb__ctld_up || { tb__daemon_died slurmctld "$TB__LAST_PID"; return 1; }
}

# Shared by the lifetime tests:
# row_is PID "JOB STATE DEST CONNS"   pv-forwarder --list shows that row for the forwarder PID
row_is() {
    [ "$(lt_list | awk -v p="$1" '$NF == p { print $1, $2, $4, $5 }')" = "$2" ]
}
# running JOBID   the job is RUNNING
running() { [ "$(tb_job_state "$1")" = RUNNING ]; }
# granted NAME   the job id salloc NAME was granted (from its stderr)
granted() { grep -Eo 'Granted job allocation [0-9]+' "$PT_DIR/$1.err" 2>/dev/null | grep -Eo '[0-9]+$'; }
