#!/bin/bash
# A batch job's forwarder out of file descriptors (its limit lowered with prlimit, as the job's
# user, while it runs): a connection to its control port from the job's node waits in the
# backlog; the forwarder pauses accepting there (one log line a second, at most 0.5 s of CPU
# in 3 s: no accept() loop, as on the data port: test 15-forwarder-emfile); with the limit
# back, the waiting connection is served (its malformed HELLO gets "ERR malformed token").
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init
command -v prlimit >/dev/null || tb_fail "prlimit missing (util-linux)"

# as_user CMD...   CMD as the job's user (root here may lack CAP_SYS_RESOURCE for prlimit on
#   another user's process; its own user may move the soft limit up to the hard one)
as_user() { setpriv --reuid="$LT_UID" --regid="$(id -g "$TB_USER")" --clear-groups "$@"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
accept_pauses() { lt_log "$fwd" | grep -c 'control: accept: .*not accepting for' || true; }
probe_connected() { grep -q '^connected' "$PT_DIR/ctl.probe" 2>/dev/null; }
job_running() { [ "$(tb_job_state "$job")" = RUNNING ]; }
probe_answered() { grep -Eq '^(reply|closed|silent|connect failed)' "$PT_DIR/ctl.probe" 2>/dev/null; }

tb_step "a running batch job's forwarder"
port=$(lt_port)
lt_sbatch one "$port" -w compute1 --wrap='sleep 60'
[ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] || tb_fail "sbatch: exit $LT_SBATCH_RC, job '$LT_JOB', forwarder '$LT_PID'"
fwd=$LT_PID job=$LT_JOB
tb_wait 30 "job $job running" job_running
ctl=$(lt_state_key "$fwd" control)
[ -n "$ctl" ] && [ "$ctl" != 0 ] || tb_fail "forwarder $fwd has no control port in its state file"
echo "job $job, forwarder $fwd, control port login:$ctl"

tb_step "out of descriptors with a control connection waiting"
read -r soft hard < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$fwd/limits")
# Limit 0: no new descriptor at all.  The lowest free descriptor seen at one instant is not
# enough: a descriptor the forwarder holds only briefly (a slurmctld RPC, a state file) may be
# open at that instant and free a moment later, and accept() would then succeed.
as_user prlimit --pid "$fwd" --nofile="0:$hard" || tb_fail "prlimit --nofile=0:$hard on $fwd failed"
tb_on_down "as_user prlimit --pid $fwd --nofile=$soft:$hard 2>/dev/null || true"
echo "forwarder $fwd: descriptor limit 0 (was $soft), $(ls "/proc/$fwd/fd" | wc -l) open"
tb_bg compute1 --user "$PT_DIR/ctl.probe" python3 "$PT_DIR/probe.py" login "$ctl" "HELLO $job x" "" 15 >/dev/null
tb_wait 10 "the probe connected (backlog)" probe_connected
c0=$(cpu_ticks "$fwd")
t0=$(lt_ms)
while [ $(( $(lt_ms) - t0 )) -lt 3000 ]; do
    probe_answered && break
    sleep 0.1
done
ms=$(( ($(cpu_ticks "$fwd") - c0) * 1000 / $(getconf CLK_TCK) ))
pt_measure "CPU of the forwarder in 3 s out of descriptors: $ms ms; 'not accepting' lines: $(accept_pauses)"
[ "$ms" -le 500 ] && pt_good "no accept loop ($ms ms CPU)" || pt_bad "the forwarder used $ms ms CPU in 3 s: it spins on accept()"
probe_answered && pt_bad "the control connection was answered while out of descriptors: $(cat "$PT_DIR/ctl.probe")"
n=$(accept_pauses)
[ "$n" -ge 1 ] && [ "$n" -le 6 ] && pt_good "$n 'not accepting' lines in the log" ||
    pt_bad "$n 'control: accept: ... not accepting' lines in the log (expected 1-6)"

tb_step "the limit back: the waiting connection is served"
as_user prlimit --pid "$fwd" --nofile="$soft:$hard" || tb_fail "prlimit --nofile=$soft:$hard on $fwd failed"
t1=$(lt_ms)
tb_wait 5 "an answer to the waiting control connection" probe_answered || true
out=$(cat "$PT_DIR/ctl.probe")
echo "$out" | sed 's/^/    probe: /'
pt_measure "answered $(( $(lt_ms) - t1 )) ms after the limit was restored"
pt_check_match 'reply: ERR malformed token' "$out" "the waiting control connection"
lt_check_alive "after running out of descriptors" "$fwd" ""
pt_done
