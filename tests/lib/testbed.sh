# shellcheck shell=bash
# tests/lib/testbed.sh - a throwaway Slurm cluster in network namespaces (source me; bash, root).
#
#   desktop 10.231.1.2 --veth-- 10.231.1.1 login 10.231.0.1 [bridge br0] --+-- compute1 10.231.0.11
#                                   (slurmctld, srun, forwarder)            +-- compute2 10.231.0.12
#
# Compute nodes have no route beyond their bridge: connecting to desktop fails at once with
# "Network is unreachable" (TB_COMPUTE_DEFAULT_ROUTE=1 gives them a default route via login,
# then login drops the packets silently and connects time out). desktop's default route is
# login, so desktop reaches login's both addresses; login has ip_forward=0, so desktop does not
# reach the compute nodes. Real Debian daemons: munged (own socket),
# slurmctld (login), slurmd (compute1, compute2), each Slurm daemon in its own UTS namespace named
# after its node. Configuration lives in a temp dir (SLURM_CONF=$TB_DIR/etc/slurm.conf), never in
# /etc/slurm; ports 16817/16818. Names go into /etc/hosts between marker lines.
#
# Typical test:
#   . "$(dirname "$0")/../lib/testbed.sh"
#   tb_up                               # lock, build the cluster, trap EXIT/INT/TERM/HUP -> tb_down
#   out=$(tb_user srun -N2 hostname)    # as pvtest on login
#   tb_assert_match 'compute1' "$out" "srun output"
#
# Functions (see each one's comment):
#   tb_up / tb_down             bring up (lock + trap) / tear down (idempotent)
#   tb_on_down CODE             extra cleanup at teardown (do not set your own EXIT trap)
#   tb_run NODE CMD...          root in NODE (net namespace + UTS hostname NODE), SLURM_CONF set
#   tb_user CMD...              pvtest on login; tb_run_user NODE CMD... pvtest on any node
#   tb_bg NODE [--user] LOG CMD...  background process, prints its pid
#   tb_listen NODE PORT BANNER  real TCP listener; tb_tcp_probe NODE [--user] HOST PORT [T]
#   tb_wait T WHAT CMD...       poll; tb_wait_idle, tb_wait_port, tb_wait_port_closed,
#                               tb_wait_file, tb_wait_gone, tb_wait_job (+ tb_job_state)
#   tb_set_plugstack [ARGS|--none]  rewrite plugstack.conf
#   tb_mpi                      the bed's MpiDefault (pmix, or none where Slurm lacks the plugin)
#   tb_fail, tb_step, tb_assert_eq, tb_assert_match, tb_assert_no_match, tb_assert_ok,
#   tb_assert_fails             test helpers (tb_fail exits 1)
#   tb_leftovers, tb_check_clean  what a bed left behind (tb_check_clean takes the lock first)
#   tb_load_state               attach this shell to the bed that is up (what tests/testbed does)
# Variables after tb_up: SLURM_CONF TB_DIR TB_BIN TB_PLUGIN_SO TB_FORWARDER TB_EXEC_HELPER
#   TB_PLUGSTACK TB_USER_DIR (pvtest's scratch dir, cwd of tb_run_user, same path on all nodes)
#   TB_LOGS (daemon logs) TB_USER TB_ADDR_<node> TB_ADDR_login_desktop TB_CTLD_PORT.
# The build's binaries are copied into $TB_BIN at tb_up (readable by pvtest, and safe from a
# concurrent `make clean`): rebuild, then bring a new bed up.
# Ctrl-C: the trap runs when the foreground command ends; a foreground srun wants two Ctrl-C.
#
# Only one test bed runs on a machine at a time: tb_up waits (TB_LOCK_WAIT seconds) for a lock
# held by a small holder process for as long as the bed lives. State of the running bed is kept
# in /run/pv-forward-testbed/ so that `tests/testbed down` can clean up after a crashed run.
#
# Knobs (set before tb_up):
#   TB_PLUGSTACK_ARGS  extra plugstack arguments after `advertise=login`
#   TB_PLUGIN=0        leave plugstack.conf empty even when build/pv_forward.so exists
#   TB_BUILD_DIR       where pv_forward.so / pv-forwarder / pv-forward-exec are (default build/)
#   TB_LOG_DIR         copy daemon logs there at teardown
#   TB_NODE_CPUS       CPUs per compute node (default 4; slurmd uses the configured value)
#   TB_LOCK_WAIT       seconds to wait for another test bed to finish (default 1200)
#   TB_UP_TIMEOUT      seconds allowed for nodes to become idle (default 60)
#   TB_COMPUTE_DEFAULT_ROUTE=1  compute nodes get a default route via login (see above)
#   TB_CONTAIN_SPANK=1 SlurmdParameters=contain_spank (Slurm 24.05+: user_init and exit run
#                      inside the job's namespaces)
#   TB_VERBOSE=1       log each step
#   TB_SANITIZER_ENV   VAR=VALUE words (no spaces inside a value) added to the environment of
#                      slurmd (hence slurmstepd) and of every command run as the test user:
#                      tests/check-asan preloads the sanitizer runtime with it, so that an
#                      ASan-built plugin loads in srun, sbatch, salloc and slurmstepd. slurmd
#                      also gets `-d` a wrapper that execs slurmstepd with these words: slurmd
#                      runs the plugin's job prolog/epilog as `slurmstepd spank epilog` with an
#                      environment of its own making (no LD_PRELOAD), where the ASan plugin
#                      would not load; the epilog would fail and slurmd drain the node.

# ---------------------------------------------------------------- constants

TB_ROOT=${TB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TB_STATE_DIR=/run/pv-forward-testbed
TB_LOCK=/run/pv-forward-testbed.lock
TB_HISTORY=/run/pv-forward-testbed.history
TB_TMP_PATTERN=/tmp/pv-forward-testbed.
TB_NS_PREFIX=pvtb-
TB_NODES=(desktop login compute1 compute2)
TB_COMPUTE_NODES=(compute1 compute2)
TB_USER=${TB_USER:-pvtest}
TB_CTLD_PORT=16817
TB_SLURMD_PORT=16818
TB_HOSTS_BEGIN='# BEGIN pv-forward-testbed (tests/lib/testbed.sh; removed by tests/testbed down)'
TB_HOSTS_END='# END pv-forward-testbed'

# Addresses. TB_ADDR_login is login's address on the compute bridge (what "login" resolves to);
# TB_ADDR_login_desktop is login's address on the desktop link.
TB_ADDR_login=10.231.0.1
TB_ADDR_compute1=10.231.0.11
TB_ADDR_compute2=10.231.0.12
TB_ADDR_login_desktop=10.231.1.1
TB_ADDR_desktop=10.231.1.2
# shellcheck disable=SC2034  # for tests (e.g. allow= lists)
TB_NET_compute=10.231.0.0/24
# shellcheck disable=SC2034
TB_NET_desktop=10.231.1.0/24

TB_BUILD_DIR=${TB_BUILD_DIR:-$TB_ROOT/build}
TB_LOCK_WAIT=${TB_LOCK_WAIT:-1200}
TB_UP_TIMEOUT=${TB_UP_TIMEOUT:-60}
TB_NODE_CPUS=${TB_NODE_CPUS:-4}
TB_PLUGSTACK_ARGS=${TB_PLUGSTACK_ARGS:-}

# Set by tb_up / tb_load_state:
#   TB_DIR, SLURM_CONF, TB_PLUGSTACK, TB_BIN, TB_PLUGIN_SO, TB_FORWARDER, TB_EXEC_HELPER,
#   TB_USER_DIR (scratch dir owned by the test user, same path on every node), TB_LOGS
TB_DIR=${TB_DIR:-}

# ---------------------------------------------------------------- messages and asserts

tb_log()  { printf 'testbed: %s\n' "$*" >&2; }
tb_info() { [ "${TB_VERBOSE:-0}" = 1 ] && printf 'testbed: %s\n' "$*" >&2; return 0; }
# tb_fail MSG: print FAIL and exit the test (the EXIT trap tears the bed down).
tb_fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
tb_step() { printf -- '--- %s\n' "$*" >&2; }

# tb_assert_eq EXPECTED ACTUAL [WHAT]
tb_assert_eq() {
    [ "$1" = "$2" ] || tb_fail "${3:-value}: expected '$1', got '$2'"
}
# tb_assert_match ERE STRING [WHAT]  (grep -E on the whole string, multi-line allowed)
tb_assert_match() {
    grep -Eq -- "$1" <<<"$2" || tb_fail "${3:-output}: no match for /$1/ in: $2"
}
# tb_assert_no_match ERE STRING [WHAT]
tb_assert_no_match() {
    if grep -Eq -- "$1" <<<"$2"; then tb_fail "${3:-output}: unexpected /$1/ in: $2"; fi
}
# tb_assert_ok WHAT CMD...   CMD must succeed
tb_assert_ok() {
    local what=$1; shift
    "$@" || tb_fail "$what: command failed (status $?): $*"
}
# tb_assert_fails WHAT CMD...   CMD must fail
tb_assert_fails() {
    local what=$1; shift
    if "$@"; then tb_fail "$what: command succeeded but should have failed: $*"; fi
}

# tb__noerr CMD...   run CMD with errexit off (cleanup code must not stop half-way)
tb__noerr() {
    local saved=$- rc
    set +e
    "$@"
    rc=$?
    [[ $saved == *e* ]] && set -e
    return $rc
}

tb_require_root() {
    [ "$(id -u)" = 0 ] || { tb_log "the test bed needs root"; return 1; }
}

# ---------------------------------------------------------------- waiting (poll, never blind sleep)

# tb_wait TIMEOUT WHAT CMD...   poll CMD every 0.1 s until it succeeds; 1 on timeout
tb_wait() {
    local timeout=$1 what=$2; shift 2
    local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            tb_log "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

tb__nodes_idle() {
    local out
    out=$(tb_run login sinfo -h -N -o '%N %t' 2>/dev/null) || return 1
    [ "$(printf '%s\n' "$out" | grep -Ec '^compute[12] idle$')" = "${#TB_COMPUTE_NODES[@]}" ]
}
# tb_wait_idle [TIMEOUT]   every compute node idle in sinfo
tb_wait_idle() {
    tb_wait "${1:-30}" "compute nodes idle in sinfo" tb__nodes_idle || {
        tb_run login sinfo -N -l >&2 2>&1 || true
        return 1
    }
}

tb__port_listening() {   # NODE PORT
    [ -n "$(nsenter --net="$(tb_ns_path "$1")" ss -Hltn "sport = :$2" 2>/dev/null)" ]
}
# tb_wait_port NODE PORT [TIMEOUT]   a TCP socket listens on PORT in NODE's namespace
tb_wait_port() {
    tb_wait "${3:-10}" "TCP port $2 listening on $1" tb__port_listening "$1" "$2"
}
tb__port_closed() { ! tb__port_listening "$@"; }
# tb_wait_port_closed NODE PORT [TIMEOUT]
tb_wait_port_closed() {
    tb_wait "${3:-10}" "TCP port $2 closed on $1" tb__port_closed "$1" "$2"
}

tb__file_matches() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }
# tb_wait_file FILE ERE [TIMEOUT]   FILE exists and has a line matching ERE
tb_wait_file() {
    tb_wait "${3:-10}" "/$2/ in $1" tb__file_matches "$1" "$2" || {
        [ -f "$1" ] && { tb_log "content of $1:"; tail -n 20 "$1" >&2; }
        return 1
    }
}

# A zombie counts as gone: whoever reaps orphans here (pid 1) may take its time.
tb__pid_alive() {
    local st
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ] && [ "${st%% *}" != X ]
}
tb__pid_gone() { ! tb__pid_alive "$1"; }
# tb_wait_gone PID [TIMEOUT]   process PID has exited
tb_wait_gone() { tb_wait "${2:-10}" "pid $1 to exit" tb__pid_gone "$1"; }

# tb_job_state JOBID   prints the job's state (PENDING, RUNNING, COMPLETED, FAILED, ...)
tb_job_state() {
    tb_run login scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2
}
tb__job_ended() {
    case $(tb_job_state "$1") in
    ""|PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT) return 1 ;;
    esac
}
# tb_wait_job JOBID [TIMEOUT]   wait until the job has ended; prints its final state
tb_wait_job() {
    tb_wait "${2:-30}" "job $1 to end" tb__job_ended "$1" || return 1
    tb_job_state "$1"
}

# ---------------------------------------------------------------- running things in the nodes

tb_ns_name() { printf '%s%s' "$TB_NS_PREFIX" "$1"; }
tb_ns_path() { printf '/var/run/netns/%s%s' "$TB_NS_PREFIX" "$1"; }

tb__check_node() {
    local n
    for n in "${TB_NODES[@]}"; do [ "$n" = "$1" ] && { [ -e "$(tb_ns_path "$1")" ] && return 0
        tb_log "node $1: no namespace (is the test bed up?)"; return 1; }; done
    tb_log "unknown node '$1' (nodes: ${TB_NODES[*]})"
    return 1
}

# The command chain execs all the way down: nsenter -> unshare -> sh -> [setpriv ->] env -> CMD,
# so a background invocation's $! is the pid of CMD itself.
#   tb__cmd NODE USER|"" CMD...  prints nothing, sets array TB__CMD
tb__cmd() {
    local node=$1 user=$2; shift 2
    TB__CMD=(nsenter --net="$(tb_ns_path "$node")" unshare --uts /bin/sh -c
        'hostname "$0" || exit 125; if [ -n "$1" ]; then cd "$1" || exit 125; fi; shift; exec "$@"' "$node")
    if [ -n "$user" ]; then
        # TMPDIR: what the user's programs leave in temp dirs (OpenMPI's session directory of
        # pvpython and pvserver, ...) goes with the bed, not into /tmp; jobs inherit it.
        # shellcheck disable=SC2206  # TB_SANITIZER_ENV: VAR=VALUE words
        TB__CMD+=("${TB_USER_DIR:-/}" setpriv --reuid="$user" --regid="$user" --init-groups --reset-env
            env SLURM_CONF="${SLURM_CONF:-}" LANG=C.UTF-8 ${TB_DIR:+TMPDIR="$TB_DIR/tmp/user"} \
            ${TB_SANITIZER_ENV:-} "$@")
    else
        TB__CMD+=("" env SLURM_CONF="${SLURM_CONF:-}" "$@")
    fi
}

# tb_run NODE CMD...        as root in NODE's network namespace, hostname NODE, SLURM_CONF set
tb_run() {
    tb__check_node "$1" || return 125
    local node=$1; shift
    tb__cmd "$node" "" "$@"
    "${TB__CMD[@]}"
}
# tb_run_user NODE CMD...   as the test user (pvtest) in NODE, clean environment + SLURM_CONF,
#                           working directory $TB_USER_DIR
tb_run_user() {
    tb__check_node "$1" || return 125
    local node=$1; shift
    tb__cmd "$node" "$TB_USER" "$@"
    "${TB__CMD[@]}"
}
# tb_user CMD...            as pvtest on login (srun/sbatch/salloc run here), hostname `login`
tb_user() { tb_run_user login "$@"; }

# tb_bg NODE [--user] LOGFILE CMD...   start CMD in the background (stdin /dev/null, stdout and
#   stderr to LOGFILE), in its own session; prints its pid. Teardown kills it in any case.
tb_bg() {
    tb__check_node "$1" || return 125
    local node=$1 user=""; shift
    if [ "${1:-}" = --user ]; then user=$TB_USER; shift; fi
    local log=$1; shift
    tb__cmd "$node" "$user" "$@"
    setsid "${TB__CMD[@]}" </dev/null >>"$log" 2>&1 &
    local pid=$!
    [ -d "$TB_STATE_DIR" ] && echo "bg $pid" >>"$TB_STATE_DIR/pids"
    echo "$pid"
}

# tb_listen NODE PORT BANNER [LOGFILE]   a real TCP listener (0.0.0.0:PORT) in NODE that sends
#   "BANNER\n" to every client and closes; waits until it listens; prints its pid.
tb_listen() {
    local node=$1 port=$2 banner=$3 log=${4:-$TB_LOGS/listen-$1-$2.log} pid
    pid=$(tb_bg "$node" "$log" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    c, a = s.accept(); print("connection from", a[0], flush=True)
    try: c.sendall((sys.argv[2] + "\n").encode())
    except OSError: pass
    c.close()
' "$port" "$banner") || return 1
    tb_wait_port "$node" "$port" 10 || return 1
    echo "$pid"
}

# tb_tcp_probe NODE [--user] HOST PORT [TIMEOUT]   open a TCP connection from NODE; prints the
#   first line the peer sends (if any within TIMEOUT). Status 0 iff the connection was made.
tb_tcp_probe() {
    local node=$1 runner=tb_run; shift
    if [ "${1:-}" = --user ]; then runner=tb_run_user; shift; fi
    local host=$1 port=$2 t=${3:-3}
    "$runner" "$node" timeout "$t" bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        IFS= read -r -t "$2" line <&3 && printf "%s\n" "$line"
        exit 0' "$host" "$port" "$t" 2>/dev/null
}

# ---------------------------------------------------------------- plugstack

# tb_set_plugstack [ARGS...]   rewrite plugstack.conf: `required pv_forward.so forwarder=...
#   [exec=...] advertise=login ARGS` (exec= when build/pv-forward-exec exists; later keys
#   override earlier ones); `tb_set_plugstack --none` empties it. Slurm re-reads it at each launch.
tb_set_plugstack() {
    [ -n "$TB_DIR" ] || { tb_log "tb_set_plugstack: test bed not up"; return 1; }
    if [ "${1:-}" = --none ]; then
        : >"$TB_PLUGSTACK"
    elif [ -f "$TB_PLUGIN_SO" ]; then
        local exec_arg=""
        [ -f "$TB_EXEC_HELPER" ] && exec_arg=" exec=$TB_EXEC_HELPER"
        printf 'required %s forwarder=%s%s advertise=login%s\n' "$TB_PLUGIN_SO" "$TB_FORWARDER" \
            "$exec_arg" "${*:+ $*}" >"$TB_PLUGSTACK"
    else
        tb_log "tb_set_plugstack: no plugin at $TB_PLUGIN_SO (was build/pv_forward.so built?)"
        return 1
    fi
    chmod 0644 "$TB_PLUGSTACK"
}

# ---------------------------------------------------------------- state

tb__state_get() {   # KEY -> value from $TB_STATE_DIR/env; empty (status 0) if absent
    local k v
    [ -f "$TB_STATE_DIR/env" ] || return 0
    while IFS='=' read -r k v; do
        [ "$k" = "$1" ] && { printf '%s\n' "$v"; return 0; }
    done <"$TB_STATE_DIR/env" 2>/dev/null
    return 0
}
tb__state_set() { printf '%s=%s\n' "$1" "$2" >>"$TB_STATE_DIR/env"; }

tb__set_paths() {
    SLURM_CONF=$TB_DIR/etc/slurm.conf
    TB_PLUGSTACK=$TB_DIR/etc/plugstack.conf
    TB_BIN=$TB_DIR/bin
    TB_PLUGIN_SO=$TB_BIN/pv_forward.so
    TB_FORWARDER=$TB_BIN/pv-forwarder
    TB_EXEC_HELPER=$TB_BIN/pv-forward-exec
    TB_USER_DIR=$TB_DIR/user
    TB_LOGS=$TB_DIR/log
    export SLURM_CONF TB_DIR TB_PLUGSTACK TB_BIN TB_PLUGIN_SO TB_FORWARDER TB_EXEC_HELPER \
        TB_USER_DIR TB_LOGS
}

# tb_load_state   point this shell at the running test bed (for tests/testbed run/status)
tb_load_state() {
    TB_DIR=$(tb__state_get TB_DIR)
    [ -n "$TB_DIR" ] || { tb_log "no test bed is up"; return 1; }
    tb__set_paths
}

# ---------------------------------------------------------------- the lock

tb__pid_cmdline_has() {   # PID STRING: /proc/PID/cmdline contains STRING
    [ -r "/proc/$1/cmdline" ] && grep -qF -- "$2" <<<"$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")"
}

# The lock is held by `flock -o LOCK sh -c ...` (the holder) for the bed's whole life, so no
# process of the test (or daemon) inherits the lock. The holder's child watches the owner
# process and exits when it dies (a kill -9'd test frees the lock); owner "cli" = until `down`.
tb__lock() {   # OWNER
    local owner=$1 ready pid child="" waited=0 start
    ready=$(mktemp /run/pv-forward-testbed-ready.XXXXXX) || return 1
    start=$(date +%s)
    setsid flock -o -w "$TB_LOCK_WAIT" -E 75 "$TB_LOCK" /bin/sh -c '
        echo $$ >"$1"
        alive() { [ "$1" = cli ] && return 0
                  { read -r l </proc/"$1"/stat; } 2>/dev/null || return 1
                  case ${l##*) } in Z*|X*) return 1 ;; esac; }
        while alive "$2"; do sleep 1; done' tb-lock-holder "$ready" "$owner" \
        </dev/null >/dev/null 2>&1 9>&- &
    pid=$!
    while :; do
        child=$(cat "$ready" 2>/dev/null)
        [ -n "$child" ] && break
        if ! tb__pid_alive "$pid"; then
            rm -f "$ready"
            tb_log "could not get the test bed lock $TB_LOCK within ${TB_LOCK_WAIT}s" \
                "(held by owner $(tb__state_get TB_OWNER 2>/dev/null || echo '?'); 'tests/testbed status')"
            return 1
        fi
        if [ "$waited" = 0 ] && [ $(( $(date +%s) - start )) -ge 2 ]; then
            waited=1
            tb_log "waiting for another test bed to finish (owner: $(tb__state_get TB_OWNER 2>/dev/null || echo '?'))"
        fi
        sleep 0.05
    done
    rm -f "$ready"
    TB__HOLDER_PID=$pid TB__HOLDER_CHILD=$child
    # who had the bed when (for 'tests/testbed status' and for anyone wondering why they waited)
    printf '%s waited=%ss owner=%s %s\n' "$(date '+%F %T')" "$(( $(date +%s) - start ))" "$owner" \
        "$(tr '\0' ' ' 2>/dev/null </proc/"$owner"/cmdline | cut -c1-160)" >>"$TB_HISTORY"
    if [ "$(wc -l <"$TB_HISTORY")" -gt 400 ]; then
        tail -n 200 "$TB_HISTORY" >"$TB_HISTORY.new" && mv "$TB_HISTORY.new" "$TB_HISTORY"
    fi
}

tb__unlock() {   # HOLDER_PID HOLDER_CHILD (either may be empty)
    local p
    for p in "$2" "$1"; do
        [ -n "$p" ] || continue
        # only kill what still is our holder (pid reuse)
        if tb__pid_cmdline_has "$p" tb-lock-holder || tb__pid_cmdline_has "$p" "$TB_LOCK"; then
            kill -TERM "$p" 2>/dev/null
        fi
    done
    [ -n "$1" ] && tb_wait 5 "lock holder $1 to exit" tb__pid_gone "$1"
    return 0
}

# ---------------------------------------------------------------- teardown

tb__live() {   # filter: keep the pids (one a line) that are not zombies
    local p
    while read -r p; do [ -n "$p" ] && tb__pid_alive "$p" && echo "$p"; done
    return 0
}
tb__ns_pids() {   # pids of every live process in any of the bed's network namespaces
    local n
    for n in "${TB_NODES[@]}"; do
        if [ -e "$(tb_ns_path "$n")" ]; then ip netns pids "$(tb_ns_name "$n")" 2>/dev/null || true; fi
    done | tb__live
}
tb__user_pids() {   # live processes of the test user
    id -u "$TB_USER" >/dev/null 2>&1 || return 0
    { pgrep -u "$TB_USER" 2>/dev/null || true; } | tb__live
}
tb__nothing_running() { [ -z "$(tb__ns_pids)$(tb__user_pids)" ]; }

tb__kill_all() {   # every process in the namespaces and every test-user process: TERM, then KILL
    local pids
    pids=$(tb__ns_pids; tb__user_pids)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    tb_wait 3 "test bed processes to exit" tb__nothing_running 2>/dev/null && return 0
    local i
    for i in 1 2 3 4 5; do
        pids=$(tb__ns_pids; tb__user_pids)
        [ -n "$pids" ] || return 0
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        tb_wait 2 "killed processes to go" tb__nothing_running 2>/dev/null && return 0
    done
    tb_log "processes still alive: $(tb__ns_pids; tb__user_pids | tr '\n' ' ')"
    return 1
}

tb__kill_recorded() {   # daemons outside the namespaces (munged), by recorded pid + name check
    local name pid
    [ -f "$TB_STATE_DIR/pids" ] || return 0
    while read -r name pid; do
        if [ -z "$pid" ] || [ ! -d "/proc/$pid" ]; then continue; fi
        case $name in
        munged) grep -qx munged "/proc/$pid/comm" 2>/dev/null || continue ;;
        *) continue ;;   # everything else lives in a namespace: tb__kill_all got it
        esac
        kill -TERM "$pid" 2>/dev/null
        tb_wait 5 "$name ($pid) to exit" tb__pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
    done <"$TB_STATE_DIR/pids"
    return 0
}

tb__hosts_remove() {
    grep -qxF "$TB_HOSTS_BEGIN" /etc/hosts 2>/dev/null || return 0
    local tmp
    tmp=$(mktemp) || return 1
    awk -v b="$TB_HOSTS_BEGIN" -v e="$TB_HOSTS_END" '
        $0 == b { skip = 1; next }
        skip && $0 == e { skip = 0; next }
        !skip { print }' /etc/hosts >"$tmp" &&
        cat "$tmp" >/etc/hosts   # keep the inode: /etc/hosts may be a bind mount
    rm -f "$tmp"
}

tb__hosts_add() {
    tb__hosts_remove
    [ -s /etc/hosts ] && [ -n "$(tail -c1 /etc/hosts)" ] && echo >>/etc/hosts
    {
        echo "$TB_HOSTS_BEGIN"
        echo "$TB_ADDR_login login"
        echo "$TB_ADDR_compute1 compute1"
        echo "$TB_ADDR_compute2 compute2"
        echo "$TB_ADDR_desktop desktop"
        echo "$TB_HOSTS_END"
    } >>/etc/hosts
}

# Tear down whatever the state dir (and the fixed names) describe. Caller holds the lock or
# owns the holder. Returns non-zero if something could not be removed.
tb__user_fwd_state() {   # the test user's pv-forwarder state directory (forwarder/state.c)
    local uid
    uid=$(id -u "$TB_USER" 2>/dev/null) && [ "$uid" != 0 ] && echo "/tmp/pv-forward-$uid"
}

tb__teardown() {
    local rc=0 dir n fwd_state logdir=${TB_LOG_DIR:-}
    dir=$(tb__state_get TB_DIR 2>/dev/null || true)
    tb__kill_all || rc=1
    tb__kill_recorded
    for n in "${TB_NODES[@]}"; do
        if [ -e "$(tb_ns_path "$n")" ]; then
            ip netns del "$(tb_ns_name "$n")" 2>/dev/null || { tb_log "cannot delete netns $(tb_ns_name "$n")"; rc=1; }
        fi
    done
    tb__hosts_remove || rc=1
    if [ -n "$dir" ] && [ "${dir#"$TB_TMP_PATTERN"}" != "$dir" ] && [ -d "$dir" ]; then
        if [ -n "$logdir" ] && [ -d "$dir/log" ]; then
            mkdir -p "$logdir" && cp -r "$dir/log/." "$logdir/" 2>/dev/null
            [ -f "$dir/etc/slurm.conf" ] && cp "$dir/etc/slurm.conf" "$dir/etc/plugstack.conf" "$logdir/" 2>/dev/null
        fi
        rm -rf "$dir" || rc=1
    fi
    # The test user's forwarder state and per-job logs (pv-forwarder --list) are the bed's too.
    fwd_state=$(tb__user_fwd_state)
    if [ -n "$fwd_state" ] && [ -d "$fwd_state" ]; then
        [ -n "$logdir" ] && mkdir -p "$logdir/pv-forward-state" &&
            cp -r "$fwd_state/." "$logdir/pv-forward-state/" 2>/dev/null
        rm -rf "$fwd_state" || rc=1
    fi
    # With the lock held, any other temp dir of ours is a crashed run's, and so is an OpenMPI
    # session directory of the test user in /tmp (a bed before TMPDIR pointed into the bed).
    for dir in "$TB_TMP_PATTERN"*; do
        [ -d "$dir" ] && { rm -rf "$dir" || rc=1; }
    done
    for dir in /tmp/ompi.*; do
        [ -d "$dir" ] && [ "$(stat -c %U "$dir")" = "$TB_USER" ] && { rm -rf "$dir" || rc=1; }
    done
    rm -rf "$TB_STATE_DIR"
    return $rc
}

# tb_down   tear down the bed this process brought up (idempotent; no-op if not ours)
tb_down() {
    local saved=$- rc=0 owner holder child i
    set +e
    owner=$(tb__state_get TB_OWNER 2>/dev/null)
    if [ -n "$owner" ] && [ "$owner" = "${TB__OWNER:-}" ]; then
        for ((i = ${#TB__CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${TB__CLEANUPS[i]}"; done
        TB__CLEANUPS=()
        holder=$(tb__state_get TB_HOLDER_PID) child=$(tb__state_get TB_HOLDER_CHILD)
        tb__teardown || rc=1
        tb__unlock "$holder" "$child"
        TB__OWNER=""
        tb_info "down"
    fi
    [[ $saved == *e* ]] && set -e
    return $rc
}

# tb_on_down SHELL-CODE   run SHELL-CODE (eval) at teardown, before the processes are killed
TB__CLEANUPS=()
tb_on_down() { TB__CLEANUPS+=("$1"); }

tb__exit_trap() {
    local rc=$?
    trap - EXIT INT TERM HUP
    tb_down || { tb_log "teardown reported problems"; [ "$rc" = 0 ] && rc=1; }
    exit "$rc"
}

# tb_leftovers   prints what a bed left behind (namespaces, hosts lines, test-user processes,
#   state, temp dirs); status 1 if anything. Only meaningful while holding the lock.
tb_leftovers() {
    local found=0 ns p
    ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$TB_NS_PREFIX") && {
        echo "network namespaces: $(echo "$ns" | tr '\n' ' ')"; found=1; }
    grep -qF 'pv-forward-testbed' /etc/hosts && { echo "/etc/hosts lines: $(grep -c . /etc/hosts) lines, marker present"; found=1; }
    p=$(tb__user_pids | tr '\n' ' ')
    [ -n "${p// /}" ] && { echo "$TB_USER processes: $p"; found=1; }
    [ -e "$TB_STATE_DIR" ] && { echo "state dir $TB_STATE_DIR"; found=1; }
    p=$(tb__user_fwd_state) && [ -e "$p" ] && { echo "forwarder state dir $p"; found=1; }
    for p in "$TB_TMP_PATTERN"*; do [ -e "$p" ] && { echo "temp dir $p"; found=1; }; done
    for p in /tmp/ompi.*; do   # an OpenMPI session directory of the test user outside the bed
        [ -e "$p" ] && [ "$(stat -c %U "$p")" = "$TB_USER" ] && { echo "OpenMPI session dir $p"; found=1; }
    done
    return $found
}

# tb_check_clean   wait for the lock (no bed can be up meanwhile), then report leftovers like
#   tb_leftovers; status 1 if anything is left, 2 if the lock could not be had.
tb_check_clean() {
    local fd rc
    exec {fd}>>"$TB_LOCK" || return 2
    if ! flock -n "$fd"; then
        tb_log "leftover check: waiting for a running test bed ($(tail -n1 "$TB_HISTORY" 2>/dev/null | cut -c1-120))"
    fi
    if ! flock -w "$TB_LOCK_WAIT" "$fd"; then
        exec {fd}>&-
        tb_log "tb_check_clean: could not get the lock within ${TB_LOCK_WAIT}s"
        return 2
    fi
    tb_leftovers
    rc=$?
    exec {fd}>&-
    return $rc
}

# ---------------------------------------------------------------- bring-up

tb__ensure_user() {
    id -u "$TB_USER" >/dev/null 2>&1 && return 0
    useradd -m -s /bin/bash "$TB_USER" || { tb_log "useradd $TB_USER failed"; return 1; }
}

# tb_mpi   prints the bed's MpiDefault: Slurm's PMIx plugin where the release ships it (pvserver
# is an OpenMPI program: srun starts its ranks through PMIx); Debian's Slurm 26.05 has none, and
# `MpiDefault=pmix` would fail every srun there: then none, and OpenMPI starts each task as a
# singleton (several tasks of one step are as many one-rank pvservers, not one of N ranks).
tb_mpi() {
    if compgen -G "/usr/lib/*/slurm-wlm/mpi_pmix*.so" >/dev/null; then echo pmix; else echo none; fi
}

tb__write_configs() {
    local d=$TB_DIR c
    cat >"$d/etc/slurm.conf" <<EOF
# pv-forward test bed (tests/lib/testbed.sh); throwaway
ClusterName=pvtb
SlurmctldHost=login($TB_ADDR_login)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$TB_CTLD_PORT
SlurmdPort=$TB_SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket.2
StateSaveLocation=$d/ctld
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmdParameters=config_overrides${TB_CONTAIN_SPANK:+,contain_spank}
MpiDefault=$(tb_mpi)
# The compute "nodes" share one /tmp; pmix makes its per-step directory under TmpFS (%n expanded).
TmpFS=$d/tmp/%n
ReturnToService=2
MailProg=/bin/true
KillWait=5
InactiveLimit=0
MinJobAge=300
EOF
    for c in "${TB_COMPUTE_NODES[@]}"; do
        local var=TB_ADDR_$c
        echo "NodeName=$c NodeAddr=${!var} CPUs=$TB_NODE_CPUS RealMemory=1000 State=UNKNOWN" >>"$d/etc/slurm.conf"
    done
    echo "PartitionName=debug Nodes=$(IFS=,; echo "${TB_COMPUTE_NODES[*]}") Default=YES MaxTime=INFINITE State=UP" \
        >>"$d/etc/slurm.conf"

    : >"$d/etc/plugstack.conf"
    if [ "${TB_PLUGIN:-1}" != 0 ] && [ -f "$TB_PLUGIN_SO" ]; then
        # shellcheck disable=SC2086
        tb_set_plugstack $TB_PLUGSTACK_ARGS || return 1
    fi
    chmod 0644 "$d/etc/slurm.conf" "$d/etc/plugstack.conf"
}

tb__copy_build() {
    # A private copy: readable by the test user wherever the tree is, and immune to a
    # concurrent `make clean` in the shared tree while the test runs.
    local f
    for f in pv_forward.so pv-forwarder pv-forward-exec; do
        if [ -f "$TB_BUILD_DIR/$f" ]; then
            install -m 0755 "$TB_BUILD_DIR/$f" "$TB_BIN/$f" || return 1
        fi
    done
}

tb__net_up() {
    local n c var L
    L=$(tb_ns_name login)
    for n in "${TB_NODES[@]}"; do
        ip netns add "$(tb_ns_name "$n")" || return 1
        ip -n "$(tb_ns_name "$n")" link set lo up || return 1
    done
    ip -n "$L" link add br0 type bridge || return 1
    ip -n "$L" addr add "$TB_ADDR_login/24" dev br0 || return 1
    ip -n "$L" link set br0 up || return 1
    for c in "${TB_COMPUTE_NODES[@]}"; do
        var=TB_ADDR_$c
        ip -n "$L" link add "v-$c" type veth peer name eth0 netns "$(tb_ns_name "$c")" || return 1
        ip -n "$L" link set "v-$c" master br0 up || return 1
        ip -n "$(tb_ns_name "$c")" addr add "${!var}/24" dev eth0 || return 1
        ip -n "$(tb_ns_name "$c")" link set eth0 up || return 1
        if [ "${TB_COMPUTE_DEFAULT_ROUTE:-0}" = 1 ]; then
            ip -n "$(tb_ns_name "$c")" route add default via "$TB_ADDR_login" || return 1
        fi
    done
    ip -n "$L" link add v-desktop type veth peer name eth0 netns "$(tb_ns_name desktop)" || return 1
    ip -n "$L" addr add "$TB_ADDR_login_desktop/24" dev v-desktop || return 1
    ip -n "$L" link set v-desktop up || return 1
    ip -n "$(tb_ns_name desktop)" addr add "$TB_ADDR_desktop/24" dev eth0 || return 1
    ip -n "$(tb_ns_name desktop)" link set eth0 up || return 1
    ip -n "$(tb_ns_name desktop)" route add default via "$TB_ADDR_login_desktop" || return 1
    # The login node must not route between the compute network and the desktop.
    nsenter --net="$(tb_ns_path login)" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.forwarding=0 || return 1
    [ "$(nsenter --net="$(tb_ns_path login)" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || {
        tb_log "ip_forward is not 0 in login"; return 1; }
}

tb__start() {   # NAME NODE|"" CMD...   start a daemon in the foreground of its own session
    local name=$1 node=$2; shift 2
    if [ -n "$node" ]; then
        tb__cmd "$node" "" "$@"
        setsid "${TB__CMD[@]}" </dev/null >>"$TB_DIR/log/$name.out" 2>&1 &
    else
        setsid "$@" </dev/null >>"$TB_DIR/log/$name.out" 2>&1 &
    fi
    echo "$name $!" >>"$TB_STATE_DIR/pids"
    TB__LAST_PID=$!
}

tb__daemon_died() {   # NAME PID: log tail
    tb_log "$1 (pid $2) failed; its log:"
    tail -n 15 "$TB_DIR/log/$1.out" "$TB_DIR/log/$1.log" 2>/dev/null >&2
}

tb__munge_ok() {
    munge -n -S "$TB_DIR/munge/munge.socket.2" | unmunge -S "$TB_DIR/munge/munge.socket.2" >/dev/null
}
tb__ctld_up() { grep -q 'is UP' <<<"$(tb_run login scontrol ping 2>/dev/null)"; }

tb__bring_up() {
    local t0 c pid
    t0=$(date +%s%N)
    tb__ensure_user || return 1

    TB_DIR=$(mktemp -d "${TB_TMP_PATTERN}XXXXXX") || return 1
    tb__state_set TB_DIR "$TB_DIR"
    tb__set_paths
    chmod 0755 "$TB_DIR"
    mkdir -p "$TB_DIR"/{etc,bin,run,log,munge,ctld,user} || return 1
    for c in "${TB_COMPUTE_NODES[@]}"; do
        mkdir -p "$TB_DIR/spool/$c" "$TB_DIR/tmp/$c" && chmod 1777 "$TB_DIR/tmp/$c" || return 1
    done
    mkdir -p "$TB_DIR/tmp/user" && chmod 1777 "$TB_DIR/tmp/user" || return 1
    chmod 0700 "$TB_DIR/ctld"
    chown munge:munge "$TB_DIR/munge" && chmod 0755 "$TB_DIR/munge" || return 1
    chown "$TB_USER:" "$TB_USER_DIR" || return 1
    tb__copy_build || return 1
    tb__write_configs || return 1
    tb_info "config in $TB_DIR/etc"

    tb__net_up || { tb_log "network set-up failed"; return 1; }
    tb__hosts_add || return 1
    tb_info "network up"

    tb__start munged "" setpriv --reuid=munge --regid=munge --clear-groups \
        munged --foreground --socket="$TB_DIR/munge/munge.socket.2" \
        --key-file=/etc/munge/munge.key --pid-file="$TB_DIR/munge/munged.pid" \
        --seed-file="$TB_DIR/munge/munged.seed" --log-file="$TB_DIR/log/munged.log"
    pid=$TB__LAST_PID
    tb_wait 10 "munged" tb__munge_ok || { tb__daemon_died munged "$pid"; return 1; }

    tb__start slurmctld login slurmctld -D -f "$SLURM_CONF"
    pid=$TB__LAST_PID
    tb_wait 20 "slurmctld to answer ping" tb__ctld_up || { tb__daemon_died slurmctld "$pid"; return 1; }

    local stepd=()
    if [ -n "${TB_SANITIZER_ENV:-}" ]; then
        stepd=(-d "$TB_BIN/slurmstepd-sanitizer")
        printf '#!/bin/sh\nexec env %s %s "$@"\n' "$TB_SANITIZER_ENV" \
            "$(command -v slurmstepd)" >"${stepd[1]}" && chmod 0755 "${stepd[1]}" || return 1
    fi
    for c in "${TB_COMPUTE_NODES[@]}"; do
        # shellcheck disable=SC2086  # VAR=VALUE words
        tb__start "slurmd-$c" "$c" env ${TB_SANITIZER_ENV:-} slurmd -D -f "$SLURM_CONF" "${stepd[@]}"
    done
    tb_wait_idle "$TB_UP_TIMEOUT" || {
        for c in "${TB_COMPUTE_NODES[@]}"; do tb__daemon_died "slurmd-$c" "?"; done
        return 1
    }
    TB_UP_SECONDS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    tb_info "up in ${TB_UP_SECONDS}s ($TB_DIR)"
}

# tb_up   bring the bed up (waits for any other bed first), install the EXIT/INT/TERM/HUP trap
#   that tears it down. Exports SLURM_CONF, TB_DIR, TB_BIN, TB_PLUGSTACK, TB_USER_DIR, TB_LOGS...
#   Returns non-zero (after cleaning up) if the cluster does not come up.
tb_up() {
    tb__up "$$" trap
}

# tb__up OWNER trap|notrap
tb__up() {
    local owner=$1 mode=$2 stale
    tb_require_root || return 1
    if [ -n "${TB__OWNER:-}" ] && [ "$(tb__state_get TB_OWNER 2>/dev/null)" = "$TB__OWNER" ]; then
        tb_log "tb_up: this process already has a test bed up"
        return 1
    fi
    tb__lock "$owner" || return 1
    # The lock is ours: anything in the state dir or under our fixed names is a crashed run's.
    stale=$(tb__state_get TB_OWNER 2>/dev/null)
    if [ -n "$stale" ] || [ -n "$(tb_leftovers)" ]; then
        tb_log "cleaning up after a previous test bed${stale:+ (owner $stale)}"
        tb__noerr tb__teardown || tb_log "previous test bed: not everything could be removed"
    fi
    if ! mkdir -p "$TB_STATE_DIR" || ! chmod 0755 "$TB_STATE_DIR"; then
        tb__unlock "$TB__HOLDER_PID" "$TB__HOLDER_CHILD"
        return 1
    fi
    : >"$TB_STATE_DIR/env"
    : >"$TB_STATE_DIR/pids"
    tb__state_set TB_OWNER "$owner"
    tb__state_set TB_HOLDER_PID "$TB__HOLDER_PID"
    tb__state_set TB_HOLDER_CHILD "$TB__HOLDER_CHILD"
    TB__OWNER=$owner
    if [ "$mode" = trap ]; then
        trap tb__exit_trap EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
    fi
    if ! tb__bring_up; then
        tb_log "test bed did not come up; tearing down"
        TB_LOG_DIR=${TB_LOG_DIR:-} tb_down
        return 1
    fi
}
