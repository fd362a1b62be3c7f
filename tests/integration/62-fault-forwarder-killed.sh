#!/bin/bash
# The forwarder is killed (SIGKILL) mid-session, while the job's task sends 4 MiB/s to desktop
# through it:
#   - the job is not harmed beyond that connection: the task's connection ends at once (the
#     kernel closes the dead process's sockets), desktop's side too; the task goes on, srun and
#     the job end normally (exit 0, COMPLETED) when the task is done;
#   - the dead forwarder's <pid>.state (and a <pid>.state.tmp, as a kill between write and
#     rename leaves it) are removed by the next `pv-forwarder --list`, and the same leftovers
#     by the next forwarder's start (no --list needed); its log stays;
#   - what the user is told: the task sees its connection reset at once; --list no longer
#     shows the forwarder; srun, at its end, says that its forwarder ended before it did
#     (the forwarder is not srun's child and SIGKILL leaves it no last word, but srun's end of
#     the lifeline pipe shows that nobody reads it any more) and where the forwarder's log is.
#     (68 does the same to salloc's and sbatch's forwarders.)
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
. "$(dirname "$0")/../lib/faultlib.sh"
FL_WAIT=tb_wait
AT_ONCE_S=3
MIB=$((1024 * 1024))
tb_up
lt_init

fl_bed_desktop 1 200
fp=$FL_BED_PEER port=$FL_BED_PORT desk=$FL_BED_LOG

tb_step "a job sending 4 MiB/s to desktop through its forwarder"
cat >"$PT_DIR/job.sh" <<EOF2
d=$PT_DIR
python3 $fp connect --host "\$PV_FORWARD_HOST" --port "\$PV_FORWARD_PORT" --send 0 --rate $((4 * MIB)) --progress $MIB --timeout 120 >\$d/data.out 2>&1
echo "task: the connection ended; carrying on"
while [ ! -e \$d/release ]; do sleep 0.1; done
echo "task: done"
EOF2
chown "$TB_USER:" "$PT_DIR/job.sh"
lt_start job "$port" 200 srun -N1 -w compute1 sh "$PT_DIR/job.sh"
fwd=$LT_PID job=$PT_JOB lport=$PT_LPORT
echo "job $job, forwarder $fwd on login:$PT_LPORT"
fl_wait_bytes "$PT_DIR/data.out" $((8 * MIB)) 60
tb_wait 10 "the forwarder's state file" test -s "$LT_STATE/$fwd.state" || tb_fail "no $LT_STATE/$fwd.state"

tb_step "SIGKILL to the forwarder"
t_kill=$(fl_now)
kill -KILL "$fwd"
end=$(fl_wait_end "$PT_DIR/data.out" 30) || end=
dend=$(fl_wait_end "$desk" 30) || dend=
for side in "task:$end" "desktop:$dend"; do
    name=${side%%:*} line=${side#*:}
    dt=$(fl_secs "$t_kill" "$(fl_field " $line" t)")
    pt_measure "$name's side closed $dt s after the kill: $line"
    awk -v d="$dt" -v b="$AT_ONCE_S" 'BEGIN { exit !(d >= 0 && d <= b) }' && pt_good "$name: closed at once" ||
        pt_bad "$name's side closed $dt s after the kill (bound $AT_ONCE_S s)"
    pt_check_match '^(reset|eof|error:EPIPE)$' "$(fl_field " $line" how)" "$name: how the connection ended"
done
tb_wait 5 "the forwarder to be gone" lt__gone_known job || pt_bad "forwarder $fwd still there"
pt_check_eq RUNNING "$(tb_job_state "$job")" "job $job after the kill"
pt_check_match 'task: the connection ended; carrying on' "$(pt_out job)" "the task carries on"

tb_step "the leftovers: removed by --list"
[ -e "$LT_STATE/$fwd.state" ] && pt_good "the dead forwarder left $fwd.state" || pt_bad "no $fwd.state left (nothing to clean?)"
cp -p "$LT_STATE/$fwd.state" "$PT_DIR/stale.state"
install -o "$TB_USER" -m 0600 /dev/null "$LT_STATE/$fwd.state.tmp"
list=$(lt_list)
echo "$list" | sed 's/^/    --list: /'
pt_check_no_match "^ *$fwd " "$list" "--list has no row for the dead forwarder"
pt_check_eq "" "$(cd "$LT_STATE" && ls -d "$fwd.state" "$fwd.state.tmp" 2>/dev/null)" "$fwd.state and $fwd.state.tmp after --list"
[ -s "$LT_STATE/$fwd.log" ] && pt_good "its log stays" || pt_bad "its log $LT_STATE/$fwd.log is gone"

tb_step "the same leftovers: removed by the next forwarder's start"
cp -p "$PT_DIR/stale.state" "$LT_STATE/$fwd.state"
install -o "$TB_USER" -m 0600 /dev/null "$LT_STATE/$fwd.state.tmp"
port2=$(lt_port)
lt_start next "$port2" 60 srun -N1 -w compute2 sh -c 'echo next-started; sleep 2'
pt_bg_wait next 60 || pt_bad "the next srun did not end"
pt_check_eq 0 "${PT_RC:-none}" "the next srun's exit status"
pt_check_eq "" "$(cd "$LT_STATE" && ls -d "$fwd.state" "$fwd.state.tmp" 2>/dev/null)" "$fwd.state and $fwd.state.tmp after the next forwarder's start"

tb_step "the job ends normally"
touch "$PT_DIR/release"
pt_bg_wait job 60 || pt_bad "srun did not end"
pt_check_eq 0 "${PT_RC:-none}" "srun's exit status"
pt_check_eq COMPLETED "$(tb_wait_job "$job" 20)" "state of job $job"
echo "    what srun said (stderr):"
pt_err job | sed 's/^/    | /'
# --list removed the dead forwarder's state file above, so srun names the directory of its log
pt_check_match "pv-forward: the forwarder on 'login:$lport' ended before srun did \(killed\?\); connections through it were cut then\. Its log is in '$LT_STATE' on 'login'\.\$" \
    "$(pt_err job)" "srun tells the user"
pt_check_no_match "ended before srun" "$(pt_err next)" "the next srun (its forwarder ended normally) does not say it"
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
