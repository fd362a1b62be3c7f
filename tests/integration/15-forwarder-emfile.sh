#!/bin/bash
# pv-forwarder out of file descriptors (its limit lowered with prlimit while it runs): a
# new connection waits in the listen backlog; the forwarder pauses accepting (one log line
# a second, at most 0.5 s of CPU in 3 s: no accept() loop) and the connection it already
# relays keeps working; with the limit back, the waiting connection is served within 3 s.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init emfile
command -v prlimit >/dev/null || fwd_fail "prlimit missing (util-linux)"

fwd_step "out of descriptors with a connection waiting"
fwd_peer emfile --fwd-ready "$(fwd_next_ready)" --pid-file "$(fwd_next_pidfile)" \
	--seconds 3 --cpu-limit 0.5 --resume-within 3 --io-timeout 30
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
n=$(grep -c 'not accepting for' "$FWD_LOG" || true)
fwd_say "log lines 'not accepting for': $n"
[ "$n" -ge 1 ] || fwd_fail "no 'not accepting' line in the forwarder's log"
[ "$n" -le 6 ] || fwd_fail "$n 'not accepting' lines in about 3 s: the pause does not hold"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "accepting paused while out of descriptors; the open connection unaffected; resumed"
