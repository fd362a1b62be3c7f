#!/bin/bash
# pv-forwarder: only allowed sources get through.  --allow 127.0.0.2 (and a CIDR block
# elsewhere); connections from 127.0.0.1 and 127.0.0.3 must be closed at once (< 1 s),
# receive nothing, never reach the destination, and be logged with their address; a
# connection from 127.0.0.2 must work (the positive control).
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init allow

check_refusals() {   # refused source addresses...
	local a
	for a in "$@"; do
		fwd_log_wait 5 "refus.*${a//./\\.}([^0-9]|$)" "the refusal of $a"
	done
}

fwd_step "--allow 127.0.0.2: from 127.0.0.1 and 127.0.0.3 refused, from 127.0.0.2 relayed"
fwd_peer allow --fwd-ready "$(fwd_next_ready)" --allowed 127.0.0.2 --denied 127.0.0.1 --denied 127.0.0.3 \
	--close-within 1 --io-timeout 20
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
fwd_peer allow --fwd-ready "$(fwd_next_ready)" --allowed 127.0.0.2 --denied 127.0.0.4 --close-within 1 --io-timeout 20
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.0/30 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
check_refusals 127.0.0.4
fwd_pass "sources outside the allow-list closed at once, not relayed, logged; allowed sources relayed"
