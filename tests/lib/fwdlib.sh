# shellcheck shell=bash
# tests/lib/fwdlib.sh - shared by tests/integration/1*-forwarder-*.sh (source me; bash, root).
#
# pv-forwarder refuses to run as root, so every forwarder a test starts runs as
# nobody:nogroup (setpriv), from a private copy of the binary in the test's temp dir
# (the build tree may not be readable by nobody), in a session of its own (setsid), so
# that the test can tell afterwards whether anything it started is still running.
#
#   . "$(dirname "$0")/../lib/fwdlib.sh"
#   fwd_init NAME                         # temp dir $T, binary copy, EXIT trap
#   fwd_peer relay --conns 3 ...          # tests/lib/fwdtest.py in the background ($PEER_PID);
#                                         # its destination port goes to $T/dest.port
#   fwd_start --job --to 127.0.0.1:$(fwd_dest_port) --ready-fd 3 ...
#   fwd_wait_port                         # $FWD_PORT from the --ready-fd output
#   fwd_peer_wait                         # the peer's exit status must be 0
#
# Everything started here is stopped by the EXIT trap: peers, forwarders (every process
# running the private binary), /etc/hosts lines added with fwd_hosts_add, extra commands
# registered with fwd_on_exit; then $T is removed.

set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
export LC_ALL=C

FWD_ROOT=${FWD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FWD_PY=${PYTHON:-python3}
FWDTEST=$FWD_ROOT/tests/lib/fwdtest.py
FWD_SRC_BIN=${PV_FORWARDER:-$FWD_ROOT/build/pv-forwarder}
FWD_RUN_USER=${FWD_RUN_USER:-nobody}
FWD_RUN_GROUP=${FWD_RUN_GROUP:-nogroup}

T=
FWD_BIN=
FWD_PID=
FWD_LOG=
FWD_READY=
FWD_PORT=
FWD_N=0
PEER_PID=
PEER_LOG=
PEER_SHOWN=
FWD_PIDS=()
FWD_BG_PIDS=()
FWD_CLEANUPS=()
FWD_HOSTS_MARK=
FWD_PREFIX=(env)   # a command (and arguments) fwd_start runs the forwarder through
# FWD_WRAPPER (environment; words, no spaces inside one): a program the forwarder runs under,
# after the switch to $FWD_RUN_USER, in fwd_start and fwd_run (tests/check-valgrind: memcheck).
FWD_WRAPPER=${FWD_WRAPPER:-}
# FWD_TIME_SCALE (environment, a number >= 1; used only together with FWD_WRAPPER): the
# factor for a test's upper time bounds where a bound is the feature under test and the
# wrapper's slowdown of the forwarder's own code (memcheck) breaks it; see fwd_bound.
FWD_TIME_SCALE=${FWD_TIME_SCALE:-1}
[ -n "$FWD_WRAPPER" ] || FWD_TIME_SCALE=1

# fwd_bound SECONDS: an upper time bound, times FWD_TIME_SCALE (1 without a wrapper). Only for
# "at most" bounds: a lower bound ("not before") holds under any slowdown and is never scaled.
fwd_bound() { awk -v b="$1" -v s="$FWD_TIME_SCALE" 'BEGIN { print b * s }'; }

# fwd_rss_limit: fwdtest.py stall's memory bound for the forwarder: VmRSS below 16 MiB (idle with
# one connection about 3 MiB, the ASan build about 8 MiB). Under a wrapper
# (memcheck) VmRSS is mostly the wrapper's own (about 54 MiB idle) and says nothing about the
# forwarder; the growth over the idle VmRSS still counts what the forwarder allocates (and then
# its shadow), so the bound is 8 MiB over idle there.
fwd_rss_limit() {
	if [ -n "$FWD_WRAPPER" ]; then echo "--rss-limit-kib 8192 --rss-over-idle"; else echo "--rss-limit-kib 16384"; fi
}

fwd_step() { printf -- '--- %s\n' "$*"; }
fwd_say()  { printf '    %s\n' "$*"; }
fwd_fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
fwd_pass() { printf 'PASS: %s\n' "$*"; }

# fwd_wait SECONDS WHAT CMD...: polls CMD every 50 ms until it succeeds; fails the test after SECONDS.
fwd_wait() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs + 1)) t0
	t0=$(date +%s.%N)
	while :; do
		if "$@"; then
			return 0
		fi
		if awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$secs" 'BEGIN { exit !(b - a > s) }' ||
			((SECONDS > deadline)); then
			fwd_fail "timed out after ${secs}s waiting for $what"
		fi
		sleep 0.05
	done
}

fwd_init() {
	local name=$1
	[ "$(id -u)" = 0 ] || fwd_fail "run as root (the forwarder is started as $FWD_RUN_USER)"
	[ -x "$FWD_SRC_BIN" ] || fwd_fail "$FWD_SRC_BIN not built (make)"
	id "$FWD_RUN_USER" >/dev/null 2>&1 || fwd_fail "no user $FWD_RUN_USER"
	command -v setpriv >/dev/null || fwd_fail "setpriv missing (util-linux)"
	command -v "$FWD_PY" >/dev/null || fwd_fail "$FWD_PY missing"
	T=$(mktemp -d "/tmp/pv-fwdtest.$name.XXXXXX")
	chmod 0711 "$T"
	mkdir -m 0755 "$T/bin"
	cp "$FWD_SRC_BIN" "$T/bin/pv-forwarder"
	chmod 0755 "$T/bin/pv-forwarder"
	FWD_BIN=$T/bin/pv-forwarder
	trap fwd__exit_trap EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# fwd_on_exit CMD: run CMD (a string for eval) in the EXIT trap, before $T goes.
fwd_on_exit() { FWD_CLEANUPS+=("$1"); }

# fwd_procs: pids of every live process running this test's copy of the binary.
fwd_procs() {
	local d exe pid st
	[ -n "$FWD_BIN" ] || return 0
	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		exe=${exe% (deleted)}
		if [ "$exe" != "$FWD_BIN" ]; then
			# under FWD_WRAPPER the executable is the wrapper's; the binary is an argument
			[ -n "$FWD_WRAPPER" ] && tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF -- "$FWD_BIN" ||
				continue
		fi
		pid=${d#/proc/}
		st=$(fwd__state "$pid")
		[ -n "$st" ] && [ "$st" != Z ] && echo "$pid"
	done
	return 0
}

# fwd__state PID: the process state letter ("" when gone).
fwd__state() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	echo "${s%% *}"
}

fwd__alive() { local s; s=$(fwd__state "$1"); [ -n "$s" ] && [ "$s" != Z ]; }
fwd__gone() { ! fwd__alive "$1"; }

# fwd_session_procs SID: live processes of session SID.
fwd_session_procs() {
	local d s pid
	for d in /proc/[0-9]*; do
		s=$(cat "$d/stat" 2>/dev/null) || continue
		s=${s##*) }
		# after the command: state ppid pgrp session ...
		local -a fields
		read -r -a fields <<<"$s"
		pid=${d#/proc/}
		[ "${fields[3]}" = "$1" ] && [ "${fields[0]}" != Z ] && echo "$pid"
	done
	return 0
}

# fwd_start ARGS...: starts the forwarder (as nobody, own session) with ARGS; its stdout
# and stderr go to $FWD_LOG; when ARGS hold "--ready-fd 3", fd 3 is $FWD_READY.
# FWD_PREFIX (an array) is put in front, e.g. a wrapper that blocks signals.
# Sets FWD_PID (also the session id).
fwd_start() {
	FWD_N=$((FWD_N + 1))
	FWD_LOG=$T/fwd$FWD_N.log
	FWD_READY=$T/fwd$FWD_N.ready
	FWD_PORT=
	: >"$FWD_READY"
	local a ready=0 prev=
	for a in "$@"; do
		if [ "$prev" = --ready-fd ] && [ "$a" = 3 ]; then ready=1; fi
		[ "$a" = --ready-fd=3 ] && ready=1
		prev=$a
	done
	if [ "$ready" = 1 ]; then
		"${FWD_PREFIX[@]}" setsid setpriv --reuid="$FWD_RUN_USER" --regid="$FWD_RUN_GROUP" --clear-groups \
			$FWD_WRAPPER "$FWD_BIN" "$@" 3>"$FWD_READY" >"$FWD_LOG" 2>&1 </dev/null &
	else
		"${FWD_PREFIX[@]}" setsid setpriv --reuid="$FWD_RUN_USER" --regid="$FWD_RUN_GROUP" --clear-groups \
			$FWD_WRAPPER "$FWD_BIN" "$@" >"$FWD_LOG" 2>&1 </dev/null &
	fi
	FWD_PID=$!
	FWD_PIDS+=("$FWD_PID")
	echo "$FWD_PID" >"$T/fwd$FWD_N.pid"
	fwd_say "started: pv-forwarder $* (pid $FWD_PID, as $FWD_RUN_USER)"
}

# fwd_next_ready: the --ready-fd file the next fwd_start will use (for a peer started first).
fwd_next_ready() { printf '%s/fwd%d.ready' "$T" $((FWD_N + 1)); }
# fwd_next_pidfile: the file the next fwd_start writes the forwarder's pid to.
fwd_next_pidfile() { printf '%s/fwd%d.pid' "$T" $((FWD_N + 1)); }

# fwd_run ARGS...: runs the forwarder as nobody in the foreground (at most 10 s, then it is
# killed and the test fails); sets FWD_RC and the files $T/run.out, $T/run.err.
fwd_run() {
	FWD_RC=0
	timeout -k 2 10 setpriv --reuid="$FWD_RUN_USER" --regid="$FWD_RUN_GROUP" --clear-groups \
		$FWD_WRAPPER "$FWD_BIN" "$@" >"$T/run.out" 2>"$T/run.err" </dev/null || FWD_RC=$?
	if [ "$FWD_RC" = 124 ] || [ "$FWD_RC" = 137 ]; then
		fwd_fail "pv-forwarder $* was still running after 10 s"
	fi
}

# fwd_expect_one_error WHAT NEEDLE...: after fwd_run, the run must have failed (exit != 0),
# printed nothing on stdout, and on stderr exactly one message line (a further line that only
# points to --help is tolerated) containing every NEEDLE (fixed strings).
fwd_expect_one_error() {
	local what=$1 n msg
	shift
	[ "$FWD_RC" != 0 ] || fwd_fail "$what: exit status 0"
	[ ! -s "$T/run.out" ] || fwd_fail "$what: unexpected stdout: $(head -3 "$T/run.out")"
	local hint='^([^ :]*: )?[[:space:]]*(try|see|use|run)[^a-z].*--help'
	n=$(grep -Eicv -e '^[[:space:]]*$' -e "$hint" "$T/run.err" || true)
	msg=$(grep -Eiv -e '^[[:space:]]*$' -e "$hint" "$T/run.err" | head -1 || true)
	if [ "$n" != 1 ]; then
		sed 's/^/    | /' "$T/run.err" >&2
		fwd_fail "$what: $n message lines on stderr, expected one"
	fi
	local needle
	for needle in "$@"; do
		case $msg in
		*"$needle"*) ;;
		*) fwd_fail "$what: the message does not name '$needle': $msg" ;;
		esac
	done
	fwd_say "$what: exit $FWD_RC: $msg"
}

fwd__ready_has_port() { grep -q '^PORT [0-9]' "$FWD_READY" 2>/dev/null || fwd__gone "$FWD_PID"; }

# fwd_wait_port: waits (10 s) for "PORT n" on the ready fd; sets FWD_PORT.
fwd_wait_port() {
	fwd_wait 10 "'PORT n' from pv-forwarder --ready-fd" fwd__ready_has_port
	if ! grep -q '^PORT [0-9]' "$FWD_READY"; then
		fwd_fail "pv-forwarder exited before it was listening (ready fd: '$(cat "$FWD_READY")')"
	fi
	FWD_PORT=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$FWD_READY" | head -1)
	[ -n "$FWD_PORT" ] || fwd_fail "malformed ready line: '$(cat "$FWD_READY")'"
	local sid
	sid=$(awk '{ sub(/.*\) /, ""); print $4 }' "/proc/$FWD_PID/stat")
	[ "$sid" = "$FWD_PID" ] || fwd_fail "pv-forwarder pid $FWD_PID is not its own session leader (sid $sid)"
	fwd_say "pv-forwarder listening on port $FWD_PORT"
}

# fwd_exit_status PID SECONDS: waits until PID (a child of this shell) exits; sets FWD_RC
# to its exit status.  (Not in $(...): only this shell can wait for its children.)
FWD_RC=
fwd_exit_status() {
	local pid=$1 secs=$2
	fwd_wait "$secs" "pid $pid to exit" fwd__gone "$pid"
	FWD_RC=0
	wait "$pid" || FWD_RC=$?
}

fwd_show_log() {
	local file=${1:-$FWD_LOG}
	[ -n "$file" ] && [ -f "$file" ] || return 0
	printf '    --- %s (last 30 lines)\n' "$(basename "$file")" >&2
	tail -n 30 "$file" | sed 's/^/    | /' >&2
	# and what is not a routine open/close line, wherever it is (a long log's cause is early)
	if [ "$(wc -l <"$file")" -gt 30 ]; then
		printf '    --- %s (other than conn open/closed, first 30)\n' "$(basename "$file")" >&2
		grep -Ev ': conn [0-9]+ (open|closed): ' "$file" | head -n 30 | sed 's/^/    | /' >&2
	fi
}

# fwd_log_wait SECONDS ERE WHAT: waits until $FWD_LOG has a line matching ERE; prints it.
fwd__log_has() { grep -Eq -- "$1" "$FWD_LOG"; }
fwd_log_wait() {
	local secs=$1 re=$2 what=$3
	local deadline=$((SECONDS + secs))
	while ! fwd__log_has "$re"; do
		if ((SECONDS >= deadline)); then
			fwd_fail "no log line for $what (pattern: $re)"
		fi
		sleep 0.05
	done
	fwd_say "log: $(grep -E -- "$re" "$FWD_LOG" | head -1)"
}

# fwd_peer ARGS...: tests/lib/fwdtest.py ARGS --dest-port-file $T/dest.port in the background,
# output to $T/peerN.log; sets PEER_PID, PEER_LOG.
PEER_N=0
fwd_peer() {
	local cmd=$1
	shift
	PEER_N=$((PEER_N + 1))
	PEER_LOG=$T/peer$PEER_N.log
	rm -f "$T/dest.port"
	"$FWD_PY" "$FWDTEST" "$cmd" --dest-port-file "$T/dest.port" "$@" >"$PEER_LOG" 2>&1 &
	PEER_PID=$!
	FWD_BG_PIDS+=("$PEER_PID")
}

fwd__dest_port_ready() { [ -s "$T/dest.port" ] || fwd__gone "$PEER_PID"; }
# fwd_dest_port: waits for the peer's destination socket; prints its port.
fwd_dest_port() {
	fwd_wait 10 "the test peer's destination socket" fwd__dest_port_ready
	[ -s "$T/dest.port" ] || { cat "$PEER_LOG" >&2; fwd_fail "the test peer exited early"; }
	sed -n 's/^PORT \([0-9]*\)$/\1/p' "$T/dest.port"
}

# fwd_peer_wait SECONDS: waits for the peer, shows its output; fails unless it exited 0.
fwd_peer_wait() {
	local secs=${1:-120}
	fwd_exit_status "$PEER_PID" "$secs"
	sed 's/^/    /' "$PEER_LOG"
	PEER_SHOWN=$PEER_LOG
	[ "$FWD_RC" = 0 ] || fwd_fail "the test peer failed (exit $FWD_RC)"
}

# fwd_hosts_add ADDR NAME: puts "ADDR NAME" first in /etc/hosts (removed by the EXIT trap).
# /etc/hosts is rewritten in place (it may be a bind mount).
fwd_hosts_add() {
	[ -n "$FWD_HOSTS_MARK" ] || FWD_HOSTS_MARK="# pv-forward fwdtest $$ $(basename "$0")"
	local new=$T/hosts.new
	{ printf '%s %s %s\n' "$1" "$2" "$FWD_HOSTS_MARK"; cat /etc/hosts; } >"$new"
	cat "$new" >/etc/hosts
}

fwd_hosts_remove() {
	[ -n "$FWD_HOSTS_MARK" ] || return 0
	grep -qF -- "$FWD_HOSTS_MARK" /etc/hosts || return 0
	local new
	new=$(mktemp /tmp/pv-fwdtest.hosts.XXXXXX)
	grep -vF -- "$FWD_HOSTS_MARK" /etc/hosts >"$new" || true
	cat "$new" >/etc/hosts
	rm -f "$new"
}

fwd__kill_wait() {   # SIGNAL SECONDS PID...
	local sig=$1 secs=$2 p n
	shift 2
	for p in "$@"; do kill -s "$sig" "$p" 2>/dev/null || true; done
	for ((n = 0; n < secs * 20; n++)); do
		local alive=0
		for p in "$@"; do fwd__alive "$p" && alive=1; done
		[ "$alive" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}

fwd__exit_trap() {
	local rc=$? p c
	set +e
	trap - EXIT INT TERM HUP
	for c in "${FWD_CLEANUPS[@]}"; do eval "$c"; done
	local pids=()
	for p in "${FWD_BG_PIDS[@]}" "${FWD_PIDS[@]}"; do fwd__alive "$p" && pids+=("$p"); done
	for p in $(fwd_procs); do pids+=("$p"); done
	if [ "${#pids[@]}" -gt 0 ]; then
		fwd__kill_wait TERM 3 "${pids[@]}" || fwd__kill_wait KILL 3 "${pids[@]}"
	fi
	wait 2>/dev/null
	fwd_hosts_remove
	if [ "$rc" != 0 ] && [ -n "$T" ]; then
		for p in "$T"/fwd*.log; do [ -s "$p" ] && fwd_show_log "$p"; done
		for p in "$T"/peer*.log; do [ -s "$p" ] && [ "$p" != "$PEER_SHOWN" ] && fwd_show_log "$p"; done
	fi
	[ -n "$T" ] && rm -rf "$T"
	exit "$rc"
}
