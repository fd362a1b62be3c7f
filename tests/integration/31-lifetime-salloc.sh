#!/bin/bash
# A salloc's forwarder is gone <= 2 s after the allocation ends, measured:
#   exits     salloc --pv-forward=desktop:PORT srun <probe>: the step's task holds a connection
#             through the forwarder to a recording listener on desktop (--list: job, running,
#             1 connection), lets go; the command ends, salloc exits: gone <= 2 s after salloc
#             exited (also printed: after slurmctld logged the job's completion).
#   scancel   salloc ... sleep 300, scancel of the allocation: gone <= 2 s after scancel, while
#             salloc itself runs on (it waits for its command, which the revocation does not end):
#             the job's epilog on its node tells the forwarder (END in its log).
#   pending   salloc --begin=now+1hour: --list shows the forwarder waiting, not bound to a job;
#             scancel of the pending allocation: gone <= 2 s.
# The time limit of a salloc is measured in 33-lifetime-timelimit.sh (it takes over a minute).
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init

LIMIT=2000

# start NAME PORT SALLOC-ARGS...   salloc --pv-forward=desktop:PORT ... in the background (lt_start)
start() { lt_start "$1" "$2" 200 salloc "${@:3}"; }

tb_step "exits: salloc's command ends"
port=$(lt_port)
lt_recorder "$port"
flag=$PT_DIR/exits.release
start exits "$port" -N1 srun -N1 sh -c \
    'exec python3 "$0" "$PV_FORWARD_HOST" "$PV_FORWARD_PORT" "hello from $(hostname)" "$1" 20' "$PT_DIR/probe.py" "$flag"
tb_wait 20 "salloc's allocation" granted exits || tb_fail "exits: no allocation: $(pt_err exits)"
job=$(granted exits)
echo "exits: job $job, forwarder $LT_PID on login:$PT_LPORT"
tb_wait 20 "the task's bytes to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" "^data .*hello from compute" ||
    pt_bad "exits: the task's bytes did not reach desktop: $(lt_recorded "$port")"
tb_wait 5 "--list to show 1 connection" row_is "$LT_PID" "$job running desktop:$port 1" || true
lt_list_check "exits, connection open" "$LT_PID" "$job" running "desktop:$port" 1 "$PT_LPORT"
touch "$flag"
pt_bg_wait exits 30 || { pt_bad "exits: salloc did not end"; pt_bg_stop exits; }
pt_check_eq 0 "${PT_RC:-none}" "exits: salloc exit status"
pt_check_match "^reply: desktop-$port\$" "$(pt_out exits)" "exits: the task read desktop's banner through the forwarder"
t_end=$(lt_end_ms exits)
lt_gone_check exits "$t_end" "$LIMIT" "after salloc exited" || true
if t_done=$(lt_ctld_ms "$job" '_job_complete: .* done'); then
    [ -n "$LT_GONE_MS" ] && pt_measure "exits: forwarder gone $(( LT_GONE_MS + t_end - t_done )) ms after slurmctld logged job $job done"
fi
lt_list_check "exits, salloc over" "$LT_PID" gone
lt_show_log "$LT_PID" 8

# scancel_case NAME COMMAND...   salloc -N1 COMMAND, scancel of the allocation once granted
scancel_case() {
    local name=$1 port t0 job
    shift
    tb_step "$name: scancel of the running allocation (command: $*)"
    port=$(lt_port)
    start "$name" "$port" -N1 "$@"
    tb_wait 20 "salloc's allocation" granted "$name" || tb_fail "$name: no allocation: $(pt_err "$name")"
    job=$(granted "$name")
    tb_wait 5 "--list to show job $job running" row_is "$LT_PID" "$job running desktop:$port 0" || true
    lt_list_check "$name, running" "$LT_PID" "$job" running "desktop:$port" 0 "$PT_LPORT"
    t0=$(lt_ms)
    tb_run login scancel "$job"
    lt_gone_check "$name" "$t0" "$LIMIT" "after scancel of job $job" || true
    pt_check_match "control: END for job $job from" "$(lt_log "$LT_PID")" \
        "$name: the job's epilog told the forwarder"
    lt_list_check "$name, cancelled" "$LT_PID" gone
    lt_show_log "$LT_PID" 5
}

# salloc does not end its command when the allocation is revoked (seen: "Job allocation N has
# been revoked." and salloc waits on): the forwarder has to see the end of the job itself.
scancel_case scancel sleep 300
if pt_bg_done scancel; then
    echo "scancel: note: salloc has exited by itself (the lifeline may have told the forwarder)"
else
    echo "scancel: salloc still runs its command after the scancel (so the lifeline alone cannot tell); stopping it"
    pt_bg_stop scancel
fi
pt_err scancel | sed 's/^/    salloc: /'

tb_step "pending: salloc --begin=now+1hour, scancel before it starts"
port=$(lt_port)
pt_bg login pending 200 salloc --pv-forward="desktop:$port" -N1 --begin=now+1hour sleep 5
tb_wait 20 "the pending allocation" tb__file_matches "$PT_DIR/pending.err" 'Pending job allocation [0-9]+' ||
    tb_fail "pending: salloc did not say it is pending: $(pt_err pending)"
job=$(grep -Eo 'Pending job allocation [0-9]+' "$PT_DIR/pending.err" | grep -Eo '[0-9]+$')
LT_PID=$(lt_fwd_pid "desktop:$port") || tb_fail "pending: not exactly one forwarder to desktop:$port: $(pt_forwarder_info)"
lt_watch pending "$LT_PID"
pt_check_eq PENDING "$(tb_job_state "$job")" "pending: state of job $job"
lt_list_check "pending, job $job pending" "$LT_PID" - waiting "desktop:$port" 0
t0=$(lt_ms)
tb_run login scancel "$job"
lt_gone_check pending "$t0" "$LIMIT" "after scancel of pending job $job" || true
lt_list_check "pending, cancelled" "$LT_PID" gone
lt_show_log "$LT_PID" 5
pt_bg_wait pending 20 || pt_bg_stop pending
pt_err pending | sed 's/^/    salloc: /'

pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
tb_wait_idle 30 && pt_good "the compute nodes are idle (the epilogs did not fail)" ||
    pt_bad "compute nodes not idle after the jobs"
pt_done
