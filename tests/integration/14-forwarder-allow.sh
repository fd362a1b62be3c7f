#!/bin/bash
# pv-forwarder: only allowed sources get through.  --allow 127.0.0.2 (and a CIDR block
# elsewhere); connections from 127.0.0.1 and 127.0.0.3 must be closed at once (< 1 s),
# receive nothing, never reach the destination, and be logged with their address; a
# connection from 127.0.0.2 must work (the positive control).  A forwarder whose destination
# is its own listening port refuses its own connections and closes the client after --hold.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init allow
# The bounds below are the feature; under a wrapper (tests/check-valgrind: memcheck) they are
# scaled by fwd_bound. A refused connection is still closed within a few seconds where the
# hold would keep it 60 s, and the loop's client is still closed after the hold, not before.
within=$(fwd_bound 1)
hold_max=$(fwd_bound 8)

check_refusals() {   # refused source addresses...
	local a
	for a in "$@"; do
		fwd_log_wait 5 "refus.*${a//./\\.}([^0-9]|$)" "the refusal of $a"
	done
}

fwd_step "--allow 127.0.0.2: from 127.0.0.1 and 127.0.0.3 refused, from 127.0.0.2 relayed"
fwd_peer allow --fwd-ready "$(fwd_next_ready)" --allowed 127.0.0.2 --denied 127.0.0.1 --denied 127.0.0.3 \
	--close-within "$within" --io-timeout 20
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.2 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
check_refusals 127.0.0.1 127.0.0.3
if grep -E 'refus.*127\.0\.0\.2([^0-9]|$)' "$FWD_LOG"; then fwd_fail "the allowed source 127.0.0.2 was refused"; fi
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5
[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"

fwd_step "--allow 127.0.0.0/30 (CIDR): 127.0.0.2 relayed, 127.0.0.4 refused"
fwd_peer allow --fwd-ready "$(fwd_next_ready)" --allowed 127.0.0.2 --denied 127.0.0.4 --close-within "$within" --io-timeout 20
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.0/30 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
check_refusals 127.0.0.4
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5

# A destination that leads back to the listener must not become a connection storm: the
# forwarder refuses its own upstream connection (matched on both ends), retries within the
# hold time, then closes the client.
fwd_step "--to its own listening port: its own connections refused, the client closed after --hold"
lport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fwd_start --job --to "127.0.0.1:$lport" --listen 127.0.0.1 --ports "$lport-$lport" --allow 127.0.0.1 --hold 2 --ready-fd 3 --foreground
fwd_wait_port
out=$(python3 - "$lport" "$hold_max" <<'EOS'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
t0 = time.monotonic()
s.sendall(b"x")
s.settimeout(float(sys.argv[2]) + 7)
try:
    d = s.recv(1)
    how = "eof" if not d else "data"
except ConnectionResetError:
    how = "reset"
except socket.timeout:
    how = "still open"
print("%s %.2f" % (how, time.monotonic() - t0))
EOS
)
fwd_say "client: $out"
case $out in
	eof\ *|reset\ *) ;;
	*) fwd_fail "the client was not closed: $out" ;;
esac
secs=${out#* }
awk -v s="$secs" -v max="$hold_max" 'BEGIN { exit !(s >= 1.9 && s < max) }' ||
	fwd_fail "the client was closed after $secs s, expected the hold time (2 s) + margin (less than $hold_max s)"
fwd_log_wait 2 'it comes from this forwarder \(the destination loops back here\)' "the refusal of its own connection"
n=$(grep -c 'it comes from this forwarder' "$FWD_LOG" || true)
fwd_say "own connections refused: $n"
[ "$n" -ge 1 ] && [ "$n" -le 10 ] || fwd_fail "$n own connections refused (expected one per retry: 1-10)"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "sources outside the allow-list closed at once, not relayed, logged; allowed sources relayed; a loop back to itself refused"
