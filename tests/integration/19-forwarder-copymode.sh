#!/bin/bash
# pv-forwarder's read/write data path (PV_FORWARDER_NO_SPLICE=1; a user over
# fs.pipe-user-pages-soft gets it too, for the connections whose pipes would be too small),
# held to what the splice path is held to: 8 connections at once, 32 MiB each way,
# byte-exact; half-close passed on both ways with the late data complete; under a stalled
# reader the forwarder's memory stays bounded and flat and nothing is lost.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init copymode
FWD_PREFIX=(env PV_FORWARDER_NO_SPLICE=1)
MIB=$((1024 * 1024))

copy_only() {
	grep -q 'PV_FORWARDER_NO_SPLICE is set' "$FWD_LOG" || fwd_fail "the log does not say the read/write path was used"
	if grep -Eq 'F_SETPIPE_SZ|pipe of' "$FWD_LOG"; then fwd_fail "the forwarder made pipes"; fi
}

fwd_step "read/write: 8 connections at once, 32 MiB each way"
fwd_peer relay --fwd-ready "$(fwd_next_ready)" --conns 8 --together --up $((32 * MIB)) --down $((32 * MIB)) --io-timeout 60
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground -d
fwd_wait_port
fwd_peer_wait 120
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
copy_only
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5

for order in client-first server-first; do
	fwd_step "read/write: half-close, $order, the other side answers 1 s later"
	fwd_peer relay --fwd-ready "$(fwd_next_ready)" --half-close "$order" --delay 1 \
		--up "$MIB" --down "$MIB" --io-timeout 30
	dport=$(fwd_dest_port)
	fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground -d
	fwd_wait_port
	fwd_peer_wait 60
	grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
	fwd_log_wait 5 "closed.*[^0-9]$((MIB + 32))[^0-9].*[^0-9]${MIB}[^0-9]" "the close line with both byte counts"
	copy_only
	kill -TERM "$FWD_PID"
	fwd_exit_status "$FWD_PID" 5
done

fwd_step "read/write: stalled readers both ways"
fwd_peer stall --fwd-ready "$(fwd_next_ready)" --pid-file "$(fwd_next_pidfile)" --seconds 4 --settle-max 10 \
	--rss-limit-kib 16384 --growth-limit-kib 512 --writer-limit-mib 2 --io-timeout 30
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground -d
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
copy_only
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "the read/write path: byte-exact, half-close, bounded memory"
