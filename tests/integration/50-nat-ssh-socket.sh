#!/bin/bash
# A desktop behind NAT: the login node cannot open a connection to it (an nftables rule in
# login), the desktop reaches the login node's real sshd. The user's two commands:
#   desktop$ ssh -o ExitOnForwardFailure=yes -R /home/USER/.pv-forward.sock:localhost:PORT login
#   login$   srun --pv-forward=~ pvserver --reverse-connection
# Checked, in order:
#   1. the NAT: login -> desktop:PORT fails, desktop -> login's sshd works; the direct form
#      (--pv-forward=desktop:PORT) does not get through: the forwarder holds, then gives up;
#      a loopback destination (localhost:PORT) gets one warning pointing to the socket form
#   2. the socket form relays a real pvserver session to a real pvpython client (962 points),
#      from srun and from sbatch (examples/pvserver.sbatch)
#   3. pv-forwarder --list shows the socket's path as the destination
#   4. the desktop's ssh killed mid-session: the relayed connection is closed, the forwarder
#      and the job live on; a new connection is held and closed; srun then says the socket is
#      stale and what to do; a new ssh (after `ssh login rm -f SOCKET`: sshd leaves the file
#      behind and does not bind over it) and a new connection work
#   5. 1 GiB each way byte-exact through the socket (and ssh)
#   6. socket missing when pvserver connects, ssh started while the connection is held: the
#      session goes through within the hold time
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/sshbed.sh"
HOLD=12
TB_PLUGSTACK_ARGS="hold=$HOLD"
tb_up
pt_init
sb_up

install -o "$TB_USER" -m 0644 "$TB_ROOT/tests/lib/nattest.py" "$TB_ROOT/tests/lib/fwdtest.py" "$TB_USER_DIR/"
NT="python3 $TB_USER_DIR/nattest.py"
HOME_DIR=$(getent passwd "$TB_USER" | cut -d: -f6)
SOCK=$HOME_DIR/.pv-forward.sock
rm -f "$SOCK"
tb_on_down "rm -f '$SOCK'"

# ---------------------------------------------------------------- 1. the NAT
tb_step "1. the NAT: login cannot reach desktop, desktop reaches login's sshd"
sport=$(pt_port)
tb_bg desktop --user "$TB_LOGS/nat-server.log" $NT server --port "$sport" >/dev/null
tb_wait_port desktop "$sport" 10 || tb_fail "nattest server did not listen on desktop:$sport"
if tb_tcp_probe login desktop "$sport" 2 >/dev/null; then
    pt_bad "login reached desktop:$sport: the NAT rule does not hold"
else
    pt_good "login -> desktop:$sport: no connection (NAT)"
fi
banner=$(tb_tcp_probe desktop login "$SB_PORT" 5 || true)
pt_check_match '^SSH-2\.0-OpenSSH' "$banner" "desktop -> login:$SB_PORT: sshd answers"

t0=$(pt_ms)
pt_bg login direct 60 srun -w compute1 --pv-forward="desktop:$sport" \
    sh -c 'exec python3 "$0" ping --host "$PV_FORWARD_HOST" --port "$PV_FORWARD_PORT"' "$TB_USER_DIR/nattest.py"
pt_bg_wait direct 60 || tb_fail "the direct form did not end within 60 s"
pt_measure "direct form: srun ended after $(( $(pt_ms) - t0 )) ms (hold $HOLD s), exit $PT_RC"
[ "$PT_RC" != 0 ] && pt_good "direct form: the ping did not get through (exit $PT_RC)" ||
    { pt_show direct; pt_bad "direct form: the ping got through despite the NAT"; }
pt_check_match 'ping: (no answer|.*Error)' "$(pt_out direct)" "direct form: the client's connection was closed unanswered"
pt_check_no_match 'loopback' "$(pt_err direct)" "direct form: no loopback warning for desktop"

out=$(tb_user srun -w compute1 --pv-forward="localhost:$sport" true 2>&1 || true)
pt_check_eq 1 "$(printf '%s\n' "$out" | grep -c "pv-forward: warning: localhost:$sport is on this login node's loopback" || true)" \
    "loopback destination: one warning"
pt_check_match "every user of this node can connect to .*ssh -o ExitOnForwardFailure=yes -R $SOCK:localhost:$sport login, here --pv-forward=~" \
    "$out" "loopback warning: names the socket form with the user's path"

# ---------------------------------------------------------------- 2. a real session
tb_step "2. ssh -R $SOCK, srun --pv-forward=~ pvserver: a real session"
cport=$(pt_port)
pt_client_start c1 "$cport" 90
sb_ssh_start s1 "$SOCK" "$cport"
ssh1=$SB_SSH_PID
pt_measure "ssh -R: sshd listening on $SOCK, mode $(stat -c '%a owner %U' "$SOCK")"
pt_check_eq "600 $TB_USER" "$(stat -c '%a %U' "$SOCK")" "the socket sshd made: mode and owner"
t0=$(pt_ms)
pt_bg login srun1 150 srun --pv-forward='~' pvserver --reverse-connection
if pt_wait_plugin_line srun1 "$SOCK" 20; then
    pt_good "srun1: plugin line: job $PT_JOB via $PT_LHOST:$PT_LPORT"
    pt_check_match "--to $SOCK( |$)" "$(pt_forwarder_info)" "srun1: the forwarder's destination is the socket"
else
    pt_bad "srun1: no line /$(pt_plugin_line_re "$SOCK")/"; pt_show srun1
fi
pt_bg_wait srun1 120 || { pt_bad "srun1 did not end within 120 s"; pt_bg_stop srun1; }
pt_check_no_match 'nothing listens' "$(pt_err srun1)" "srun1: no hint while ssh's socket listens"
pt_measure "socket form: pvserver session took $(( $(pt_ms) - t0 )) ms, srun exit ${PT_RC:-none}"
pt_check_eq 0 "${PT_RC:-none}" "srun1: exit status"
pt_check_eq "Connection URL: csrc://login:$PT_LPORT" "$(grep -o 'Connection URL: [^ ]*' "$PT_DIR/srun1.out" | sort -u)" \
    "srun1: pvserver connected to the forwarder"
pt_client_check c1 30 || pt_show srun1
pt_wait_no_forwarder 10 || pt_bad "srun1: forwarder left after srun ended"

tb_step "2b. the same as a batch job: sbatch --pv-forward=~ pvserver.sbatch"
pt_client_start c1b "$cport" 90        # the same port: ssh -R s1 still forwards to it
pt_bg login sb1 60 sbatch --pv-forward='~' pvserver.sbatch
pt_bg_wait sb1 60 || tb_fail "sbatch did not return"
pt_check_eq 0 "$PT_RC" "sb1: sbatch's exit status"
pt_check_match "$(pt_plugin_line_re "$SOCK")" "$(pt_err sb1)" "sb1: sbatch's plugin line names the socket"
jobid=$(pt_out sb1 | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
[ -n "$jobid" ] || tb_fail "sb1: no job id"
state=$(tb_wait_job "$jobid" 120) || pt_bad "sb1: job $jobid still $(tb_job_state "$jobid") after 120 s"
pt_check_eq COMPLETED "${state:-?}" "sb1: state of job $jobid"
pt_client_check c1b 30 || true
pt_wait_no_forwarder 30 || pt_bad "sb1: forwarder left after job $jobid ended"

# ---------------------------------------------------------------- 3. --list
tb_step "3. a job's forwarder to the socket in pv-forwarder --list"
# From here on the desktop's end is the nattest server (the ParaView client has ended).
sb_ssh_stop "$ssh1"
sb_ssh_run rm -f "$SOCK"
sb_ssh_start s1b "$SOCK" "$sport"
ssh1=$SB_SSH_PID
pt_bg login j1 300 srun -w compute1 --pv-forward='~' sleep 280
pt_wait_plugin_line j1 "$SOCK" 20 || { pt_show j1; tb_fail "j1: no plugin line"; }
job=$PT_JOB lport=$PT_LPORT
fwd=$(pt_forwarders)
list=$(tb_user "$TB_FORWARDER" --list)
echo "$list" | sed 's/^/    | /'
pt_check_match "^$job +running +[0-9.]+:$lport +$SOCK +0 " "$list" "--list: job, state, listen address, the socket as DEST"

# ---------------------------------------------------------------- 4. ssh killed mid-session
tb_step "4. the desktop's ssh ends mid-session"
pt_bg compute1 h1 60 $NT hold --host login --port "$lport" --timeout 40
tb_wait_file "$PT_DIR/h1.out" '^hold: connected' 20 || { pt_show h1; tb_fail "h1 did not connect through the socket"; }
t0=$(pt_ms)
sb_ssh_stop "$ssh1"
pt_bg_wait h1 30 || pt_bad "h1: still connected 30 s after ssh ended"
pt_measure "ssh killed: the relayed connection closed $(( $(pt_ms) - t0 )) ms later ($(pt_out h1 | tail -n1))"
pt_check_eq 0 "${PT_RC:-none}" "h1: the connection was closed by the relay"
pt_check_eq "$fwd" "$(pt_forwarders)" "the forwarder lives on after ssh ended"
pt_check_eq RUNNING "$(tb_job_state "$job")" "the job lives on after ssh ended"
pt_check_match "conn [0-9]+ closed: .* -> $SOCK, " "$(sb_fwd_log)" "forwarder log: the connection's close"
out=$(tb_run_user compute1 $NT ping --host login --port "$lport" 2>&1 || true)
pt_check_match "^ping: (no answer|ConnectionResetError)" "$out" "no ssh: a new connection is held, then closed (hold $HOLD s)"
out=$(tb_user srun -w compute1 --pv-forward='~' true 2>&1 || true)
pt_check_match "pv-forward: nothing listens on $SOCK: is it left from an ssh session that has ended .* ssh login rm -f $SOCK, then ssh -o ExitOnForwardFailure=yes -R $SOCK:localhost:11111 login" \
    "$out" "the stale socket sshd left: srun says what to do"
sb_ssh_run rm -f "$SOCK"
sb_ssh_start s2 "$SOCK" "$sport"
ssh2=$SB_SSH_PID
out=$(tb_run_user compute1 $NT ping --host login --port "$lport" 2>&1 || true)
pt_check_eq "ping: PONG" "$out" "a new ssh, a new connection through the same forwarder"

# ---------------------------------------------------------------- 5. 1 GiB each way
tb_step "5. 1 GiB each way, byte-exact"
GiB=1073741824
out=$(tb_run_user compute1 timeout 300 $NT bulk --host login --port "$lport" --up $GiB --down $GiB 2>&1) ||
    pt_bad "bulk: $out"
echo "    $out"
pt_check_match "^bulk: up $GiB sha256 [0-9a-f]{64}; down $GiB bytes first-bad None \(eof\)" "$out" \
    "1 GiB down: every byte as sent"
up_sha=$(printf '%s\n' "$out" | sed -n 's/^bulk: up [0-9]* sha256 \([0-9a-f]*\);.*/\1/p')
tb_wait_file "$TB_LOGS/nat-server.log" "^bulk: up $GiB bytes" 30 || true
pt_check_match "^bulk: up $GiB bytes sha256 $up_sha first-bad None$" "$(cat "$TB_LOGS/nat-server.log")" \
    "1 GiB up: every byte as sent (the desktop's count and sha256)"
pt_measure "1 GiB each way through forwarder + Unix socket + ssh: $(printf '%s\n' "$out" | grep -o 'in [0-9.]* s ([0-9]* MB/s)')"
pt_bg_stop j1
pt_wait_no_forwarder 15 || pt_bad "j1: forwarder left after the job ended"
sb_ssh_stop "$ssh2"

# ---------------------------------------------------------------- 6. socket missing, then there
tb_step "6. srun first, ssh within the hold time"
rm -f "$SOCK"
cport=$(pt_port)
pt_client_start c2 "$cport" 90
t0=$(pt_ms)
pt_bg login srun2 150 srun --pv-forward='~' pvserver --reverse-connection
pt_wait_plugin_line srun2 "$SOCK" 20 || { pt_show srun2; tb_fail "srun2: no plugin line"; }
pt_check_match "pv-forward: nothing listens on $SOCK yet; on your desktop run ssh -o ExitOnForwardFailure=yes -R $SOCK:localhost:11111 login" \
    "$(pt_err srun2)" "srun2: says what to run on the desktop"
sb__held() { grep -q "$SOCK not reachable (no socket at '$SOCK' yet" <<<"$(sb_fwd_log)"; }
tb_wait 30 "the forwarder holding pvserver's connection" sb__held || { pt_show srun2; tb_fail "no hold in the forwarder's log"; }
held_ms=$(( $(pt_ms) - t0 ))
sb_ssh_start s3 "$SOCK" "$cport"
pt_bg_wait srun2 120 || { pt_bad "srun2 did not end within 120 s"; pt_bg_stop srun2; }
pt_check_eq 0 "${PT_RC:-none}" "srun2: exit status"
pt_client_check c2 30 || pt_show srun2
pt_measure "socket missing: held from $held_ms ms after srun; ssh up and session done $(( $(pt_ms) - t0 )) ms after srun (hold $HOLD s)"
pt_wait_no_forwarder 10 || pt_bad "srun2: forwarder left after srun ended"

pt_done
