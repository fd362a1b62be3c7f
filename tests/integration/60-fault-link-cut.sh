#!/bin/bash
# The login<->desktop link goes down mid-session (`ip link set v-desktop down` on login), with
# two connections through one srun's forwarder: one idle, one with pvserver-side data in
# flight (the job sends 4 MiB/s to desktop). Keepalive (60 s + 6 x 10 s) covers the idle one;
# for the one with unacknowledged data only TCP_USER_TIMEOUT (120 s, sock.h) does. Asserted:
# for both connections the forwarder closes its pair and the job's side sees the close within
# BOUND_S of the cut; nothing hangs; with the link up again the same forwarder serves a new
# connection byte-exact. (Desktop's own sockets cannot be told while the link is down: desktop
# learns at its next send, from the reset.)
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
. "$(dirname "$0")/../lib/faultlib.sh"
FL_WAIT=tb_wait
BOUND_S=145      # TCP_USER_TIMEOUT 120 s + the retransmit timer's granularity + load
MIB=$((1024 * 1024))
tb_up
lt_init

fl_bed_desktop 3 400
fp=$FL_BED_PEER port=$FL_BED_PORT desk=$FL_BED_LOG

tb_step "a job with two connections through its forwarder: idle, and 4 MiB/s to desktop"
cat >"$PT_DIR/job.sh" <<EOF2
d=$PT_DIR
python3 $fp connect --host "\$PV_FORWARD_HOST" --port "\$PV_FORWARD_PORT" --idle --timeout 280 >\$d/idle.out 2>&1 &
sleep 1
python3 $fp connect --host "\$PV_FORWARD_HOST" --port "\$PV_FORWARD_PORT" --send 0 --rate $((4 * MIB)) --progress $MIB --timeout 280 >\$d/data.out 2>&1 &
wait
while [ ! -e \$d/go3 ]; do sleep 0.1; done
python3 $fp connect --host "\$PV_FORWARD_HOST" --port "\$PV_FORWARD_PORT" --send $((8 * MIB)) --timeout 60 >\$d/after.out 2>&1
EOF2
chown "$TB_USER:" "$PT_DIR/job.sh"
lt_start job "$port" 400 srun -N1 -w compute1 sh "$PT_DIR/job.sh"
fwd=$LT_PID
echo "job $PT_JOB, forwarder $fwd on login:$PT_LPORT"
fl_wait_bytes "$PT_DIR/data.out" $((8 * MIB)) 60
tb_wait 10 "both connections at desktop" tb__file_matches "$desk" '^conn n=2 '
tb_wait 10 "both connections open in the forwarder's log" lt__log_has "$fwd" 'conn 2 open'

tb_step "the link goes down"
t_cut=$(fl_now)
tb_run login ip link set v-desktop down
echo "link down at $t_cut; waiting up to $BOUND_S s + 30 for both connections to close"
# the time each event is first seen (0.2 s polls)
declare -A seen=()
deadline=$(awk -v t="$t_cut" -v b="$BOUND_S" 'BEGIN { printf "%d", t + b + 30 }')
while [ "$(date +%s)" -le "$deadline" ]; do
    now=$(fl_now)
    log=$(lt_log "$fwd")
    for c in 1 2; do
        [ -n "${seen[fwd$c]:-}" ] || ! grep -q "conn $c closed" <<<"$log" || seen[fwd$c]=$now
    done
    for s in idle data; do
        [ -n "${seen[$s]:-}" ] || ! grep -q '^end ' "$PT_DIR/$s.out" || seen[$s]=$now
    done
    [ "${#seen[@]}" = 4 ] && break
    sleep 0.2
done
for k in fwd1 fwd2 idle data; do
    if [ -n "${seen[$k]:-}" ]; then
        dt=$(fl_secs "$t_cut" "${seen[$k]}")
        pt_measure "$k closed $dt s after the cut"
        awk -v d="$dt" -v b="$BOUND_S" 'BEGIN { exit !(d <= b) }' && pt_good "$k: within $BOUND_S s" ||
            pt_bad "$k closed $dt s after the cut (bound $BOUND_S s)"
    else
        pt_bad "$k not closed $BOUND_S + 30 s after the cut"
    fi
done
lt_log "$fwd" | grep -E 'conn [12] closed' | sed 's/^/    /'
echo "    job side: $(grep '^end ' "$PT_DIR/idle.out" || true) / $(grep '^end ' "$PT_DIR/data.out" || true)"
pt_check_match 'conn 2 closed: .*(timed out|Connection timed out)' "$(lt_log "$fwd")" "the data connection closed for the timeout"

tb_step "the link up again: the same forwarder serves a new connection"
tb_run login ip link set v-desktop up
tb_wait 20 "the route to desktop" tb_run login ip route get "$TB_ADDR_desktop" || pt_bad "no route to desktop after the link came up"
touch "$PT_DIR/go3"
end=$(fl_wait_end "$PT_DIR/after.out" 90) || end=
echo "    new connection: $end"
pt_check_eq "done 8388608" "$(fl_field " $end" how) $(fl_field " $end" bytes)" "the new connection after the link came back"
tb_wait 10 "desktop's end of the new connection" tb__file_matches "$desk" '^end n=3 ' || true
pt_check_match '^end n=3 how=eof bytes=8388608 ok=1' "$(grep '^end n=3 ' "$desk" || true)" "desktop received the new connection byte-exact"
pt_bg_wait job 30 || pt_bad "srun did not end"
pt_check_eq 0 "${PT_RC:-none}" "srun's exit status"
lt_show_log "$fwd" 12
pt_done
