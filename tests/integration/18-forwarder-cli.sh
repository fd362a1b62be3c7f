#!/bin/bash
# pv-forwarder's command line: --help documents every flag and the exit codes; -v; bad input
# gets exactly one message naming the offending value and exit status 2 (nothing started);
# running as root is refused (2); a start-up failure (no free port) gets one message and
# exit 1 in the foreground, and 'ERROR ...' on the ready fd plus a non-zero exit when
# detaching.  After every case no pv-forwarder process is left.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init cli

no_leftovers() {
	local left
	left=$(fwd_procs)
	[ -z "$left" ] || fwd_fail "$1: pv-forwarder processes left: $left"
}

fwd_step "--help and -v"
fwd_run --help
[ "$FWD_RC" = 0 ] || fwd_fail "--help exited $FWD_RC"
help=$(cat "$T/run.out" "$T/run.err")
for flag in --job --to --listen --ports --allow --slurm-job --job-id --hold --fin-timeout --max-conns --ready-fd \
	--lifeline-fd --foreground --debug --config --pidfile --help --version; do
	grep -q -- "$flag" <<<"$help" || fwd_fail "--help does not document $flag"
done
grep -qi 'exit' <<<"$help" || fwd_fail "--help does not document the exit codes"
fwd_say "--help: exit 0, $(wc -l <<<"$help") lines, documents every job-mode and portfwd flag and the exit codes"
fwd_run -v
[ "$FWD_RC" = 0 ] || fwd_fail "-v exited $FWD_RC"
grep -Eq '[0-9]+\.[0-9]+' "$T/run.out" "$T/run.err" || fwd_fail "-v prints no version"
fwd_say "-v: $(cat "$T/run.out" "$T/run.err")"

fwd_step "bad command lines: one message naming the value, exit 2"
J=(--job --listen 127.0.0.1 --foreground)
bad() {   # WHAT NEEDLE -- ARGS...
	local what=$1 needle=$2
	shift 3
	fwd_run "$@"
	fwd_expect_one_error "$what" "$needle"
	[ "$FWD_RC" = 2 ] || fwd_fail "$what: exit status $FWD_RC, expected 2"
	no_leftovers "$what"
}
bad "unknown flag"             "--bogus"          -- --bogus
bad "unknown flag in job mode" "--frobnicate"     -- "${J[@]}" --to 127.0.0.1:5 --frobnicate
bad "--to port out of range"   "99999"            -- "${J[@]}" --to 127.0.0.1:99999
bad "--to port not a number"   "abc"              -- "${J[@]}" --to 127.0.0.1:abc
bad "--to without a port"      "127.0.0.1"        -- "${J[@]}" --to 127.0.0.1
bad "--to port 0"              "127.0.0.1:0"      -- "${J[@]}" --to 127.0.0.1:0
bad "--ports reversed"         "5-1"              -- "${J[@]}" --to 127.0.0.1:5 --ports 5-1
bad "--ports not a range"      "12x"              -- "${J[@]}" --to 127.0.0.1:5 --ports 12x
bad "--hold not a number"      "abc"              -- "${J[@]}" --to 127.0.0.1:5 --hold abc
bad "--hold negative"          "-1"               -- "${J[@]}" --to 127.0.0.1:5 --hold -1
bad "--max-conns 0"            "--max-conns"      -- "${J[@]}" --to 127.0.0.1:5 --max-conns 0
bad "--fin-timeout 0"          "'0'"              -- "${J[@]}" --to 127.0.0.1:5 --fin-timeout 0
bad "--fin-timeout 2s"         "'2s'"             -- "${J[@]}" --to 127.0.0.1:5 --fin-timeout 2s
bad "--fin-timeout, portfwd"   "'86401'"          -- --config /nonexistent/fwd.cfg --fin-timeout 86401
bad "--allow bad mask"         "127.0.0.1/33"     -- "${J[@]}" --to 127.0.0.1:5 --allow 127.0.0.1/33
bad "--listen not an address"  "no such addr!"    -- --job --to 127.0.0.1:5 --listen 'no such addr!' --foreground
bad "--ready-fd not a number"  "x1"               -- "${J[@]}" --to 127.0.0.1:5 --ready-fd x1
bad "--job without --to"       "--to"             -- "${J[@]}"
bad "--to given twice"         "--to"             -- "${J[@]}" --to 127.0.0.1:5 --to 127.0.0.1:6
bad "--to without a value"     "--to"             -- "${J[@]}" --to
bad "missing config file"      "/nonexistent/fwd.cfg" -- --config /nonexistent/fwd.cfg --foreground
# a value's control characters are shown, not sent: the message stays one line on the terminal
bad "--to with a newline"      '127.0.0.1\x0a:5' -- "${J[@]}" --to $'127.0.0.1\n:5'
bad "--hold with an escape"    "'\x1b[31m5'"     -- "${J[@]}" --to 127.0.0.1:5 --hold $'\e[31m5'

fwd_step "run as root: refused with exit 2"
FWD_RC=0
timeout -k 2 10 "$FWD_BIN" --job --to 127.0.0.1:5 --listen 127.0.0.1 --foreground >"$T/run.out" 2>"$T/run.err" </dev/null || FWD_RC=$?
fwd_expect_one_error "as root" "root"
[ "$FWD_RC" = 2 ] || fwd_fail "as root: exit status $FWD_RC, expected 2"
no_leftovers "as root"

fwd_step "start-up failure (no free port: --ports 1-1 as nobody)"
fwd_run --job --to 127.0.0.1:5 --listen 127.0.0.1 --ports 1-1 --foreground
fwd_expect_one_error "no free port, foreground" "1-1"
[ "$FWD_RC" = 1 ] || fwd_fail "no free port: exit status $FWD_RC, expected 1"
no_leftovers "no free port, foreground"
FWD_RC=0
timeout -k 2 10 setpriv --reuid="$FWD_RUN_USER" --regid="$FWD_RUN_GROUP" --clear-groups \
	"$FWD_BIN" --job --to 127.0.0.1:5 --listen 127.0.0.1 --ports 1-1 --ready-fd 3 \
	3>"$T/ready" >"$T/run.out" 2>"$T/run.err" </dev/null || FWD_RC=$?
[ "$FWD_RC" != 0 ] && [ "$FWD_RC" != 124 ] || fwd_fail "detached start-up failure: exit status $FWD_RC"
grep -q '^ERROR .*1-1' "$T/ready" || fwd_fail "detached start-up failure: ready fd has '$(cat "$T/ready")', not 'ERROR ... 1-1'"
! grep -q '^PORT' "$T/ready" || fwd_fail "detached start-up failure: ready fd says PORT"
no_leftovers "no free port, detached"
fwd_say "detached: exit $FWD_RC, ready fd: $(cat "$T/ready")"
fwd_pass "every bad input got one message naming it and a non-zero exit; nothing left running"
