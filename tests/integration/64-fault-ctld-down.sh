#!/bin/bash
# slurmctld unreachable, while a forwarder polls and when srun/sbatch start:
#   - polling: a salloc job holds a connection through its forwarder (salloc's looks at its
#     running job every 120 s, the job's epilog tells it the end; srun's every 300 s, srun's
#     exit ends it); slurmctld is stopped;
#     the forwarder's poll fails, it says so in its log and carries on; the job's open
#     connection and a new one from the job's node still work;
#   - starting: with slurmctld still down, `srun --pv-forward` and `sbatch --pv-forward` fail
#     with Slurm's own clear message, no job exists. srun prints no "compute nodes reach" line;
#     sbatch prints it before it submits, so Slurm's failure must be its last line. srun's forwarder is gone WAIT_GONE_S after srun. sbatch's
#     cannot tell a failed submission from one slurmctld has not shown it yet: it asks every
#     30 s and goes at the first answer (within POLL_S of slurmctld's return), saying
#     "sbatch has exited and no job was submitted";
#   - slurmctld back: the first job ends normally (exit 0, COMPLETED), no forwarder left.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
WAIT_GONE_S=10
POLL_S=40         # the unbound forwarder's poll interval (30 s) + margin
FAILED_POLL_S=45  # stopped 15 s before the look (lt_before_poll), a failing RPC (~10 s), a margin
tb_up
lt_init

tb_step "a salloc job with a connection through its forwarder"
port=$(lt_port)
lt_recorder "$port"
flag=$PT_DIR/release
lt_start job "$port" 300 salloc -N1 -w compute1 srun -N1 sh -c \
    'exec python3 "$0" "$PV_FORWARD_HOST" "$PV_FORWARD_PORT" "hello" "$1" 300' "$PT_DIR/probe.py" "$flag"
tb_wait 20 "salloc's allocation" granted job || tb_fail "no allocation: $(pt_err job)"
fwd=$LT_PID job=$(granted job) lport=$PT_LPORT
tb_wait 20 "the job's connection at desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" '^data .*hello' ||
    tb_fail "the job's connection did not reach desktop"
lt_wait_log "$fwd" "job $job: bound" 10 || pt_bad "the forwarder did not bind to job $job"

tb_step "slurmctld down while the forwarder polls"
lt_before_poll "$fwd" 15 || pt_bad "the forwarder's log does not say when it saw job $job running"
t_stop=$(lt_ms)
lt_ctld_stop || tb_fail "cannot stop slurmctld"
if lt_wait_log "$fwd" 'slurmctld: .*carrying on' "$FAILED_POLL_S"; then
    pt_good "the forwarder says: $(lt_log "$fwd" | grep 'carrying on' | head -n1)"
else
    pt_bad "no failed poll logged within $FAILED_POLL_S s of stopping slurmctld"
fi
pt_measure "the failed poll logged $(( $(lt_ms) - t_stop )) ms after slurmctld stopped"
lt_check_alive job "$fwd" "with slurmctld down"
out=$(lt_probe compute1 root login "$lport" "new from compute1")
pt_check_match "^reply: desktop-$port\$" "$out" "a new connection from the job's node with slurmctld down"

tb_step "srun and sbatch --pv-forward while slurmctld is down"
port2=$(lt_port) port3=$(lt_port)
t0=$(lt_ms)
pt_bg login s2 120 srun --pv-forward="desktop:$port2" -N1 hostname
pt_bg login b3 120 sbatch --pv-forward="desktop:$port3" -o /dev/null --wrap=hostname
for n in s2 b3; do
    pt_bg_wait "$n" 120 || { pt_bad "$n did not end within 120 s"; continue; }
    pt_measure "$n failed after $(( $(lt_ms) - t0 )) ms (exit $PT_RC)"
    [ "$PT_RC" != 0 ] && pt_good "$n: exit $PT_RC" || pt_bad "$n: exit 0 with slurmctld down"
    pt_err "$n" | sed 's/^/    | /'
    pt_check_match 'Unable to contact slurm controller|Unable to allocate resources|submission failed' \
        "$(pt_err "$n")" "$n: Slurm's message"
    if [ "$n" = s2 ]; then
        pt_check_no_match 'compute nodes reach' "$(pt_err "$n")" "$n: no pv-forward line claims a forwarder"
    else
        # sbatch prints the relay line before it submits (no plugin hook follows the
        # submission): Slurm's failure must come after it, as the last word
        pt_check_match 'submission failed' "$(pt_err "$n" | tail -n1)" "$n: the failure is the last line"
    fi
done
t_end=$(lt_ms)
nofwd() { [ "$(pt_nforwarders_to "$1")" = 0 ]; }
tb_wait "$WAIT_GONE_S" "no forwarder to desktop:$port2" nofwd "desktop:$port2" &&
    pt_good "srun's forwarder is gone" || pt_bad "srun's forwarder is left $WAIT_GONE_S s after srun: $(pt_forwarder_info)"
pt_measure "srun's forwarder gone $(( $(lt_ms) - t_end )) ms after both clients ended"
bfwd=$(lt_fwd_pid "desktop:$port3" || true)
echo "    sbatch's forwarder while slurmctld is down: ${bfwd:-none}"

tb_step "slurmctld back: sbatch's forwarder goes, the first job ends normally"
lt_ctld_start || tb_fail "slurmctld did not come back"
t_up=$(lt_ms)
if [ -n "$bfwd" ]; then
    tb_wait "$POLL_S" "sbatch's forwarder to go" nofwd "desktop:$port3" &&
        pt_good "sbatch's forwarder went $(( $(lt_ms) - t_up )) ms after slurmctld was back" ||
        pt_bad "sbatch's forwarder $bfwd still there $POLL_S s after slurmctld was back"
    pt_check_match 'exiting: sbatch has exited and no job was submitted' "$(lt_log "$bfwd")" "sbatch's forwarder says why it went"
fi
pt_check_eq RUNNING "$(tb_job_state "$job")" "job $job"
pt_check_eq "" "$(tb_run login squeue -h -o %i -n wrap 2>/dev/null || true)" "jobs of the failed sbatch"
touch "$flag"
pt_bg_wait job 60 || pt_bad "salloc did not end"
pt_check_eq 0 "${PT_RC:-none}" "salloc's exit status"
pt_check_eq COMPLETED "$(tb_wait_job "$job" 20)" "state of job $job"
lt_gone_check job "$(lt_end_ms job)" 2000 "after salloc exited" || true
pt_wait_no_forwarder 10 || pt_bad "forwarders left: $(pt_forwarder_info)"
pt_done
