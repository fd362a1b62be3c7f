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

# scenario CMD ARGS...: fwdtest.py CMD against a fresh forwarder on the read/write path;
# every assertion of the peer must hold, and the forwarder must have made no pipe
scenario() {
	local cmd=$1
	shift
	fwd_peer "$cmd" --fwd-ready "$(fwd_next_ready)" "$@"
	fwd_start --job --to "127.0.0.1:$(fwd_dest_port)" --listen 127.0.0.1 --allow 127.0.0.1 \
		--ready-fd 3 --foreground -d
	fwd_wait_port
	fwd_peer_wait 120
	grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
	grep -q 'PV_FORWARDER_NO_SPLICE is set' "$FWD_LOG" || fwd_fail "the log does not say the read/write path was used"
	if grep -Eq 'F_SETPIPE_SZ|pipe of' "$FWD_LOG"; then fwd_fail "the forwarder made pipes"; fi
}
stop() {
	kill -TERM "$FWD_PID"
	fwd_exit_status "$FWD_PID" 5
	[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"
}

fwd_step "read/write: 8 connections at once, 32 MiB each way"
scenario relay --conns 8 --together --up $((32 * MIB)) --down $((32 * MIB)) --io-timeout 60
stop

for order in client-first server-first; do
	fwd_step "read/write: half-close, $order, the other side answers 1 s later"
	scenario relay --half-close "$order" --delay 1 --up "$MIB" --down "$MIB" --io-timeout 30
	fwd_log_wait 5 "closed.*[^0-9]$((MIB + 32))[^0-9].*[^0-9]${MIB}[^0-9]" "the close line with both byte counts"
	stop
done

fwd_step "read/write: stalled readers both ways"
scenario stall --pid-file "$(fwd_next_pidfile)" --seconds 4 --settle-max 10 \
	$(fwd_rss_limit) --growth-limit-kib 512 --writer-limit-mib 2 --io-timeout 30
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "the read/write path: byte-exact, half-close, bounded memory"
