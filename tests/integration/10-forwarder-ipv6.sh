#!/bin/bash
# pv-forwarder over IPv6 only: listening on [::1], relaying to a destination on [::1],
# allowing ::1; 4 connections at once, 16 MiB each way, byte-exact; a connection from
# 127.0.0.1 to an IPv6-only forwarder is impossible, so the allow-list check is that ::1
# passes and the log names the IPv6 peer and destination.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init ipv6
[ -e /proc/net/if_inet6 ] || fwd_fail "this kernel has no IPv6"

MIB=$((1024 * 1024))
fwd_step "4 connections, 16 MiB each way, [::1] -> [::1]"
fwd_peer relay --dest '[::1]:0' --fwd-host ::1 --fwd-ready "$(fwd_next_ready)" --conns 4 --together \
	--up $((16 * MIB)) --down $((16 * MIB)) --io-timeout 60
dport=$(fwd_dest_port)
fwd_start --job --to "[::1]:$dport" --listen '[::1]' --allow ::1 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 120
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_log_wait 5 'listening on \[::1\]:' "the IPv6 listening address"
fwd_log_wait 5 "conn [0-9]+ open: \[::1\]:[0-9]+ -> \[::1\]:$dport" "an IPv6 peer and destination in the open line"
n=$(grep -c "closed: \[::1\]:[0-9]* -> \[::1\]:$dport, $((16 * MIB + 32)) B to destination, $((16 * MIB)) B to client" "$FWD_LOG" || true)
[ "$n" = 4 ] || fwd_fail "$n of 4 close lines with both byte counts"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "IPv6 listen, allow and connect; 4 x 16 MiB each way byte-exact"
