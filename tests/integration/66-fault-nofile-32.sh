#!/bin/bash
# pv-forwarder started with RLIMIT_NOFILE 32 (where test 15-forwarder-emfile lowers the limit
# of a running forwarder for one waiting connection, this one starts low and gets ten at
# once). A relayed pair costs six descriptors (two sockets, two splice pipes), so only a few
# fit. The behaviour: the connections that fit are relayed; the next one's destination connect
# fails with EMFILE and it is held (retried, as for an unreachable destination); the rest wait
# in the listen backlog while accepting pauses (one "not accepting for 1 s" line a second at
# most); as pairs close, the waiting ones are served. All ten arrive byte-exact, no crash.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
# shellcheck source=tests/lib/faultlib.sh
. "$(dirname "$0")/../lib/faultlib.sh"
fwd_init nofile32
command -v prlimit >/dev/null || fwd_fail "prlimit missing (util-linux)"
MIB=$((1024 * 1024))
N=10
SIZE=$((16 * MIB))
RATE=$((8 * MIB))
LIMIT_S=60

fl_peer desktop serve --port 0 --conns "$N" --recv 0 --timeout 120
dport=$(fl_wait_listening "$T/desktop.out")
FWD_PREFIX=(prlimit --nofile=32:32)
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
lim=$(awk '/^Max open files/ { print $4 }' "/proc/$FWD_PID/limits")
[ "$lim" = 32 ] || fwd_fail "the forwarder's descriptor limit is '$lim', expected 32"
fwd_say "descriptors in use when idle: $(find "/proc/$FWD_PID/fd" -mindepth 1 | wc -l) of 32"

fwd_step "$N connections at once, $((SIZE / MIB)) MiB each at $((RATE / MIB)) MiB/s"
t0=$(fl_now)
for i in $(seq "$N"); do
	fl_peer "c$i" connect --port "$FWD_PORT" --send "$SIZE" --rate "$RATE" --timeout "$LIMIT_S"
done
for i in $(seq "$N"); do
	end=$(fl_wait_end "$T/c$i.out" "$LIMIT_S")
	[ "$(fl_field "$end" how)" = "done" ] || fwd_fail "connection $i: $end"
done
t1=$(fl_now)
for i in $(seq "$N"); do
	dend=$(fl_wait_end "$T/desktop.out" 10 "$i")
	[ "$(fl_field "$dend" ok)" = 1 ] && [ "$(fl_field "$dend" bytes)" = "$SIZE" ] || fwd_fail "desktop, connection $i: $dend"
done
fwd_say "all $N byte-exact in $(fl_secs "$t0" "$t1") s"

fwd_step "what the log says"
paused=$(grep -c 'Too many open files; not accepting for' "$FWD_LOG" || true)
held=$(grep -c 'not reachable (.*Too many open files); holding the client' "$FWD_LOG" || true)
closed=$(grep -c 'conn [0-9]* closed: .*closed by both sides' "$FWD_LOG" || true)
# the most pairs open at once, from the open/closed lines in order
most=$(awk '/conn [0-9]+ open:/ { n++; if (n > m) m = n } /conn [0-9]+ closed:/ { n-- } END { print m + 0 }' "$FWD_LOG")
fwd_say "accept paused $paused times, $held held for EMFILE at the destination, at most $most open at once, $closed closed normally"
[ "$closed" = "$N" ] || fwd_fail "$closed of $N connections closed normally"
[ "$most" -lt "$N" ] || fwd_fail "all $N were open at once: the limit did not bite"
[ "$paused" -ge 1 ] || fwd_fail "no 'not accepting' line: the limit did not bite"
secs=$(fl_secs "$t0" "$t1")
awk -v p="$paused" -v s="$secs" 'BEGIN { exit !(p <= s + 2) }' || fwd_fail "$paused pause lines in $secs s: more than one a second"
! grep -Eiq 'abort|assert|sanitizer|segmentation' "$FWD_LOG" || fwd_fail "the log shows a crash"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "RLIMIT_NOFILE 32: $most pairs at once, the rest waited; $N of $N byte-exact; $paused pause lines"
