#!/bin/bash
# pv-forwarder: half-close is passed on.
#  1. the client sends 1 MiB and shuts down its write side; the destination reads to EOF,
#     waits 1 s, then replies with 1 MiB: the whole reply must arrive (then EOF);
#  2. the other way round: the destination sends 1 MiB and shuts down first, the client
#     uploads 1 MiB 1 s later: the whole upload must arrive.
# (socat with its default -t 0.5 loses the reply of case 1; this test fails on it.)
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init halfclose

for order in client-first server-first; do
	fwd_step "half-close, $order, the other side answers 1 s later"
	fwd_peer relay --fwd-ready "$(fwd_next_ready)" --half-close "$order" --delay 1 \
		--up 1048576 --down 1048576 --io-timeout 30
	dport=$(fwd_dest_port)
	fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
	fwd_wait_port
	fwd_peer_wait 60
	grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
	fwd_log_wait 5 'closed.*[^0-9]1048608[^0-9].*[^0-9]1048576[^0-9]' "the close line with both byte counts"
	kill -TERM "$FWD_PID"
	fwd_exit_status "$FWD_PID" 5
	[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"
done
fwd_pass "half-close passed on both ways; the late data arrived in full"
