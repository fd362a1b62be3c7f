#!/bin/bash
# pv-forwarder: byte-exact relay of 1 GiB each way, at the same time, on one connection.
# Both streams are generated deterministically by tests/lib/fwdtest.py and compared on
# the fly (every byte, and sha256 of what was sent against sha256 of what arrived).
# Run with -dd: the log must not report the read/write fallback (splice on loopback TCP).
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init bytes

GIB=$((1024 * 1024 * 1024))
fwd_step "1 GiB each way through pv-forwarder (job mode)"
fwd_peer relay --fwd-ready "$(fwd_next_ready)" --conns 1 --up "$GIB" --down "$GIB" --io-timeout 120
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground -d -d
fwd_wait_port
fwd_peer_wait 300
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 "closed.*[^0-9]$((GIB + 32))[^0-9].*[^0-9]${GIB}[^0-9]" "the connection's close line with both byte counts"
# the data path is splice(2) on Linux; the read/write fallback is only for kernels that refuse it
if grep -Ei 'read/write|splice refused' "$FWD_LOG"; then
	fwd_fail "pv-forwarder fell back to read/write on loopback TCP"
fi
grep -qi 'splice' "$FWD_LOG" && fwd_say "log: $(grep -i 'splice' "$FWD_LOG" | head -1)"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "1 GiB each way relayed byte-exact"
