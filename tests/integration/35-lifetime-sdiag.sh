#!/bin/bash
# Load on slurmctld, and forwarders that stay as long as their jobs:
#   - 10 live forwarders: 6 of running batch jobs (sleep 300) and 4 of pending ones
#     (--begin=now+1hour), each sbatch from its own session; all bound to their job by the
#     order of submission (one sbatch per session), the running ones confirmed by HELLO.
#   - `sdiag -r`, then ~60 s in which the test asks slurmctld nothing, then `sdiag`: the RPCs of
#     the test user (only the forwarders make any) by message type, per forwarder per 30 s,
#     must be <= 1 on average (at most floor(W / 30) + 1 per forwarder in a window of W s: 2 when
#     the sdiag commands are quick), for all 10 and for each
#     kind (bound: one look at the job every 30 s while it has not run, every 120 s once it runs
#     and its HELLO came, its end coming by BYE and END; REQUEST_JOB_USER_INFO, the look for a
#     candidate job, only before binding: none in the window).
#     Each forwarder's own count (`rpcs` in its state file): a running job's forwarder at most
#     floor(W / 120) + 1 (1), a pending one's at most floor(W / 30) + 1.
#   - Idle forwarders never leave early: all 10 still run after the window (more than two
#     polls for each), --list shows 6 running and 4 waiting, each with its job id.
#   - scancel of the 4 pending jobs (never started): each forwarder gone <= 60 s; scancel of
#     the 6 running jobs: each gone <= 5 s.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
TB_NODE_CPUS=8   # 16 one-CPU jobs fit
tb_up
lt_init

# The window is a little short of 60 s: a forwarder that polls every 30 s is then seen at most
# twice whatever its phase (at exactly 60 s it could be seen at both edges).
N_RUN=6 N_PEND=4 WINDOW=59.5
declare -A JOB=() FWD=() DEST=()
RUN=() PEND=()

tb_step "$N_RUN running and $N_PEND pending batch jobs with --pv-forward"
for i in $(seq 1 "$N_RUN"); do
    lt_sbatch "run$i" "$(lt_port)" --wrap='sleep 300'
    [ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "run$i: sbatch failed"
    JOB[run$i]=$LT_JOB FWD[run$i]=$LT_PID DEST[run$i]=$LT_DEST
    RUN+=("run$i")
done
for i in $(seq 1 "$N_PEND"); do
    lt_sbatch "pend$i" "$(lt_port)" --begin=now+1hour --wrap='sleep 300'
    [ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "pend$i: sbatch failed"
    JOB[pend$i]=$LT_JOB FWD[pend$i]=$LT_PID DEST[pend$i]=$LT_DEST
    PEND+=("pend$i")
done
for n in "${RUN[@]}" "${PEND[@]}"; do lt_watch "$n" "${FWD[$n]}"; done
for n in "${RUN[@]}"; do
    tb_wait 30 "job ${JOB[$n]} to run" running "${JOB[$n]}" || pt_bad "$n: job ${JOB[$n]} is $(tb_job_state "${JOB[$n]}")"
    lt_wait_log "${FWD[$n]}" "job ${JOB[$n]}: RUNNING" 10 || pt_bad "$n: forwarder ${FWD[$n]} not bound to job ${JOB[$n]}"
done
for n in "${PEND[@]}"; do
    pt_check_eq PENDING "$(tb_job_state "${JOB[$n]}")" "$n: job ${JOB[$n]}"
    lt_wait_log "${FWD[$n]}" "job ${JOB[$n]}: bound \(the order of this session's sbatch" 10 ||
        pt_bad "$n: forwarder ${FWD[$n]}: $(lt_log "${FWD[$n]}" | tail -n 1)"
done
sleep 2   # answers in flight settle

tb_step "sdiag over ~${WINDOW} s, the test asking slurmctld nothing meanwhile"
declare -A R0=()
for n in "${RUN[@]}" "${PEND[@]}"; do R0[$n]=$(lt_state_key "${FWD[$n]}" rpcs); done
# The window slurmctld counts lies between the reset's start and the reading's end: with both
# ends measured there, W >= the real window, and a forwarder that polls every 30 s is seen at
# most floor(W / 30) + 1 times (2 when the commands are quick; a loaded machine can make it 3).
t0=$(lt_ms)
tb_run login sdiag -r >/dev/null
sleep "$WINDOW"
out=$(tb_run login sdiag)
t1=$(lt_ms)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
per_fwd=$(( (t1 - t0) / 30000 + 1 ))
echo "    [sdiag after $secs s: RPCs by message type and by user]"
echo "$out" | sed -n '/statistics by message type/,/^$/p; /statistics by user/,/^$/p' | sed 's/^/    | /'
# count of a message type / user line: "	NAME ( id) count:N ..."
count_of() { echo "$out" | awk -v k="$1" '$1 == k { for (i = 1; i <= NF; i++) if ($i ~ /^count:/) { sub(/count:/, "", $i); print $i; exit } }'; }
n_user=$(count_of "$TB_USER"); n_user=${n_user:-0}
n_single=$(count_of REQUEST_JOB_INFO_SINGLE); n_single=${n_single:-0}
n_uinfo=$(count_of REQUEST_JOB_USER_INFO); n_uinfo=${n_uinfo:-0}
n_all=$(count_of REQUEST_JOB_INFO); n_all=${n_all:-0}
n_fed=$(count_of REQUEST_FED_INFO); n_fed=${n_fed:-0}
nf=$((N_RUN + N_PEND))
# per forwarder per 30 s of the measured window
rate() { awk -v c="$1" -v n="$2" -v w="$secs" 'BEGIN { printf "%.2f per forwarder per 30 s (%.1f per forwarder in the window)", c / n / (w / 30), c / n }'; }
echo "user $TB_USER: $n_user RPCs; REQUEST_JOB_INFO_SINGLE $n_single, REQUEST_JOB_USER_INFO $n_uinfo, REQUEST_JOB_INFO $n_all, REQUEST_FED_INFO $n_fed"
pt_measure "sdiag: $n_user RPCs of $TB_USER in $secs s from $nf forwarders = $(rate "$n_user" "$nf") (limit 1 per 30 s)"
pt_measure "sdiag: $nf bound forwarders ($N_RUN running, $N_PEND pending jobs): $n_single REQUEST_JOB_INFO_SINGLE = $(rate "$n_single" "$nf")"
pt_measure "sdiag: looks for a candidate job (REQUEST_JOB_USER_INFO): $n_uinfo"
check_at_most() {   # WHAT COUNT FORWARDERS
    if [ "$2" -le $((per_fwd * $3)) ]; then pt_good "sdiag: $1: $2 RPCs from $3 forwarders in $secs s <= $((per_fwd * $3))"
    else pt_bad "sdiag: $1: $2 RPCs from $3 forwarders in $secs s: more than 1 per forwarder per 30 s (at most $((per_fwd * $3)))"; fi
}
check_at_most "all" "$n_user" "$nf"
check_at_most "bound forwarders (REQUEST_JOB_INFO_SINGLE)" "$n_single" "$nf"
pt_check_eq 0 "$n_uinfo" "sdiag: REQUEST_JOB_USER_INFO in the window (every forwarder is bound)"
pt_check_eq "$n_user" "$((n_single + n_uinfo))" "sdiag: every RPC of $TB_USER is a look at its job or its jobs"
line=
declare -A DR=()
for n in "${RUN[@]}" "${PEND[@]}"; do
    DR[$n]=$(( $(lt_state_key "${FWD[$n]}" rpcs) - R0[$n] ))
    line+=" $n:${DR[$n]}"
done
echo "RPCs per forwarder in the window (state files):$line"
for n in "${RUN[@]}"; do
    [ "${DR[$n]}" -le $(( (t1 - t0) / 120000 + 1 )) ] &&
        pt_good "$n: ${DR[$n]} looks at its running job in $secs s (every 120 s at most)" ||
        pt_bad "$n: ${DR[$n]} looks at its running job in $secs s: more than one per 120 s"
done
for n in "${PEND[@]}"; do
    [ "${DR[$n]}" -le "$per_fwd" ] &&
        pt_good "$n: ${DR[$n]} looks at its pending job in $secs s (every 30 s at most)" ||
        pt_bad "$n: ${DR[$n]} looks at its pending job in $secs s: more than one per 30 s"
done

tb_step "all $nf forwarders still there, --list tells the truth"
for n in "${RUN[@]}" "${PEND[@]}"; do
    lt_check_alive "$n" "${FWD[$n]}" "after ${secs} s idle (job ${JOB[$n]} $(tb_job_state "${JOB[$n]}"))"
done
list=$(lt_list)
echo "$list" | sed 's/^/    | /'
for n in "${RUN[@]}"; do
    pt_check_eq "${JOB[$n]} running ${DEST[$n]} 0" "$(echo "$list" | awk -v p="${FWD[$n]}" '$NF == p { print $1, $2, $4, $5 }')" "$n: --list row"
done
for n in "${PEND[@]}"; do
    pt_check_eq "${JOB[$n]} waiting ${DEST[$n]} 0" "$(echo "$list" | awk -v p="${FWD[$n]}" '$NF == p { print $1, $2, $4, $5 }')" "$n: --list row"
done

tb_step "scancel of the pending jobs: gone <= 60 s"
t0=$(lt_ms)
tb_run login scancel "$(for n in "${PEND[@]}"; do echo "${JOB[$n]}"; done | paste -sd,)"
for n in "${PEND[@]}"; do
    lt_gone_check "$n" "$t0" 60000 "after scancel of pending job ${JOB[$n]}" 70 || true
done
lt_show_log "${FWD[pend1]}" 3
tb_step "scancel of the running jobs: gone <= 5 s"
t0=$(lt_ms)
tb_run login scancel "$(for n in "${RUN[@]}"; do echo "${JOB[$n]}"; done | paste -sd,)"
for n in "${RUN[@]}"; do
    lt_gone_check "$n" "$t0" 5000 "after scancel of running job ${JOB[$n]}" || true
done
lt_show_log "${FWD[run1]}" 3
list=$(lt_list)
pt_check_eq 1 "$(echo "$list" | wc -l)" "--list after all jobs: the header only"
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
