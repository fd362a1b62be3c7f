#!/bin/bash
# pv-forwarder: a destination that is not there yet.
#  1. The destination port refuses connections (bound, not listening) and starts listening
#     10 s after the client's connection arrived: the held connection must then go through,
#     256 KiB each way, including what the client sent while it was held (--hold 30).
#  2. The destination never starts (--hold 3): the client must be held, not closed at once
#     (pvserver gives up at once after a failed handshake), then closed cleanly (FIN) about
#     3 s later, and the forwarder must log why.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init hold

fwd_step "destination starts listening 10 s after the connection arrived (--hold 30)"
fwd_peer hold --fwd-ready "$(fwd_next_ready)" --delay 10 --max-retry-lag 3 --io-timeout 45
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --hold 30 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 "127\.0\.0\.1:$dport.*(not reachable|unreachable|refused)" "the connection held while the destination refused"
fwd_log_wait 5 "closed.*[^0-9]262176[^0-9].*[^0-9]262144[^0-9]" "the close line with both byte counts"
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5
[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"

fwd_step "destination never starts (--hold 3)"
fwd_peer nodest --fwd-ready "$(fwd_next_ready)" --hold 3 --slack 3 --want-eof --io-timeout 20
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --hold 3 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 40
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 "closed.*127\.0\.0\.1:$dport.*(unreachable|not reachable|refused|gave up|timed? ?out|hold)" \
	"the connection closed after the hold time"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "held connection succeeded after 10 s; unreachable destination closed after the hold time and logged"
