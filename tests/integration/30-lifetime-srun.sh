#!/bin/bash
# An srun's forwarder lives exactly as long as srun, measured:
#   normal  srun --pv-forward=desktop:PORT -N1 <probe>: the task opens a connection through
#           $PV_FORWARD_HOST:$PV_FORWARD_PORT to a recording listener on desktop and holds it;
#           `pv-forwarder --list` shows job, running, listen port, destination, 1 connection;
#           the task closes it (0 connections) and ends; the forwarder is gone <= 2 s after
#           srun has exited, and --list no longer shows it.
#   ctrl-c  srun ... sleep 300, SIGINT twice as a user presses Ctrl-C twice (the second once
#           srun said "one more within 1 sec to abort"; again while srun has not begun to
#           abort, at most 5 pairs): gone <= 2 s after srun exits (the time from the first
#           SIGINT is printed too).
#   kill-9  srun ... sleep 300, `kill -9` of srun (its exit callback is skipped): gone <= 2 s
#           after the kill; the job left behind is then cancelled.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init

LIMIT=2000

# start NAME PORT CMD...   srun --pv-forward=desktop:PORT -N1 CMD... in the background (lt_start)
start() {
    local name=$1 port=$2
    shift 2
    lt_start "$name" "$port" 150 srun -N1 "$@"
    echo "$name: job $PT_JOB, forwarder $LT_PID on login:$PT_LPORT"
}

tb_step "normal: srun ends by itself"
port=$(lt_port)
lt_recorder "$port"
flag=$PT_DIR/normal.release
start normal "$port" sh -c 'exec python3 "$0" "$PV_FORWARD_HOST" "$PV_FORWARD_PORT" "hello from $(hostname)" "$1" 20' \
    "$PT_DIR/probe.py" "$flag"
tb_wait 20 "the task's connection to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" "^data .*hello from compute1" ||
    pt_bad "normal: the task's bytes did not reach desktop: $(lt_recorded "$port")"
tb_wait 5 "--list to show 1 connection" row_is "$LT_PID" "$PT_JOB running desktop:$port 1" || true
lt_list_check "normal, connection open" "$LT_PID" "$PT_JOB" running "desktop:$port" 1 "$PT_LPORT"
touch "$flag"
pt_bg_wait normal 30 || { pt_bad "normal: srun did not end"; pt_bg_stop normal; }
pt_check_eq 0 "${PT_RC:-none}" "normal: srun exit status"
pt_check_match "^reply: desktop-$port\$" "$(pt_out normal)" "normal: the task read desktop's banner through the forwarder"
lt_gone_check normal "$(lt_end_ms normal)" "$LIMIT" "after srun exited" || true
lt_list_check "normal, srun over" "$LT_PID" gone
lt_show_log "$LT_PID" 12

tb_step "ctrl-c: SIGINT twice to srun"
port=$(lt_port)
start ctrl-c "$port" sh -c 'echo task-started; exec sleep 300'
tb_wait 30 "the task to start" tb__file_matches "$PT_DIR/ctrl-c.out" '^task-started$' ||
    tb_fail "ctrl-c: the task did not start"
spid=$(lt_client_pid ctrl-c) || tb_fail "ctrl-c: no srun process"
tb_assert_eq srun "$(cat "/proc/$spid/comm")" "ctrl-c: the process signalled"
# As a user does: Ctrl-C, srun answers that one more within a second aborts, Ctrl-C again; and
# if srun has not begun to abort a few seconds later, the same again: srun 26.05 can answer the
# second SIGINT of a pair with "one more within" again (its signals go through its connection
# manager, and the second can be handled more than a second after the first).
offers() { grep -c 'one more within' "$PT_DIR/ctrl-c.err" 2>/dev/null || true; }
aborting() { pt_bg_done ctrl-c || grep -Eq 'sending Ctrl-C|aborting|forcing job termination' "$PT_DIR/ctrl-c.err" 2>/dev/null; }
offers_more() { [ "$(offers)" -gt "$1" ]; }
t_int=$(lt_ms)
pairs=0
while [ "$pairs" -lt 5 ] && ! aborting; do
    pairs=$((pairs + 1))
    seen=$(offers)
    kill -INT "$spid" 2>/dev/null || break
    tb_wait 5 "srun's answer to Ctrl-C" offers_more "$seen" || aborting || {
        pt_bad "ctrl-c: srun did not answer SIGINT"; break; }
    kill -INT "$spid" 2>/dev/null || break
    tb_wait 3 "srun to abort" aborting || true
done
echo "ctrl-c: $pairs pair(s) of SIGINT until srun aborted"
pt_bg_wait ctrl-c 30 || { pt_bad "ctrl-c: srun did not end after $pairs pairs of SIGINTs"; pt_bg_stop ctrl-c; }
t_end=$(lt_end_ms ctrl-c)
echo "ctrl-c: srun exited with ${PT_RC:-?} $(( t_end - t_int )) ms after the first SIGINT"
pt_err ctrl-c | sed 's/^/    srun: /'
lt_gone_check ctrl-c "$t_end" "$LIMIT" "after srun exited (Ctrl-C)" || true
[ -n "$LT_GONE_MS" ] && pt_measure "ctrl-c: forwarder gone $(( LT_GONE_MS + t_end - t_int )) ms after the first SIGINT"
lt_list_check "ctrl-c, srun over" "$LT_PID" gone
lt_show_log "$LT_PID" 6

tb_step "kill-9: SIGKILL to srun"
port=$(lt_port)
start kill-9 "$port" sleep 300
job=$PT_JOB
sleep 1
lt_list_check "kill-9, running" "$LT_PID" "$job" running "desktop:$port" 0 "$PT_LPORT"
spid=$(lt_client_pid kill-9) || tb_fail "kill-9: no srun process"
tb_assert_eq srun "$(cat "/proc/$spid/comm")" "kill-9: the process killed"
t_kill=$(lt_ms)
kill -KILL "$spid"
lt_gone_check kill-9 "$t_kill" "$LIMIT" "after kill -9 of srun" || true
lt_list_check "kill-9, srun killed" "$LT_PID" gone
lt_show_log "$LT_PID" 6
echo "kill-9: job $job is $(tb_job_state "$job") without its srun; cancelling it"
tb_run login scancel "$job" || true
tb_wait_job "$job" 30 >/dev/null || pt_bad "kill-9: job $job did not end after scancel"
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
