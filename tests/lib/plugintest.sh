# shellcheck shell=bash
# tests/lib/plugintest.sh - shared by tests/integration/2*-plugin-*.sh (source after testbed.sh).
#
#   . "$(dirname "$0")/../lib/testbed.sh"
#   . "$(dirname "$0")/../lib/plugintest.sh"
#   tb_up; pt_init
#   port=$(pt_port)
#   pt_client_start c1 "$port" 90          # pv_client.py on desktop as pvtest, waits until it listens
#   pt_bg login s1 150 srun --pv-forward=desktop:$port pvserver --reverse-connection
#   pt_wait_plugin_line s1 "desktop:$port" # -> PT_JOB PT_LHOST PT_LPORT
#   pt_bg_wait s1 120                      # -> PT_RC (exit status of the command)
#   pt_client_check c1 20                  # 962 points, server pid != client pid, OK
#   pt_done                                # exit 1 if any pt_check failed
#
# Checks come in two kinds: tb_fail (from testbed.sh) stops the test at once; pt_check_* record a
# failure, print it and go on, so that one run shows every property that does not hold. pt_done
# (at the end of each test) turns recorded failures into the test's exit status.
#
# Background commands (pt_bg) run as the test user in a node, with stdout, stderr and exit status in
# $PT_DIR/NAME.out, NAME.err, NAME.rc (PT_DIR is inside $TB_USER_DIR: same path on every node).

PT_DIR=
PT_FAILS=0
PT_FAILED=()
PT_MEASURED=()
declare -A PT_PIDS=()

# ---------------------------------------------------------------- set-up

# pt_init   after tb_up: scratch dir for pt_bg, the example client and batch script for the user
pt_init() {
    PT_DIR=$TB_USER_DIR/pt
    install -d -o "$TB_USER" -m 0755 "$PT_DIR" || tb_fail "cannot create $PT_DIR"
    install -o "$TB_USER" -m 0644 "$TB_ROOT/examples/pv_client.py" "$TB_USER_DIR/pv_client.py" ||
        tb_fail "cannot copy examples/pv_client.py"
    install -o "$TB_USER" -m 0755 "$TB_ROOT/examples/pvserver.sbatch" "$TB_USER_DIR/pvserver.sbatch" ||
        tb_fail "cannot copy examples/pvserver.sbatch"
    [ -f "$TB_PLUGIN_SO" ] || tb_fail "no plugin in the test bed ($TB_PLUGIN_SO): build it first (make)"
    grep -q pv_forward.so "$TB_PLUGSTACK" || tb_fail "plugstack.conf does not load the plugin: $(cat "$TB_PLUGSTACK")"
    echo "plugstack: $(cat "$TB_PLUGSTACK")"
}

pt_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# pt_measure TEXT   remember a measurement (printed now and again by pt_done)
pt_measure() { PT_MEASURED+=("$*"); echo "measured: $*"; }

# pt_port   a free TCP port for a desktop listener (not listening on desktop or login)
pt_port() {
    local p
    for p in $(shuf -i 20000-29999 -n 50); do
        tb__port_listening desktop "$p" || tb__port_listening login "$p" || { echo "$p"; return 0; }
    done
    tb_fail "no free port found"
}

# ---------------------------------------------------------------- soft checks

# pt_bad MSG   record a failure and go on
pt_bad() {
    PT_FAILS=$((PT_FAILS + 1))
    PT_FAILED+=("$*")
    printf 'FAIL: %s\n' "$*" >&2
}
pt_good() { printf 'ok: %s\n' "$*"; }
# pt_check_eq EXPECTED ACTUAL WHAT
pt_check_eq() {
    if [ "$1" = "$2" ]; then pt_good "$3 = '$2'"; else pt_bad "$3: expected '$1', got '$2'"; fi
}
# pt_check_match ERE STRING WHAT
pt_check_match() {
    if grep -Eq -- "$1" <<<"$2"; then pt_good "$3"; else pt_bad "$3: no match for /$1/ in: $2"; fi
}
# pt_check_no_match ERE STRING WHAT
pt_check_no_match() {
    if grep -Eq -- "$1" <<<"$2"; then pt_bad "$3: unexpected /$1/ in: $2"; else pt_good "$3"; fi
}

# pt_done   summary; exit 1 if anything failed
pt_done() {
    local m
    if [ ${#PT_MEASURED[@]} -gt 0 ]; then
        echo "--- measurements"
        for m in "${PT_MEASURED[@]}"; do echo "  $m"; done
    fi
    if [ "$PT_FAILS" -gt 0 ]; then
        echo "--- $PT_FAILS failed check(s):"
        for m in "${PT_FAILED[@]}"; do echo "  - $m"; done
        exit 1
    fi
    echo ok
}

# ---------------------------------------------------------------- background commands

# pt_bg NODE NAME TIMEOUT CMD...   run CMD as the test user in NODE, in the background, killed after
#   TIMEOUT seconds; $PT_DIR/NAME.out/.err/.rc. Sets PT_BG_PID (the wrapper shell).
pt_bg() {
    local node=$1 name=$2 t=$3 log
    shift 3
    rm -f "$PT_DIR/$name".{out,err,rc,start}
    log=$TB_LOGS/pt-$name.log
    PT_BG_PID=$(tb_bg "$node" --user "$log" /bin/sh -c '
        d=$1 n=$2 t=$3; shift 3
        date +%s%N >"$d/$n.start"
        timeout -k 5 "$t" "$@" >"$d/$n.out" 2>"$d/$n.err"
        echo $? >"$d/$n.rc.tmp" && mv "$d/$n.rc.tmp" "$d/$n.rc"' pt-bg "$PT_DIR" "$name" "$t" "$@") ||
        tb_fail "cannot start $name: $*"
    PT_PIDS[$name]=$PT_BG_PID
}

pt__has_rc() { [ -f "$PT_DIR/$1.rc" ]; }
# pt_bg_wait NAME TIMEOUT   wait for NAME to end; sets PT_RC (empty on timeout, status 1 then)
pt_bg_wait() {
    PT_RC=
    tb_wait "$2" "$1 to end" pt__has_rc "$1" || return 1
    PT_RC=$(cat "$PT_DIR/$1.rc")
}
pt_bg_done() { pt__has_rc "$1"; }
pt_out() { cat "$PT_DIR/$1.out" 2>/dev/null; }
pt_err() { cat "$PT_DIR/$1.err" 2>/dev/null; }
# pt_bg_ms NAME   milliseconds since NAME started
pt_bg_ms() { echo $(( ($(date +%s%N) - $(cat "$PT_DIR/$1.start")) / 1000000 )); }

# pt_bg_stop NAME   TERM to what NAME runs (the `timeout` under the wrapper; it passes TERM on)
pt_bg_stop() {
    local w=${PT_PIDS[$1]:-} p
    [ -n "$w" ] || return 0
    pt_bg_done "$1" && return 0
    for p in $(pgrep -P "$w" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    tb_wait 10 "$1 to stop" pt__has_rc "$1" || true
}

# pt_tidy   filter: without colour codes and Loguru's stack trace frames
pt_tidy() { sed -E 's/\x1b\[[0-9;]*m//g' | grep -Ev '^[0-9]+ +0x[0-9a-f]+ ' || true; }

# pt_show NAME   its output (the last 25 lines of each), indented (for the log)
pt_show() {
    echo "    [$1 stdout]"; pt_tidy <"$PT_DIR/$1.out" 2>/dev/null | tail -n 25 | sed 's/^/    | /'
    echo "    [$1 stderr]"; pt_tidy <"$PT_DIR/$1.err" 2>/dev/null | tail -n 25 | sed 's/^/    | /' 
    [ -f "$PT_DIR/$1.rc" ] && echo "    [$1 exit $(cat "$PT_DIR/$1.rc")]"
    return 0
}

# ---------------------------------------------------------------- forwarders

# pt_forwarders   pids of live (non-zombie) pv-forwarder processes of the test user, one a line
pt_forwarders() {
    local p
    for p in $(pgrep -u "$TB_USER" -x pv-forwarder 2>/dev/null); do
        tb__pid_alive "$p" && echo "$p"
    done
    return 0
}
pt_nforwarders() { pt_forwarders | grep -c . || true; }
# pt_nforwarders_to DEST   how many of them forward to DEST (a test gives each job its own port)
pt_nforwarders_to() {
    local p n=0
    for p in $(pt_forwarders); do
        grep -q -- "--to $1 " <<<"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" && n=$((n + 1))
    done
    echo "$n"
}
pt__no_forwarder() { [ -z "$(pt_forwarders)" ]; }
# pt_wait_no_forwarder TIMEOUT   no live pv-forwarder of the test user; status 1 on timeout
pt_wait_no_forwarder() { tb_wait "$1" "no pv-forwarder of $TB_USER" pt__no_forwarder; }
# pt_forwarder_info   one line per live forwarder: pid user args
pt_forwarder_info() {
    local p
    for p in $(pt_forwarders); do
        printf '%s %s %s\n' "$p" "$(ps -o user= -p "$p" 2>/dev/null)" \
            "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
}

# ---------------------------------------------------------------- the plugin's line

# pt_plugin_line_re DEST   ERE of `pv-forward: [job N: ]compute nodes reach DEST through HOST:PORT`
pt_plugin_line_re() {
    local d=${1//./\\.}
    d=${d//[/\\[}; d=${d//]/\\]}
    printf 'pv-forward: (job [0-9]+: )?compute nodes reach %s through [A-Za-z0-9.-]+:[0-9]+$' "$d"
}
pt__line_seen() { grep -Eq -- "$(pt_plugin_line_re "$2")" "$PT_DIR/$1.err" 2>/dev/null; }
# pt_parse_plugin_line NAME DEST   from NAME's stderr: PT_JOB (may be empty) PT_LHOST PT_LPORT
pt_parse_plugin_line() {
    local line
    PT_JOB='' PT_LHOST='' PT_LPORT=''
    line=$(grep -E -- "$(pt_plugin_line_re "$2")" "$PT_DIR/$1.err" 2>/dev/null | head -n1 || true)
    [ -n "$line" ] || return 1
    if [[ $line =~ job\ ([0-9]+):\  ]]; then PT_JOB=${BASH_REMATCH[1]}; fi
    [[ $line =~ through\ ([A-Za-z0-9.-]+):([0-9]+)$ ]] || return 1
    PT_LHOST=${BASH_REMATCH[1]} PT_LPORT=${BASH_REMATCH[2]}
}
# pt_wait_plugin_line NAME DEST [TIMEOUT]   wait for the line on NAME's stderr, parse it
#   (status 1 if it did not come or NAME ended without it)
pt__line_or_end() { pt__line_seen "$1" "$2" || pt__has_rc "$1"; }
pt_wait_plugin_line() {
    tb_wait "${3:-20}" "the pv-forward line on $1's stderr" pt__line_or_end "$1" "$2" || return 1
    pt_parse_plugin_line "$1" "$2"
}

# ---------------------------------------------------------------- the ParaView client

# pt_client_start NAME PORT [TIMEOUT]   examples/pv_client.py on desktop (as the test user),
#   waiting TIMEOUT s (default 90) for a reverse connection; returns once it listens
pt_client_start() {
    local name=$1 port=$2 t=${3:-90} t0
    t0=$(pt_ms)
    pt_bg desktop "$name" $((t + 30)) pvpython "$TB_USER_DIR/pv_client.py" --port "$port" --timeout "$t"
    tb_wait_port desktop "$port" 60 || { pt_show "$name"; tb_fail "pv_client.py did not listen on desktop:$port"; }
    pt_measure "$name: pvpython client listening on desktop:$port after $(( $(pt_ms) - t0 )) ms"
}

# pt_client_check NAME [TIMEOUT]   call once the server side has ended: the client must have
#   connected, and then end within TIMEOUT s having printed $PT_POINTS sphere points (default 962:
#   one pvserver rank; two ranks give 1024, each piece having its own seam points), a server pid
#   different from its own and OK, exit 0. Status 1 if not (one failure per missing fact).
pt__client_connected_or_done() { pt_client_connected "$1" || pt__has_rc "$1"; }
pt_client_check() {
    local name=$1 t=${2:-30} out spid cpid bad0=$PT_FAILS
    # pvserver has exited: if nothing connected by now, nothing will
    tb_wait 5 "$name to report a connection" pt__client_connected_or_done "$name" 2>/dev/null || true
    if ! pt_client_connected "$name"; then
        pt_bad "$name: no pvserver connected to the ParaView client (it was still waiting when the server side had ended)"
        pt_bg_stop "$name"
        echo "    [$name stdout]"; pt_out "$name" | sed 's/^/    | /'
        return 1
    fi
    pt_good "$name: a pvserver connected to the client"
    if ! pt_bg_wait "$name" "$t"; then
        pt_bad "$name: the ParaView client had not finished ${t}s after the server side ended"
        pt_bg_stop "$name"
    fi
    out=$(pt_out "$name")
    pt_check_match "^pv_client: sphere points: ${PT_POINTS:-962}\$" "$out" \
        "$name: sphere fetched through the server (${PT_POINTS:-962} points)"
    if [[ $out =~ pv_client:\ server\ pid:\ ([0-9]+),\ client\ pid:\ ([0-9]+) ]]; then
        spid=${BASH_REMATCH[1]} cpid=${BASH_REMATCH[2]}
        if [ "$spid" != "$cpid" ]; then pt_good "$name: server pid $spid != client pid $cpid"
        else pt_bad "$name: server pid $spid equals the client's"; fi
    else
        pt_bad "$name: no 'server pid' line from the client"
    fi
    [ "${PT_POINTS:-962}" != 962 ] ||   # the client's own verdict expects 962
        pt_check_match '^pv_client: OK$' "$out" "$name: client says OK"
    [ "${PT_POINTS:-962}" != 962 ] ||
        pt_check_eq 0 "${PT_RC:-none}" "$name: client exit status"
    if [ "$PT_FAILS" != "$bad0" ]; then pt_show "$name"; return 1; fi
    return 0
}

# pt_client_connected NAME   has the client printed "server connected" yet
pt_client_connected() { grep -q '^pv_client: server connected$' "$PT_DIR/$1.out" 2>/dev/null; }

# ---------------------------------------------------------------- one pvserver session

# pt_session NAME PORT CMD...   the whole scenario for one launcher command run as the test user
#   on login (srun/salloc ... pvserver ...): client on desktop:PORT, CMD in the background, the
#   plugin's line, one forwarder, pvserver pointed at it, client OK, CMD exits 0, forwarder gone.
pt_session() {
    local name=$1 port=$2 t0 urls n errs
    shift 2
    tb_step "$name: $*"
    pt_client_start "$name-client" "$port" 90
    t0=$(pt_ms)
    pt_bg login "$name" 150 "$@"
    if pt_wait_plugin_line "$name" "desktop:$port" 20; then
        pt_good "$name: plugin line: job '${PT_JOB}' via $PT_LHOST:$PT_LPORT (after $(( $(pt_ms) - t0 )) ms)"
        pt_check_eq login "$PT_LHOST" "$name: advertised login host"
        n=$(pt_nforwarders_to "desktop:$port")
        if pt_bg_done "$name"; then
            echo "    ($name ended before the forwarder count could be taken: $n live)"
        else
            pt_check_eq 1 "$n" "$name: live pv-forwarder processes of $TB_USER to desktop:$port while the job runs"
            pt_forwarder_info | sed 's/^/    forwarder: /'
            pt_check_match "^[0-9]+ $TB_USER " "$(pt_forwarder_info)" "$name: the forwarder runs as $TB_USER"
            pt_check_match "--to desktop:$port( |$)" "$(pt_forwarder_info)" "$name: the forwarder's destination"
        fi
    else
        pt_bad "$name: no line /$(pt_plugin_line_re "desktop:$port")/ on stderr"
    fi
    if ! pt_bg_wait "$name" 120; then
        pt_bad "$name: did not end within 120 s"
        pt_bg_stop "$name"
    fi
    pt_measure "$name: '$*' took $(( $(pt_ms) - t0 )) ms, exit ${PT_RC:-none}"
    pt_check_eq 0 "${PT_RC:-none}" "$name: exit status of '$1'"
    if [ -n "$PT_LPORT" ]; then
        urls=$(grep -o "Connection URL: [^ ]*" "$PT_DIR/$name.out" | sort -u || true)
        pt_check_eq "Connection URL: csrc://login:$PT_LPORT" "$urls" "$name: where pvserver connected (its own output)"
    fi
    errs=$(pt_err "$name" | grep -v '^[a-z]*: pv-forward: ' | grep -E '[Ee]rror|ERR\|' | sed 's/\x1b\[[0-9;]*m//g' || true)
    if [ -z "$errs" ]; then
        pt_good "$name: no error on stderr"
    else
        pt_bad "$name: errors on stderr, the first: $(echo "$errs" | head -n1)"
        if grep -Eq 'Connection reset by peer|handshake failed' <<<"$errs"; then
            echo "    note: pvserver's connection to login:$PT_LPORT was closed before the VTK handshake:" \
                "the forwarder accepted it and closed it at once (it does not allow the job's node as a source)"
        elif grep -q 'Connection refused' <<<"$errs"; then
            echo "    note: nothing listened on login:$PT_LPORT when pvserver connected"
        fi
    fi
    if ! pt_client_check "$name-client" 30; then
        pt_show "$name"
    fi
    t0=$(pt_ms)
    if pt_wait_no_forwarder 10; then
        pt_good "$name: no forwarder left after '$1' ended"
        pt_measure "$name: forwarder gone $(( $(pt_ms) - t0 )) ms after the check began (after '$1' ended)"
    else
        pt_bad "$name: forwarder still running 10 s after '$1' ended: $(pt_forwarder_info)"
    fi
}

# client_check_ranks NAME RANKS   like pt_client_check for a pvserver of RANKS > 1 processes: a
#   32x32 sphere made in RANKS pieces has 2*RANKS + 30*(32+RANKS) points (each piece has both
#   poles and one more meridian: 1024 for 2 ranks, 962 for one), which shows that every rank
#   took part. pv_client.py itself checks for the one-process 962 and says FAILED (exit 1) here,
#   so only its connection, point count and pids count.
client_check_ranks() {
    local name=$1 n=$2 want out
    want=$(( 2 * n + 30 * (32 + n) ))
    tb_wait 5 "$name to report a connection" pt__client_connected_or_done "$name" 2>/dev/null || true
    if ! pt_client_connected "$name"; then
        pt_bad "$name: no pvserver connected to the ParaView client"
        pt_bg_stop "$name"
        return 1
    fi
    pt_good "$name: a pvserver connected to the client"
    pt_bg_wait "$name" 30 || { pt_bad "$name: the client had not finished 30 s after the job"; pt_bg_stop "$name"; }
    out=$(pt_out "$name")
    pt_check_match "^pv_client: sphere points: $want\$" "$out" "$name: $want sphere points: the sphere made in $n pieces, one per rank"
    if [[ $out =~ server\ pid:\ ([0-9]+),\ client\ pid:\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
        pt_good "$name: server pid ${BASH_REMATCH[1]} != client pid ${BASH_REMATCH[2]}"
    else
        pt_bad "$name: no server pid different from the client's"
    fi
}
