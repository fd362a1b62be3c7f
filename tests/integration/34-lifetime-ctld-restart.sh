#!/bin/bash
# slurmctld restarts while a batch job runs: the forwarder survives and still cleans
# up afterwards.
#   - sbatch --pv-forward: the batch script holds a connection through the forwarder to a
#     recording listener on desktop; the forwarder is bound to the job (--list: running).
#   - slurmctld is stopped (SIGTERM) and kept down until the forwarder's own poll of the job has
#     failed (its log says so and that it carries on). Meanwhile the open connection still
#     carries bytes, a new connection from the job's node still gets through, one from another
#     node is still refused, --list still shows the job running.
#   - slurmctld is started again the way the test bed starts it; the job is let go: the
#     forwarder is gone <= 5 s after slurmctld logged the job complete.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init


tb_step "a batch job with a connection through its forwarder"
port=$(lt_port)
lt_recorder "$port"
# The batch script: one connection that sends a line whenever a file "tick-N" appears, until
# "release" appears.
cat >"$PT_DIR/hold.py" <<'EOP'
import os, socket, sys, time
d = sys.argv[3]
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print("reply:", s.recv(100).decode().strip(), flush=True)
n = 0
while not os.path.exists(d + "/release"):
    if os.path.exists("%s/tick-%d" % (d, n + 1)):
        n += 1
        s.sendall(b"tick %d\n" % n)
        print("sent tick", n, flush=True)
    time.sleep(0.05)
s.close()
print("released", flush=True)
EOP
chown "$TB_USER:" "$PT_DIR/hold.py"
lt_sbatch job "$port" -w compute1 --wrap="python3 $PT_DIR/hold.py \"\$PV_FORWARD_HOST\" \"\$PV_FORWARD_PORT\" $PT_DIR"
[ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "sbatch: exit $LT_SBATCH_RC, job '$LT_JOB', forwarder '$LT_PID'"
job=$LT_JOB fwd=$LT_PID lport=$PT_LPORT
lt_watch job "$fwd"
tb_wait 20 "job $job to run" running "$job" || tb_fail "job $job is $(tb_job_state "$job")"
lt_wait_log "$fwd" "job $job: bound" 10 || pt_bad "the forwarder did not bind to job $job"
tb_wait 20 "the job's connection to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" '^conn ' ||
    pt_bad "the job's connection did not reach desktop"
tb_wait 5 "--list to show the connection" row_is "$fwd" "$job running desktop:$port 1" || true
lt_list_check "before the restart" "$fwd" "$job" running "desktop:$port" 1 "$lport"
rpcs0=$(lt_state_key "$fwd" rpcs)

tb_step "slurmctld down until the forwarder's poll has failed"
# stopped 15 s before the look at the running job; a failing RPC (~10 s), a margin
FAILED_POLL_S=45
lt_before_poll "$fwd" 15 || pt_bad "the forwarder's log does not say when it saw job $job running"
t_stop=$(lt_ms)
lt_ctld_stop || tb_fail "cannot stop slurmctld"
echo "slurmctld stopped in $(( $(lt_ms) - t_stop )) ms"
if lt_wait_log "$fwd" 'slurmctld: .*carrying on' "$FAILED_POLL_S"; then
    pt_good "the forwarder's poll failed and it carries on: $(lt_log "$fwd" | grep 'carrying on' | head -n1)"
else
    pt_bad "no failed poll logged within $FAILED_POLL_S s of stopping slurmctld"
fi
pt_measure "slurmctld down $(( $(lt_ms) - t_stop )) ms when the forwarder logged its failed poll"
lt_check_alive job "$fwd" "with slurmctld down"
touch "$PT_DIR/tick-1"
tb_wait 5 "tick 1 to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" 'tick 1' &&
    pt_good "the open connection still carries bytes with slurmctld down" ||
    pt_bad "tick 1 did not reach desktop: $(lt_recorded "$port")"
out=$(lt_probe compute1 root login "$lport" "new from compute1")
echo "    probe compute1 -> login:$lport: $(echo "$out" | tr '\n' ' ')"
pt_check_match "^reply: desktop-$port\$" "$out" "a new connection from the job's node gets through with slurmctld down"
out=$(lt_probe compute2 root login "$lport" "rogue from compute2")
echo "    probe compute2 -> login:$lport: $(echo "$out" | tr '\n' ' ')"
pt_check_match '^closed: (reset|eof)' "$out" "a connection from compute2 is still refused with slurmctld down"
lt_list_check "slurmctld down" "$fwd" "$job" running "desktop:$port" 1 "$lport"

tb_step "slurmctld up again"
t_start=$(lt_ms)
lt_ctld_start || tb_fail "slurmctld did not come back"
pt_measure "slurmctld down $(( $(lt_ms) - t_stop )) ms in all (up again $(( $(lt_ms) - t_start )) ms after the start)"
pt_check_eq RUNNING "$(tb_job_state "$job")" "job $job after the restart"
lt_check_alive job "$fwd" "after slurmctld's restart"
touch "$PT_DIR/tick-2"
tb_wait 5 "tick 2 to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" 'tick 2' ||
    pt_bad "tick 2 did not reach desktop: $(lt_recorded "$port")"
rpcs1=$(lt_state_key "$fwd" rpcs)
echo "forwarder's RPCs (state file): $rpcs0 before the restart, $rpcs1 now"

tb_step "the job ends: the forwarder goes"
touch "$PT_DIR/release"
t_done=$(lt_ctld_ms "$job" '_job_complete: .*WEXITSTATUS' 30) || tb_fail "job $job did not end"
lt_gone_check job "$t_done" 5000 "after slurmctld (restarted) logged job $job complete" || true
pt_check_eq COMPLETED "$(tb_wait_job "$job" 10)" "state of job $job"
lt_list_check "after the job" "$fwd" gone
pt_check_match 'slurmctld answers again' "$(lt_log "$fwd")" "the forwarder's log: slurmctld answers again"
lt_show_log "$fwd" 14
pt_check_eq "reply: desktop-$port
sent tick 1
sent tick 2
released" "$(lt_job_out job)" "the batch script's connection"
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
