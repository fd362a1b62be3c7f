#!/bin/bash
# pv-forwarder: 200 connections open at the same time (the destination holds every one
# until all 200 have arrived), 1 MiB each way on each, distinct content per connection
# and direction, every byte checked.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
fwd_init concurrent

N=200
fwd_step "$N concurrent connections, 1 MiB each way each"
fwd_peer relay --fwd-ready "$(fwd_next_ready)" --conns "$N" --together --up 1048576 --down 1048576 --io-timeout 90
dport=$(fwd_dest_port)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --max-conns 256 --ready-fd 3 --foreground
fwd_wait_port
fwd_peer_wait 240
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
fwd_wait 5 "$N close lines in the log" eval '[ "$(grep -c " closed" "$FWD_LOG")" -ge '"$N"' ]'
opened=$(grep -c ' open' "$FWD_LOG" || true)
closed=$(grep -c ' closed' "$FWD_LOG" || true)
fwd_say "log: $opened open lines, $closed close lines"
[ "$closed" = "$N" ] || fwd_fail "$closed close lines in the log, expected $N"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "$N concurrent connections relayed byte-exact"
