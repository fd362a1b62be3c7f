#!/bin/bash
# A rogue address floods the forwarder's port with 10,000 connection attempts (FLOOD_RATE a
# second) during a 1 GiB session (pvserver -> desktop, paced at RATE, sha256 of both ends):
#   - the session stays byte-exact and its time stays within 25 % of an undisturbed run of the
#     same session measured just before in this test (the flooder shares the machine's CPUs).
#     The test machine runs other work too: a pair over the bound is measured once more, and
#     the better pair counts;
#   - every attempt is refused (closed at once, nothing relayed);
#   - the forwarder's RSS stays bounded (sampled every 0.1 s: at most 2 MiB over its size
#     before the flood) and its CPU per refused attempt is reported;
#   - the refusal log is rate-limited (LISTENER_REFUSE_LOGS_PER_S lines a second and one
#     summary line a second), and the lines account for every attempt: the last summary is
#     written although no refusal follows it.
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
# shellcheck source=tests/lib/faultlib.sh
. "$(dirname "$0")/../lib/faultlib.sh"
fwd_init flood
GIB=$((1024 * 1024 * 1024))
MIB=$((1024 * 1024))
RATE=$((64 * MIB))
ATTEMPTS=10000
FLOOD_RATE=1000   # attempts a second: the flood spans most of the session
LOGS_PER_S=10     # listener.h LISTENER_REFUSE_LOGS_PER_S
ROGUE=127.0.0.2
PAIRS=2

# The sanitizer build (tests/check-asan exports ASAN_OPTIONS): clang 19's ASan (not clang 14's)
# detects stack use after return by default, with fake stack frames in a large per-thread
# region whose pages RSS counts as the calls first touch them (+5.8 MiB over this flood,
# leveling off; none with the option off). That is the sanitizer's fixed region, not the
# forwarder's memory, so this test turns it off for its forwarder; the other tests keep it.
[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_stack_use_after_return=0"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$FWD_PID/status"; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$FWD_PID/stat"; }
fl_peer desktop serve --port 0 --conns $((2 * PAIRS)) --recv 0 --no-compare --progress $((64 * MIB)) --timeout 600
dport=$(fl_wait_listening "$T/desktop.out")
fwd_start --job --to "127.0.0.1:$dport" --listen 127.0.0.1 --allow 127.0.0.1 --ready-fd 3 --foreground
fwd_wait_port
ndesk=0

# session NAME: one 1 GiB session; checks it and what desktop got; sets S_END, S_ELAPSED
session_end() {
	local end dend
	end=$(fl_wait_end "$T/$1.out" 120)
	fwd_say "$1: $end"
	[ "$(fl_field "$end" how)" = "done" ] || fwd_fail "session $1 ended '$(fl_field "$end" how)'"
	ndesk=$((ndesk + 1))
	dend=$(fl_wait_end "$T/desktop.out" 10 "$ndesk")
	[ "$(fl_field "$dend" bytes)" = "$GIB" ] && [ "$(fl_field "$dend" sha256)" = "$(fl_field "$end" sha256)" ] ||
		fwd_fail "desktop received for $1: $dend (sent: $end)"
	S_END=$(fl_field "$end" t) S_ELAPSED=$(fl_field "$end" elapsed)
}

best=
for pair in $(seq 1 "$PAIRS"); do
	fwd_step "pair $pair: undisturbed, 1 GiB at $((RATE / MIB)) MiB/s"
	c0=$(cpu_ticks)
	fl_peer "quiet$pair" connect --port "$FWD_PORT" --send "$GIB" --rate "$RATE" --timeout 120
	session_end "quiet$pair"
	c1=$(cpu_ticks)
	t_quiet=$S_ELAPSED
	relay_cpu=$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v s="$t_quiet" 'BEGIN { printf "%.4f", t / hz / s }')
	fwd_say "the forwarder's CPU while relaying: $relay_cpu s per s"

	fwd_step "pair $pair: the same session while $ROGUE makes $ATTEMPTS connection attempts"
	rm -f "$T/go" "$T/rss.stop" "$T/rss.samples"
	"$FL_PY" "$FL_PEER" flood --host 127.0.0.1 --port "$FWD_PORT" --source "$ROGUE" --count "$ATTEMPTS" \
		--rate "$FLOOD_RATE" --go-file "$T/go" >"$T/flood$pair.out" 2>&1 &
	fpid=$!
	FWD_BG_PIDS+=("$fpid")
	rss0=$(rss)
	fl_peer "busy$pair" connect --port "$FWD_PORT" --send "$GIB" --rate "$RATE" --progress $((16 * MIB)) --timeout 120
	fl_wait_bytes "$T/busy$pair.out" $((16 * MIB)) 30
	(while [ ! -e "$T/rss.stop" ]; do rss >>"$T/rss.samples" 2>/dev/null || break; sleep 0.1; done) &
	FWD_BG_PIDS+=("$!")
	lines0=$(wc -l <"$FWD_LOG")
	c2=$(cpu_ticks)
	touch "$T/go"
	fwd_exit_status "$fpid" 60
	c3=$(cpu_ticks)
	touch "$T/rss.stop"
	flood=$(cat "$T/flood$pair.out")
	fwd_say "flood: $flood"
	[ "$(fl_field " $flood" closed)" = "$ATTEMPTS" ] || fwd_fail "not every attempt was refused: $flood"
	session_end "busy$pair"
	fsecs=$(fl_field " $flood" elapsed)
	f_end=$(awk -v a="$(fl_field " $flood" t0)" -v b="$fsecs" 'BEGIN { printf "%.3f", a + b }')
	awk -v e="$S_END" -v f="$f_end" 'BEGIN { exit !(f < e) }' ||
		fwd_fail "the flood ended after the session (the session must outlast it; lower RATE)"
	ratio=$(awk -v a="$t_quiet" -v b="$S_ELAPSED" 'BEGIN { printf "%.3f", b / a }')
	fwd_say "session time: undisturbed $t_quiet s, with the flood $S_ELAPSED s: ${ratio}x (flood $fsecs s)"
	rssmax=$(sort -n "$T/rss.samples" | tail -n1)
	fwd_say "RSS: $rss0 KiB before the flood, at most $rssmax KiB during it ($(wc -l <"$T/rss.samples") samples)"
	[ "$rssmax" -le $((rss0 + 2048)) ] || fwd_fail "RSS grew from $rss0 to $rssmax KiB"
	awk -v t="$((c3 - c2))" -v hz="$(getconf CLK_TCK)" -v n="$ATTEMPTS" -v r="$relay_cpu" -v s="$fsecs" 'BEGIN {
		printf "    CPU: %.2f s in the flood'\''s %.1f s: %.0f us per refused attempt (%.0f us without the relay'\''s share)\n",
			t / hz, s, t / hz / n * 1e6, (t / hz - r * s) / n * 1e6 }'

	fwd_step "pair $pair: the refusal log"
	fwd_wait 5 "the last summary line" fwd__log_has 'more refused connections were not logged'
	sleep 1.5   # a summary is due at most 1 s after the last refusal: let one that is late show
	tail -n +"$((lines0 + 1))" "$FWD_LOG" >"$T/flood.log"
	nref=$(grep -c "refused connection from $ROGUE" "$T/flood.log" || true)
	nsum=$(grep -c 'more refused connections were not logged' "$T/flood.log" || true)
	quiet=$(sed -n 's/.*: \([0-9]*\) more refused connections were not logged.*/\1/p' "$T/flood.log" | awk '{ s += $1 } END { print s + 0 }')
	fwd_say "log lines: $nref refusals, $nsum summaries (of $quiet), for $ATTEMPTS attempts in $fsecs s"
	[ $((nref + quiet)) = "$ATTEMPTS" ] || fwd_fail "the log accounts for $((nref + quiet)) of $ATTEMPTS attempts"
	maxl=$(awk -v s="$fsecs" -v n="$LOGS_PER_S" 'BEGIN { printf "%d", (n + 1) * (s + 2) }')
	[ $((nref + nsum)) -le "$maxl" ] || fwd_fail "$((nref + nsum)) refusal log lines in $fsecs s (bound $maxl)"
	lines=$((nref + nsum))
	if [ -z "$best" ] || awk -v r="$ratio" -v b="$best" 'BEGIN { exit !(r < b) }'; then best=$ratio; fi
	awk -v r="$best" 'BEGIN { exit !(r <= 1.25) }' && break
	fwd_say "${ratio}x is over the bound: measuring again"
done
fwd_say "the best pair: ${best}x"
awk -v r="$best" 'BEGIN { exit !(r <= 1.25) }' || fwd_fail "the session took ${best}x the undisturbed time (bound 1.25)"
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder died"
fwd_pass "$ATTEMPTS refused; session byte-exact at ${best}x; RSS <= $rssmax KiB; $lines log lines"
