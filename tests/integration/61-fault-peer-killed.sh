#!/bin/bash
# A peer of a relayed connection killed (SIGKILL) mid-transfer, each side in turn:
#   - the desktop client (the destination the forwarder connected to) while pvserver sends:
#     pvserver's side is closed at once (its next send fails);
#   - pvserver (the side that connected to the forwarder) while the desktop sends: the
#     desktop's side is closed at once (EOF or reset).
# "At once": within FL_AT_ONCE_S of the kill (the kernel answers the dead socket's next
# segment with a reset; nothing waits for a timeout). The forwarder logs the connection's close
# with both byte counts, and it goes on serving: a third connection is relayed byte-exact.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
# shellcheck source=tests/lib/faultlib.sh
. "$(dirname "$0")/../lib/faultlib.sh"
fwd_init peerkill
FL_AT_ONCE_S=3
RATE=$((40 * 1024 * 1024))
MIB=$((1024 * 1024))

fl_peer desktop serve --port 0 --conns 3 --recv 0 --progress "$MIB" --timeout 120
dpid=$FL_PID
dport=$(fl_wait_listening "$T/desktop.out")
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port

fwd_step "1: the desktop client is killed while pvserver sends"
fl_peer pvs1 connect --port "$FWD_PORT" --send 0 --rate "$RATE" --progress "$MIB" --timeout 60
fl_wait_bytes "$T/desktop.out" $((8 * MIB)) 30
t_kill=$(fl_now)
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null || true
fl_closed_at_once "$T/pvs1.out" "pvserver's side" "$t_kill"
fwd_log_wait 5 'conn 1 closed: .*[1-9][0-9]* B to destination' "conn 1's close with its counts"
up=$(sed -n 's/.*conn 1 closed: .*, \([0-9]*\) B to destination.*/\1/p' "$FWD_LOG")
[ "${up:-0}" -ge $((8 * MIB)) ] || fwd_fail "conn 1's close line counts $up B to the destination, expected >= 8 MiB"

fwd_step "2: pvserver is killed while the desktop sends"
fl_peer desktop2 serve --port 0 --conns 2 --send 0 --rate "$RATE" --progress "$MIB" --timeout 120
dport2=$(fl_wait_listening "$T/desktop2.out")
fwd_start --job --to "127.0.0.1:$dport2" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
fl_peer pvs2 connect --port "$FWD_PORT" --recv 0 --progress "$MIB" --timeout 60
ppid=$FL_PID
fl_wait_bytes "$T/pvs2.out" $((8 * MIB)) 30
t_kill=$(fl_now)
kill -KILL "$ppid"; wait "$ppid" 2>/dev/null || true
fl_closed_at_once "$T/desktop2.out" "the desktop's side" "$t_kill"
fwd_log_wait 5 'conn 1 closed: .*B to destination, [1-9][0-9]* B to client' "conn 1's close with its counts"
down=$(sed -n 's/.*conn 1 closed: .*B to destination, \([0-9]*\) B to client.*/\1/p' "$FWD_LOG")
[ "${down:-0}" -ge $((8 * MIB)) ] || fwd_fail "conn 1's close line counts $down B to the client, expected >= 8 MiB"

fwd_step "3: the forwarder serves the next connection"
fl_peer pvs3 connect --port "$FWD_PORT" --recv $((4 * MIB)) --timeout 60
end=$(fl_wait_end "$T/desktop2.out" 30 2)
end3=$(fl_wait_end "$T/pvs3.out" 30)
fwd_say "new connection: $end3"
[ "$(fl_field "$end3" ok)" = 1 ] && [ "$(fl_field "$end3" bytes)" -ge $((4 * MIB)) ] || fwd_fail "the next connection: $end3"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "a killed peer's other side closed within $FL_AT_ONCE_S s, counts logged, next connection served"
