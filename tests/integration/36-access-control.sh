#!/bin/bash
# Only the job's nodes may use its forwarder. A recording listener on desktop logs
# every connection and byte that reaches it.
#   pending   sbatch -H -w compute1 --pv-forward (held: no nodes yet): a connection from compute1
#             is refused like any other; the forwarder knows its job by the order of submission
#             (--list: the job id, waiting) but lets nobody in before the job's HELLO.
#   running   released, the job runs on compute1 and holds one connection through the forwarder.
#             Rogue connections, each sending a line at once: from login as another user
#             (nobody), as root and as the job's own user; from compute2 (not in the job), as
#             root and as the user; from desktop. Each is closed at once (reset, time printed),
#             the desktop listener sees no new connection and no rogue byte, and the
#             forwarder's log names each refused address. A root process on compute1 does get
#             through (the job's node: addresses are what counts). --list: 1 connection.
#   two nodes sbatch -N2 --pv-forward whose `srun -N2` tasks each connect through
#             $PV_FORWARD_HOST:$PV_FORWARD_PORT and hold: both nodes' bytes reach desktop,
#             --list shows 2 connections; the forwarder goes with the job.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init


# rogue NAME NODE AS ADDR   a probe that must be closed at once; ADDR: its source address, which
#   the forwarder's log must name
refusals() { lt_log "$fwd" | grep -c "refused connection from ${1//./\\.}:[0-9]*: " || true; }
more_refusals() { [ "$(refusals "$1")" -gt "$2" ]; }
rogue() {
    local name=$1 node=$2 as=$3 addr=$4 out ms n0
    n0=$(refusals "$addr")
    out=$(lt_probe "$node" "$as" login "$lport" "ROGUE $name")
    echo "    $name ($as on $node): $(echo "$out" | tr '\n' ' ')"
    if [[ $out =~ closed:\ (reset|eof)( at connect)?\ after\ ([0-9]+)\ ms ]]; then
        ms=${BASH_REMATCH[3]}
        pt_measure "$name: closed ${BASH_REMATCH[1]}${BASH_REMATCH[2]} after $ms ms"
        [ "$ms" -le 1000 ] && pt_good "$name: closed at once" || pt_bad "$name: closed only after $ms ms"
    else
        pt_bad "$name: not closed at once: $out"
    fi
    tb_wait 3 "a new refusal of $addr in the log" more_refusals "$addr" "$n0" &&
        pt_good "$name: the forwarder logged the refusal of $addr" ||
        pt_bad "$name: no refusal of $addr in the forwarder's log"
}

port=$(lt_port)
lt_recorder "$port"
cat >"$PT_DIR/hold.sh" <<EOS
#!/bin/sh
exec python3 $PT_DIR/probe.py "\$PV_FORWARD_HOST" "\$PV_FORWARD_PORT" "hello from \$(hostname)" "\$1" 60
EOS
chmod 0755 "$PT_DIR/hold.sh"
chown "$TB_USER:" "$PT_DIR/hold.sh"

tb_step "pending: the job has no nodes yet"
lt_sbatch one "$port" -H -w compute1 "$PT_DIR/hold.sh" "$PT_DIR/one.release"
[ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "sbatch: exit $LT_SBATCH_RC, job '$LT_JOB', forwarder '$LT_PID'"
job=$LT_JOB fwd=$LT_PID lport=$PT_LPORT
lt_watch one "$fwd"
pt_check_eq PENDING "$(tb_job_state "$job")" "job $job (held)"
lt_wait_log "$fwd" "job $job: bound \(the order of this session's sbatch" 10 || pt_bad "the forwarder did not bind to held job $job by the order of submission"
lt_list_check "job $job held" "$fwd" "$job" waiting "desktop:$port" 0 "$lport"
rogue "pending-compute1" compute1 root "$TB_ADDR_compute1"
rogue "pending-login" login nobody "$TB_ADDR_login"
pt_check_eq 0 "$(lt_recorded_conns "$port")" "pending: connections that reached desktop"

tb_step "running on compute1"
tb_run login scontrol release "$job"
tb_wait 20 "job $job to run" running "$job" || tb_fail "job $job is $(tb_job_state "$job")"
lt_wait_log "$fwd" "job $job: confirmed \(HELLO\)" 10 || pt_bad "job $job's HELLO did not confirm the forwarder's binding"
tb_wait 20 "the job's connection to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" '^data .*hello from compute1' ||
    pt_bad "the job's bytes did not reach desktop: $(lt_recorded "$port")"
tb_wait 5 "--list to show the connection" row_is "$fwd" "$job running desktop:$port 1" || true
lt_list_check "job $job running" "$fwd" "$job" running "desktop:$port" 1 "$lport"
rogue "login-nobody" login nobody "$TB_ADDR_login"
rogue "login-root" login root "$TB_ADDR_login"
rogue "login-user" login user "$TB_ADDR_login"
rogue "compute2-root" compute2 root "$TB_ADDR_compute2"
rogue "compute2-user" compute2 user "$TB_ADDR_compute2"
rogue "desktop-user" desktop user "$TB_ADDR_desktop"
sleep 0.5
pt_check_eq 1 "$(lt_recorded_conns "$port")" "connections that reached desktop (the job's only)"
pt_check_no_match ROGUE "$(lt_recorded "$port")" "no rogue byte reached desktop"
lt_list_check "after the rogues" "$fwd" "$job" running "desktop:$port" 1 "$lport"
out=$(lt_probe compute1 root login "$lport" "from compute1 as root")
echo "    compute1-root: $(echo "$out" | tr '\n' ' ')"
pt_check_match "^reply: desktop-$port\$" "$out" "a root process on compute1 (the job's node) gets through"
tb_wait 3 "its bytes on desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" 'from compute1 as root' ||
    pt_bad "compute1-root's bytes did not reach desktop"
echo "    [desktop listener]"; lt_recorded "$port" | sed 's/^/    | /'
echo "    [refusals in the forwarder's log]"; lt_log "$fwd" | grep 'refused' | sed 's/^/    | /'
touch "$PT_DIR/one.release"
t_done=$(lt_ctld_ms "$job" '_job_complete: .*WEXITSTATUS' 30) || tb_fail "job $job did not end"
lt_gone_check one "$t_done" 5000 "after slurmctld logged job $job complete" || true
lt_list_check "job $job over" "$fwd" gone

tb_step "two nodes: both may connect"
port=$(lt_port)
lt_recorder "$port"
lt_sbatch two "$port" -N2 --wrap="srun -N2 --ntasks-per-node=1 $PT_DIR/hold.sh $PT_DIR/two.release"
[ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "sbatch: exit $LT_SBATCH_RC, job '$LT_JOB', forwarder '$LT_PID'"
job=$LT_JOB fwd=$LT_PID lport=$PT_LPORT
lt_watch two "$fwd"
tb_wait 20 "job $job to run" running "$job" || tb_fail "job $job is $(tb_job_state "$job")"
for n in compute1 compute2; do
    tb_wait 20 "$n's bytes to reach desktop" tb__file_matches "$TB_LOGS/recorder-$port.log" "^data .*hello from $n" &&
        pt_good "two: $n's task reached desktop through the forwarder" ||
        pt_bad "two: $n's bytes did not reach desktop: $(lt_recorded "$port")"
done
tb_wait 5 "--list to show both connections" row_is "$fwd" "$job running desktop:$port 2" || true
lt_list_check "two nodes, both connected" "$fwd" "$job" running "desktop:$port" 2 "$lport"
pt_check_match "job $job: RUNNING on compute\[1-2\]: .*$TB_ADDR_compute1.*$TB_ADDR_compute2" "$(lt_log "$fwd")" \
    "two: the forwarder allows both nodes' addresses"
touch "$PT_DIR/two.release"
t_done=$(lt_ctld_ms "$job" '_job_complete: .*WEXITSTATUS' 30) || tb_fail "job $job did not end"
lt_gone_check two "$t_done" 5000 "after slurmctld logged job $job complete" || true
pt_check_eq "reply: desktop-$port
reply: desktop-$port" "$(grep '^reply' "$PT_DIR/two.job.out" || true)" "two: both tasks read desktop's banner"
echo "    [desktop listener]"; lt_recorded "$port" | sed 's/^/    | /'
lt_show_log "$fwd" 8
lt_list_check "two nodes, job over" "$fwd" gone
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
