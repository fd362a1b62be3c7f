#!/bin/bash
# pv-forwarder: the FIN timeout (--fin-timeout) closes a half-closed pair that has gone idle.
#  1. job mode, --fin-timeout 2: one side sends 1000 bytes and shuts down its write side,
#     the other goes idle; both orders (client first, destination first).  The pair must be
#     closed 2 s after the last byte moved - not before, at most 1 s later (measured from
#     the EOF the idle side saw) - the closing side sees a clean EOF, the idle side's writes
#     then fail, and the log says why ("half-closed and idle for 2 s");
#  2. the same, but the idle side first sends 100 bytes every 0.5 s for 5 s (2.5 x the
#     timeout): the pair stays open meanwhile, and is closed 2 s after that last byte;
#  3. portfwd mode takes --fin-timeout as well (1 s, one idle case);
#  4. without --fin-timeout the default is 60 s (the start-up line says so).
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init fintimeout

fwd_step "job mode, --fin-timeout 2: idle after the half-close, and kept open by traffic"
fwd_peer finidle --fwd-ready "$(fwd_next_ready)" --fin-timeout 2 --slack 1 --keep-alive 5
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --fin-timeout 2 \
	--ready-fd 3 --foreground
fwd_wait_port
fwd_log_wait 5 'FIN timeout 2 s' "the start-up line with the FIN timeout"
fwd_peer_wait 90
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
for n in 1 2 3 4; do
	fwd_log_wait 5 "conn $n closed: .*: half-closed and idle for 2 s\$" "conn $n closed by the FIN timeout"
done
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5
[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"

fwd_step "portfwd mode, --fin-timeout 1"
fwd_peer finidle --fin-timeout 1 --slack 1 --orders client-first --fwd-ready "$T/portfwd.ready"
dport=$(fwd_dest_port)
lport=$("$FWD_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listen-on 127.0.0.1 tcp { %s { => 127.0.0.1:%s } }\n' "$lport" "$dport" >"$T/fwd.cfg"
chmod 0644 "$T/fwd.cfg"
fwd_start --config "$T/fwd.cfg" --fin-timeout 1 --foreground
fwd_wait 10 "pv-forwarder to listen on port $lport" \
	eval '"$FWD_PY" "$FWDTEST" wait-listen --port "$lport" --timeout 0.1 >/dev/null || fwd__gone "$FWD_PID"'
echo "PORT $lport" >"$T/portfwd.ready"   # the peer waits for this file
fwd_peer_wait 30
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 'conn 1 closed: .*: half-closed and idle for 1 s$' "the close by the FIN timeout"
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5

fwd_step "the default: 60 s"
fwd_start --job --to 127.0.0.1:9 --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
fwd_log_wait 5 'hold 60 s, FIN timeout 60 s' "the start-up line with the default FIN timeout"
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5
fwd_pass "a half-closed, idle pair is closed after --fin-timeout (not before); traffic keeps it open"
