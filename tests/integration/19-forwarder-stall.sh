#!/bin/bash
# pv-forwarder with a stalled reader: both ends write as fast as they can while neither
# reads.  The writers must be held back (no progress for 0.5 s, within 10 s); from then
# (sample A) for 4 more seconds (sample B) the forwarder's VmRSS (/proc/PID/status) must
# stay below 16 MiB (under a wrapper: at most 8 MiB above its idle VmRSS, fwd_rss_limit) and
# flat (+512 KiB at most from A to B), and the writers may not get more than 2 MiB further.
# Then both ends read: everything written must arrive, byte-exact.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init stall

fwd_step "stalled readers both ways"
fwd_peer stall --fwd-ready "$(fwd_next_ready)" --pid-file "$(fwd_next_pidfile)" --seconds 4 --settle-max 10 \
	$(fwd_rss_limit) --growth-limit-kib 512 --writer-limit-mib 2 --io-timeout 30
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "memory bounded and flat under a stalled reader; nothing lost"
