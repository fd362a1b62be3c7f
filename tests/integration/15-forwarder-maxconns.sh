#!/bin/bash
# pv-forwarder --max-conns 3: three connections work (echo round trips) and stay usable;
# the 4th is closed at once without reaching the destination; after one of the three
# closes, a new connection works again.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init maxconns

N=3
fwd_step "--max-conns $N: the $((N + 1))th connection is closed"
fwd_peer maxconns --fwd-ready "$(fwd_next_ready)" --n "$N" --close-within 1 --io-timeout 20
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --max-conns "$N" --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 "refus.*127\.0\.0\.1" "the refused connection"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "--max-conns $N enforced; a freed slot is reused"
