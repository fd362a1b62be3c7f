# shellcheck shell=bash
# tests/lib/faultlib.sh - the fault tests' use of tests/lib/faultpeer.py (source me after
# fwdlib.sh or testbed.sh). A peer's stdout is a file of report lines (faultpeer.py's
# docstring); these read it.
#
#   fl_peer NAME ARGS...          faultpeer.py ARGS in the background on this host (fwdlib
#                                 tests), report in $T/NAME.out; FL_PID its pid
#   fl_wait_listening FILE        wait until the report FILE says "listening"; prints the port
#   fl_wait_bytes FILE N SECS     wait until the report's progress reached N bytes
#   fl_wait_end FILE SECS [N]     wait for the end line of connection N (default 1); prints it
#   fl_field LINE KEY             the value of KEY=... in a report line
#   FL_WAIT=tb_wait               in test-bed tests (default fwd_wait)
#   fl_now                        the time, epoch seconds with ms (as the reports have it)
#   fl_secs A B                   B - A, seconds with ms
#   fl_bed_desktop CONNS SECS     test bed: faultpeer.py serving CONNS connections on desktop
#                                 (recv mode, SECS at most); sets FL_BED_PEER (the script, for
#                                 the test user's jobs), FL_BED_PORT, FL_BED_LOG (its report)
#   fl_closed_at_once FILE WHO T_KILL   the end line of connection 1 in FILE came within
#                                 FL_AT_ONCE_S of T_KILL, by reset, EOF or EPIPE (fwdlib tests)

FL_PY=${FWD_PY:-python3}
FL_PEER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/faultpeer.py

fl_now() { date +%s.%3N; }
fl_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
fl_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -n1; }

fl_peer() {
	local name=$1
	shift
	"$FL_PY" "$FL_PEER" "$@" >"$T/$name.out" 2>&1 &
	FL_PID=$!
	FWD_BG_PIDS+=("$FL_PID")
}

fl__has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
fl_wait_listening() {
	"${FL_WAIT:-fwd_wait}" 20 "'listening' in $1" fl__has "$1" '^listening '
	sed -n 's/^listening port=//p' "$1" | head -n1
}
fl__bytes() {
	local b
	b=$(sed -n 's/^progress .* bytes=\([0-9]*\).*/\1/p' "$1" | tail -n1)
	[ "${b:-0}" -ge "$2" ] || fl__has "$1" '^end '
}
fl_wait_bytes() { "${FL_WAIT:-fwd_wait}" "$3" "$2 bytes in $1" fl__bytes "$1" "$2"; }
fl_wait_end() {
	local n=${3:-1}
	"${FL_WAIT:-fwd_wait}" "$2" "the end of connection $n in $1" fl__has "$1" "^end n=$n "
	grep -E "^end n=$n " "$1" | head -n1
}

fl_bed_desktop() {
	FL_BED_PEER=$PT_DIR/faultpeer.py
	install -o "$TB_USER" -m 0644 "$FL_PEER" "$FL_BED_PEER"
	FL_BED_PORT=$(lt_port)
	FL_BED_LOG=$TB_LOGS/desktop-$FL_BED_PORT.log
	tb_bg desktop "$FL_BED_LOG" python3 "$FL_BED_PEER" serve --port "$FL_BED_PORT" --conns "$1" \
		--recv 0 --timeout "$2" >/dev/null
	tb_wait_port desktop "$FL_BED_PORT" 20 || tb_fail "faultpeer does not listen on desktop:$FL_BED_PORT"
}

fl_closed_at_once() {
	local end dt
	end=$(fl_wait_end "$1" 30)
	dt=$(fl_secs "$3" "$(fl_field "$end" t)")
	fwd_say "$2: $end"
	fwd_say "closed $dt s after the kill"
	case $(fl_field "$end" how) in reset | eof | error:EPIPE) ;; *) fwd_fail "$2 ended '$(fl_field "$end" how)'" ;; esac
	awk -v d="$dt" -v b="$FL_AT_ONCE_S" 'BEGIN { exit !(d <= b) }' || fwd_fail "$2 closed $dt s after the kill (bound $FL_AT_ONCE_S s)"
}
