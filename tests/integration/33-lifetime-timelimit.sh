#!/bin/bash
# The time limit ends the job, and the forwarder with it. Slurm's limits are whole
# minutes and slurmctld enforces them on its own schedule (about every 30 s), so a 1-minute
# job ends 60-90 s after it started: both launchers are tested in that one wait, side by side:
#   salloc -t 1 --pv-forward ... sleep 300   gone <= 2 s after slurmctld logged the time limit
#                                            (salloc itself runs on: the revocation does not
#                                            end its command)
#   sbatch -t 1 --pv-forward --wrap='sleep 300'   gone <= 5 s after it
# --list shows both running before, neither after.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init


tb_step "start: salloc -t 1 and sbatch -t 1"
ps=$(lt_port)
pt_bg login salloc 200 salloc --pv-forward="desktop:$ps" -N1 -t 1 sleep 300
pt_wait_plugin_line salloc "desktop:$ps" 30 || { pt_show salloc; tb_fail "salloc: no plugin line"; }
ls=$PT_LPORT
tb_wait 20 "salloc's allocation" granted salloc || tb_fail "salloc: no allocation: $(pt_err salloc)"
js=$(granted salloc)
fs=$(lt_fwd_pid "desktop:$ps") || tb_fail "salloc: no forwarder to desktop:$ps"
lt_watch salloc "$fs"
echo "salloc: job $js, forwarder $fs on login:$ls"

lt_sbatch sbatch "$(lt_port)" -t 1 --wrap='sleep 300'
[ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "sbatch: exit $LT_SBATCH_RC, job '$LT_JOB', forwarder '$LT_PID'"
jb=$LT_JOB fb=$LT_PID db=$LT_DEST lb=$PT_LPORT
lt_watch sbatch "$fb"
tb_wait 20 "job $jb to run" running "$jb" || pt_bad "sbatch: job $jb is $(tb_job_state "$jb")"
lt_wait_log "$fb" "job $jb: bound" 10 || pt_bad "sbatch: the forwarder did not bind to job $jb"

tb_wait 5 "--list to show job $js running" row_is "$fs" "$js running desktop:$ps 0" || true
lt_list_check "salloc, job running" "$fs" "$js" running "desktop:$ps" 0 "$ls"
tb_wait 5 "--list to show job $jb running" row_is "$fb" "$jb running $db 0" || true
lt_list_check "sbatch, job running" "$fb" "$jb" running "$db" 0 "$lb"
tb_run login scontrol -o show job "$js" | grep -Eo '(JobId|TimeLimit|StartTime)=[^ ]+' | tr '\n' ' '; echo
tb_run login scontrol -o show job "$jb" | grep -Eo '(JobId|TimeLimit|StartTime)=[^ ]+' | tr '\n' ' '; echo

tb_step "waiting for the time limit (60-90 s)"
t0=$(lt_ms)
t_s=$(lt_ctld_ms "$js" '[Tt]ime ?limit' 150) || pt_bad "salloc: slurmctld logged no time limit for job $js"
t_b=$(lt_ctld_ms "$jb" '[Tt]ime ?limit' 60) || pt_bad "sbatch: slurmctld logged no time limit for job $jb"
echo "time limits logged $(( $(lt_ms) - t0 )) ms into the wait"
[ -n "$t_s" ] && { lt_gone_check salloc "$t_s" 2000 "after slurmctld logged job $js's time limit (salloc -t 1)" || true; }
[ -n "$t_b" ] && { lt_gone_check sbatch "$t_b" 5000 "after slurmctld logged job $jb's time limit (sbatch -t 1)" || true; }
pt_check_eq TIMEOUT "$(tb_wait_job "$jb" 20)" "sbatch: state of job $jb"
pt_check_match '^(TIMEOUT|CANCELLED|COMPLETED)$' "$(tb_wait_job "$js" 20)" "salloc: job $js ended"
lt_list_check "salloc, time limit" "$fs" gone
lt_list_check "sbatch, time limit" "$fb" gone
lt_show_log "$fs" 4
lt_show_log "$fb" 4
if pt_bg_done salloc; then
    echo "salloc: exited with $(cat "$PT_DIR/salloc.rc")"
else
    echo "salloc: still runs its command after the time limit (as expected); stopping it"
    pt_bg_stop salloc
fi
pt_err salloc | sed 's/^/    salloc: /'

pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
