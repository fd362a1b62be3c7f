#!/bin/bash
# A batch job's forwarder is bound to its own job and ends with it, measured against
# the moment slurmctld logs the end of the job (or the test's scancel):
#   complete  sbatch --wrap='sleep 6': --list shows the job running; the job completes: gone
#             <= 5 s after slurmctld logged it done.
#   fail      sbatch --wrap='exit 3': the job FAILED with exit code 3; gone <= 5 s.
#   scancel   sbatch --wrap='sleep 300', scancel once it runs: gone <= 5 s after the scancel.
#   no-job    sbatch -p nosuchpartition: the submission fails, the forwarder the plugin had
#             already started is gone <= 2 s after sbatch exited, its log says why.
#   pair      three `sbatch -H --pv-forward` run concurrently from one shell (one session), each
#             to its own desktop port (a, b pinned to their own node). The forwarders take the
#             user's submit lock in turn, so the sbatch submit one after the other and each
#             forwarder binds, while the jobs are still held, to the job the order gives it
#             (--list: the job id, waiting). c is scancelled before it ever ran: c's forwarder is
#             gone <= 60 s after the scancel, a's and b's stay. Released one at a time, a and b
#             are confirmed by their job's HELLO (their log), the job's connection reaches its
#             own desktop listener, and the other job's node is refused by it (nothing reaches
#             desktop). Both complete: both forwarders gone <= 5 s.
#   no-job after one  `sbatch -H --pv-forward` and then a failing one from the same shell: the
#             failed one's forwarder is gone <= 2 s after its sbatch exited (the held job's
#             forwarder binds to the held job at its first look, before the failing sbatch may
#             open its window); the held job released, its forwarder goes with it.
#   lock      the user's submit lock held by another process (as by a running
#             `sbatch --wait --pv-forward`): the next sbatch --pv-forward takes 10-20 s, its
#             forwarder says it went on without the lock, the job's HELLO binds it.
#   plain     a plain `sbatch -H` (no --pv-forward) and then `sbatch -H --pv-forward` from one
#             shell in the same second: two candidate jobs for one forwarder, the order of
#             submission cannot tell which is its own, so it stays unbound (--list `-`, waiting,
#             its log says why) and the plain job's start changes nothing; the job's HELLO binds
#             it when it runs; its bytes reach desktop; it completes: gone <= 5 s.
# Pending jobs (idle > one poll, scancel <= 60 s) and running jobs surviving polls are covered by
# 35-lifetime-sdiag.sh, the time limit by 33-lifetime-timelimit.sh.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init

LIMIT=5000


# submit NAME SBATCH-ARGS...   lt_sbatch (LT_JOB, LT_PID, ...) and lt_watch of its forwarder
submit() {
    local name=$1
    shift
    lt_sbatch "$name" "$(lt_port)" "$@"
    [ "$LT_SBATCH_RC" = 0 ] && [ -n "$LT_JOB" ] && [ -n "$LT_PID" ] ||
        tb_fail "$name: sbatch exit $LT_SBATCH_RC, job '${LT_JOB}', forwarder '${LT_PID}'"
    lt_watch "$name" "$LT_PID"
}

# runs NAME   job LT_JOB runs, its forwarder LT_PID is bound to it and --list says so
runs() {
    local name=$1
    tb_wait 20 "job $LT_JOB to run" running "$LT_JOB" || pt_bad "$name: job $LT_JOB is $(tb_job_state "$LT_JOB")"
    lt_wait_log "$LT_PID" "job $LT_JOB: bound" 10 || pt_bad "$name: the forwarder did not bind to job $LT_JOB"
    tb_wait 5 "--list to show job $LT_JOB running" row_is "$LT_PID" "$LT_JOB running $LT_DEST 0" || true
    lt_list_check "$name, job running" "$LT_PID" "$LT_JOB" running "$LT_DEST" 0 "$PT_LPORT"
}

tb_step "complete: the batch script ends by itself"
submit complete --wrap='sleep 6'
runs complete
t_done=$(lt_ctld_ms "$LT_JOB" '_job_complete: .*WEXITSTATUS' 30) || tb_fail "complete: job $LT_JOB did not end"
lt_gone_check complete "$t_done" "$LIMIT" "after slurmctld logged job $LT_JOB complete" || true
pt_check_eq COMPLETED "$(tb_wait_job "$LT_JOB" 10)" "complete: state of job $LT_JOB"
lt_list_check "complete, job over" "$LT_PID" gone
lt_show_log "$LT_PID" 6

tb_step "fail: the batch script exits 3"
submit fail --wrap='exit 3'
t_done=$(lt_ctld_ms "$LT_JOB" '_job_complete: .*WEXITSTATUS 3' 30) || tb_fail "fail: job $LT_JOB did not end with status 3"
lt_gone_check fail "$t_done" "$LIMIT" "after slurmctld logged job $LT_JOB failed" || true
pt_check_eq FAILED "$(tb_wait_job "$LT_JOB" 10)" "fail: state of job $LT_JOB"
pt_check_match 'ExitCode=3:0' "$(tb_run login scontrol -o show job "$LT_JOB")" "fail: exit code of job $LT_JOB"
lt_list_check "fail, job over" "$LT_PID" gone
lt_show_log "$LT_PID" 6

tb_step "scancel: a running batch job is cancelled"
submit scancel --wrap='sleep 300'
runs scancel
t0=$(lt_ms)
tb_run login scancel "$LT_JOB"
lt_gone_check scancel "$t0" "$LIMIT" "after scancel of running job $LT_JOB" || true
pt_check_eq CANCELLED "$(tb_wait_job "$LT_JOB" 10)" "scancel: state of job $LT_JOB"
lt_list_check "scancel, job cancelled" "$LT_PID" gone
lt_show_log "$LT_PID" 6

tb_step "no-job: sbatch -p nosuchpartition"
lt_sbatch no-job "$(lt_port)" -p nosuchpartition --wrap='sleep 1'
t_end=$(lt_end_ms no-job)
pt_check_eq "" "$LT_JOB" "no-job: no job id from sbatch"
[ "$LT_SBATCH_RC" != 0 ] || pt_bad "no-job: sbatch exited 0"
pid=$(lt_fwd_log_pid "$LT_DEST") || tb_fail "no-job: no forwarder log names $LT_DEST (the plugin started none?)"
lt_watch no-job "$pid"
lt_gone_check no-job "$t_end" 2000 "after the failed sbatch exited" || true
lt_list_check "no-job, sbatch failed" "$pid" gone
pt_check_match 'exiting: .*no job was submitted' "$(lt_log "$pid")" "no-job: the forwarder's log says why it went"
lt_show_log "$pid" 4

tb_step "no-job after one: sbatch -H --pv-forward, then a failing one, from one shell"
pk=$(lt_port) pn=$(lt_port)
pt_bg login nojob2 60 sh -c '
    sbatch -H --parsable --pv-forward="desktop:$2" -o /dev/null --wrap="sleep 1" >"$1/nojob2-0.out" 2>"$1/nojob2-0.err"
    sbatch --pv-forward="desktop:$3" -p nosuchpartition --wrap="sleep 1" >"$1/nojob2-1.out" 2>&1
    echo $? >"$1/nojob2-1.rc"' nojob2 "$PT_DIR" "$pk" "$pn"
pt_bg_wait nojob2 60 || tb_fail "no-job after one: the two sbatch did not return"
t_end=$(stat -c '%.3Y' "$PT_DIR/nojob2-1.rc" | tr -d '.')
jk=$(cut -d';' -f1 "$PT_DIR/nojob2-0.out")
pt_check_match '^[1-9][0-9]*$' "$jk" "no-job after one: the first sbatch submitted a job"
[ "$(cat "$PT_DIR/nojob2-1.rc")" != 0 ] || pt_bad "no-job after one: the failing sbatch exited 0"
fk=$(lt_fwd_pid "desktop:$pk") || tb_fail "no-job after one: no forwarder to desktop:$pk"
pid=$(lt_fwd_log_pid "desktop:$pn") || tb_fail "no-job after one: no forwarder log names desktop:$pn"
lt_watch nojob2 "$pid"
lt_watch nojob2-job "$fk"
lt_gone_check nojob2 "$t_end" 2000 "after the failed sbatch exited (a held job of the same shell pending)" || true
pt_check_match 'exiting: .*(no job was submitted|no job of this forwarder is left)' "$(lt_log "$pid")" "no-job after one: the failed one's forwarder says why it went"
lt_wait_log "$fk" "job $jk: bound \(the order of this session's sbatch" 10 || pt_bad "no-job after one: the held job's forwarder did not bind to job $jk"
# it kept the submit lock until that first look was answered: the failing sbatch could not open
# its window meanwhile (before, 3 rounds in 20 found it open and waited for the job's HELLO)
pt_check_no_match 'still submitting' "$(lt_log "$fk")" "no-job after one: the held job's forwarder bound at its first look"
tb_run login scontrol release "$jk"
t_k=$(lt_ctld_ms "$jk" '_job_complete: .*WEXITSTATUS' 30) || pt_bad "no-job after one: job $jk did not end"
[ -n "$t_k" ] && { lt_gone_check nojob2-job "$t_k" "$LIMIT" "after slurmctld logged job $jk complete" || true; }
lt_show_log "$pid" 5

tb_step "lock: the user's submit lock is held (as by an sbatch --wait): the next sbatch waits 10 s, then goes on"
lock_held() { ! flock -n "$LT_STATE/sbatch.lock" true 2>/dev/null; }
pt_bg login lockhold 60 flock "$LT_STATE/sbatch.lock" sleep 15
tb_wait 10 "the submit lock to be held" lock_held || tb_fail "lock: $LT_STATE/sbatch.lock is not held"
t0=$(lt_ms)
submit lock -H --wrap='sleep 1'
took=$(( $(lt_ms) - t0 ))
pt_measure "lock: sbatch --pv-forward took $took ms behind a held submit lock (waits 10 s)"
[ "$took" -ge 10000 ] && [ "$took" -lt 20000 ] && pt_good "lock: sbatch waited for the lock, then went on ($took ms)" ||
    pt_bad "lock: sbatch took $took ms (expected 10-20 s)"
pt_check_match 'submit lock: another sbatch of this user has held .* for 10 s; going on' "$(lt_log "$LT_PID")" "lock: the forwarder's log says it went on without the lock"
tb_run login scontrol release "$LT_JOB"
lt_wait_log "$LT_PID" "job $LT_JOB: bound \(HELLO\)" 20 && pt_good "lock: the job's HELLO bound it (job $LT_JOB)" ||
    pt_bad "lock: no HELLO binding: $(lt_log "$LT_PID" | tail -n 3)"
t_l=$(lt_ctld_ms "$LT_JOB" '_job_complete: .*WEXITSTATUS' 30) || pt_bad "lock: job $LT_JOB did not end"
[ -n "$t_l" ] && { lt_gone_check lock "$t_l" "$LIMIT" "after slurmctld logged job $LT_JOB complete" || true; }
pt_bg_wait lockhold 30 || pt_bad "lock: the lock holder did not end"

tb_step "plain: a plain sbatch just before one with --pv-forward, from one shell"
pp=$(lt_port)
lt_recorder "$pp"
cat >"$PT_DIR/plain.sbatch" <<EOS
#!/bin/bash
python3 $PT_DIR/probe.py "\$PV_FORWARD_HOST" "\$PV_FORWARD_PORT" "hello from job \$SLURM_JOB_ID on \$(hostname)" "$PT_DIR/plain.release" 30
EOS
chown "$TB_USER:" "$PT_DIR/plain.sbatch"
pt_bg login plain 60 sh -c '
    sbatch -H --parsable -w compute2 -o /dev/null --wrap="sleep 300" >"$1/plain-0.out" 2>&1 &&
    sbatch -H --parsable --pv-forward="desktop:$2" -w compute1 -o "$1/plain-1.job.out" "$1/plain.sbatch" >"$1/plain-1.out" 2>"$1/plain-1.err"' \
    plain "$PT_DIR" "$pp"
pt_bg_wait plain 60 || tb_fail "plain: the two sbatch did not return"
j0=$(cut -d';' -f1 "$PT_DIR/plain-0.out") j1=$(cut -d';' -f1 "$PT_DIR/plain-1.out")
pt_parse_plugin_line plain-1 "desktop:$pp" && lp=$PT_LPORT || lp=
fp=$(lt_fwd_pid "desktop:$pp") || tb_fail "plain: no forwarder to desktop:$pp"
echo "plain: job $j0 without, job $j1 with --pv-forward, forwarder $fp on login:$lp"
[ -n "$j0" ] && [ -n "$j1" ] && [ -n "$lp" ] || tb_fail "plain: sbatch output: $(cat "$PT_DIR"/plain-?.out "$PT_DIR"/plain-1.err)"
lt_watch plain "$fp"
lt_wait_log "$fp" 'the order of submission does not tell which job is ours yet: more candidate jobs than sbatch' 10 &&
    pt_good "plain: two candidate jobs, the forwarder says it cannot tell" || pt_bad "plain: $(lt_log "$fp" | tail -n 3)"
lt_list_check "plain, both held" "$fp" - waiting "desktop:$pp" 0 "$lp"
tb_run login scontrol release "$j0"
tb_wait 20 "job $j0 to run" running "$j0" || pt_bad "plain: job $j0 is $(tb_job_state "$j0")"
lt_list_check "plain, the plain job runs" "$fp" - waiting "desktop:$pp" 0 "$lp"
tb_run login scontrol release "$j1"
tb_wait 20 "job $j1 to run" running "$j1" || pt_bad "plain: job $j1 is $(tb_job_state "$j1")"
lt_wait_log "$fp" "job $j1: bound \(HELLO\)" 10 && pt_good "plain: the job's HELLO bound the forwarder to job $j1" ||
    pt_bad "plain: no HELLO binding: $(lt_log "$fp" | tail -n 3)"
tb_wait 20 "job $j1's connection to reach desktop:$pp" tb__file_matches "$TB_LOGS/recorder-$pp.log" "^data .*hello from job $j1 on compute1" ||
    pt_bad "plain: job $j1's bytes did not reach desktop:$pp: $(lt_recorded "$pp")"
tb_wait 5 "--list to show the connection" row_is "$fp" "$j1 running desktop:$pp 1" || true
lt_list_check "plain, job $j1 runs" "$fp" "$j1" running "desktop:$pp" 1 "$lp"
pt_check_no_match "job $j0" "$(lt_log "$fp")" "plain: the forwarder never bound to the plain job $j0"
touch "$PT_DIR/plain.release"
t_p=$(lt_ctld_ms "$j1" '_job_complete: .*WEXITSTATUS' 30) || pt_bad "plain: job $j1 did not end"
[ -n "$t_p" ] && { lt_gone_check plain "$t_p" "$LIMIT" "after slurmctld logged job $j1 complete" || true; }
tb_run login scancel "$j0"
lt_list_check "plain, over" "$fp" gone
lt_show_log "$fp" 8

# release X JOB FWD PORT NODE   release held job JOB of pair member X: it runs on NODE, its
#   forwarder FWD binds by HELLO, its bytes reach desktop:PORT, --list shows the connection
release() {
    local x=$1 job=$2 fwd=$3 port=$4 node=$5
    tb_run login scontrol release "$job"
    tb_wait 20 "job $job to run" running "$job" || pt_bad "pair: job $job is $(tb_job_state "$job")"
    lt_wait_log "$fwd" "job $job: confirmed \(HELLO\)" 10 || pt_bad "pair: forwarder $x: job $job's HELLO did not confirm it"
    tb_wait 20 "job $job's connection to reach desktop:$port" tb__file_matches "$TB_LOGS/recorder-$port.log" "^data .*hello from job $job on $node" ||
        pt_bad "pair: job $job's bytes did not reach desktop:$port: $(lt_recorded "$port")"
    tb_wait 5 "--list to show $x with its connection" row_is "$fwd" "$job running desktop:$port 1" || true
}

tb_step "pair: three sbatch --pv-forward at once from one shell, one cancelled before it runs"
pa=$(lt_port) pb=$(lt_port) pc=$(lt_port)
lt_recorder "$pa"
lt_recorder "$pb"
lt_recorder "$pc"
cat >"$PT_DIR/pair.sbatch" <<EOS
#!/bin/bash
python3 $PT_DIR/probe.py "\$PV_FORWARD_HOST" "\$PV_FORWARD_PORT" "hello from job \$SLURM_JOB_ID on \$(hostname)" "$PT_DIR/pair.release" 30
EOS
chown "$TB_USER:" "$PT_DIR/pair.sbatch"
rm -f "$PT_DIR/pair.release"
pt_bg login pair 60 sh -c '
    d=$1
    sbatch -H --parsable --pv-forward="desktop:$2" -w compute1 -o "$d/pair-a.job.out" "$d/pair.sbatch" >"$d/pair-a.out" 2>"$d/pair-a.err" &
    sbatch -H --parsable --pv-forward="desktop:$3" -w compute2 -o "$d/pair-b.job.out" "$d/pair.sbatch" >"$d/pair-b.out" 2>"$d/pair-b.err" &
    sbatch -H --parsable --pv-forward="desktop:$4" -w compute1 -o "$d/pair-c.job.out" "$d/pair.sbatch" >"$d/pair-c.out" 2>"$d/pair-c.err" &
    wait' pair "$PT_DIR" "$pa" "$pb" "$pc"
pt_bg_wait pair 60 || tb_fail "pair: the three sbatch did not return"
ja=$(cut -d';' -f1 "$PT_DIR/pair-a.out") jb=$(cut -d';' -f1 "$PT_DIR/pair-b.out") jc=$(cut -d';' -f1 "$PT_DIR/pair-c.out")
pt_parse_plugin_line pair-a "desktop:$pa" && la=$PT_LPORT || la=
pt_parse_plugin_line pair-b "desktop:$pb" && lb=$PT_LPORT || lb=
pt_parse_plugin_line pair-c "desktop:$pc" && lc=$PT_LPORT || lc=
fa=$(lt_fwd_pid "desktop:$pa") || tb_fail "pair: no forwarder to desktop:$pa"
fb=$(lt_fwd_pid "desktop:$pb") || tb_fail "pair: no forwarder to desktop:$pb"
fc=$(lt_fwd_pid "desktop:$pc") || tb_fail "pair: no forwarder to desktop:$pc"
echo "pair: a = job $ja, forwarder $fa on login:$la -> desktop:$pa (compute1)"
echo "pair: b = job $jb, forwarder $fb on login:$lb -> desktop:$pb (compute2)"
echo "pair: c = job $jc, forwarder $fc on login:$lc -> desktop:$pc (to be cancelled)"
[ -n "$ja" ] && [ -n "$jb" ] && [ -n "$jc" ] && [ -n "$la" ] && [ -n "$lb" ] && [ -n "$lc" ] ||
    tb_fail "pair: sbatch output: $(cat "$PT_DIR"/pair-?.out "$PT_DIR"/pair-?.err)"
lt_watch pair-a "$fa"
lt_watch pair-b "$fb"
lt_watch pair-c "$fc"
pt_check_eq "PENDING PENDING PENDING" "$(tb_job_state "$ja") $(tb_job_state "$jb") $(tb_job_state "$jc")" "pair: the three jobs held"
for x in a b c; do
    eval "f=\$f$x j=\$j$x"
    lt_wait_log "$f" "job $j: bound \(the order of this session's sbatch" 10 &&
        pt_good "pair: forwarder $x bound to its job $j by the order of submission, job held" ||
        pt_bad "pair: forwarder $x (job $j): $(lt_log "$f" | tail -n 3)"
done
lt_list_check "pair, all held: a" "$fa" "$ja" waiting "desktop:$pa" 0 "$la"
lt_list_check "pair, all held: b" "$fb" "$jb" waiting "desktop:$pb" 0 "$lb"
lt_list_check "pair, all held: c" "$fc" "$jc" waiting "desktop:$pc" 0 "$lc"

t0=$(lt_ms)
tb_run login scancel "$jc"
lt_gone_check pair-c "$t0" 60000 "after scancel of job $jc, which never ran" || true
pt_check_match "exiting: job $jc has ended \(CANCELLED" "$(lt_log "$fc")" "pair: forwarder c's log says why it went"
lt_list_check "pair, c cancelled: c" "$fc" gone
lt_list_check "pair, c cancelled: a" "$fa" "$ja" waiting "desktop:$pa" 0 "$la"
lt_list_check "pair, c cancelled: b" "$fb" "$jb" waiting "desktop:$pb" 0 "$lb"
lt_show_log "$fc" 6

release b "$jb" "$fb" "$pb" compute2
lt_list_check "pair, b released: b" "$fb" "$jb" running "desktop:$pb" 1 "$lb"
lt_list_check "pair, b released: a" "$fa" "$ja" waiting "desktop:$pa" 0 "$la"

release a "$ja" "$fa" "$pa" compute1
lt_list_check "pair, both running: a" "$fa" "$ja" running "desktop:$pa" 1 "$la"
lt_list_check "pair, both running: b" "$fb" "$jb" running "desktop:$pb" 1 "$lb"
pt_check_eq "reply: desktop-$pa" "$(grep '^reply' "$PT_DIR/pair-a.job.out" || true)" "pair: job $ja read its own desktop's banner"
pt_check_eq "reply: desktop-$pb" "$(grep '^reply' "$PT_DIR/pair-b.job.out" || true)" "pair: job $jb read its own desktop's banner"
pt_check_no_match "job $jb" "$(lt_log "$fa")" "pair: forwarder a never bound to b's job $jb"
pt_check_no_match "job $ja" "$(lt_log "$fb")" "pair: forwarder b never bound to a's job $ja"
pt_check_eq 0 "$(lt_recorded_conns "$pc")" "pair: connections that reached desktop:$pc (job $jc never ran)"

out=$(lt_probe compute2 root login "$la" "rogue from compute2 to a")
echo "    probe compute2 -> a (login:$la): $(echo "$out" | tr '\n' ' ')"
pt_check_match '^closed: (reset|eof)' "$out" "pair: forwarder a (job $ja on compute1) closes a connection from compute2"
out=$(lt_probe compute1 root login "$lb" "rogue from compute1 to b")
echo "    probe compute1 -> b (login:$lb): $(echo "$out" | tr '\n' ' ')"
pt_check_match '^closed: (reset|eof)' "$out" "pair: forwarder b (job $jb on compute2) closes a connection from compute1"
sleep 0.5
pt_check_eq 1 "$(lt_recorded_conns "$pa")" "pair: connections that reached desktop:$pa (job $ja's only)"
pt_check_eq 1 "$(lt_recorded_conns "$pb")" "pair: connections that reached desktop:$pb (job $jb's only)"
pt_check_no_match rogue "$(lt_recorded "$pa"; lt_recorded "$pb")" "pair: no rogue byte reached desktop"
pt_check_match "refused connection from $TB_ADDR_compute2:[0-9]+" "$(lt_log "$fa")" "pair: forwarder a logged the refusal of compute2"
pt_check_match "refused connection from $TB_ADDR_compute1:[0-9]+" "$(lt_log "$fb")" "pair: forwarder b logged the refusal of compute1"

touch "$PT_DIR/pair.release"
t_a=$(lt_ctld_ms "$ja" '_job_complete: .*WEXITSTATUS' 30) || pt_bad "pair: job $ja did not end"
t_b=$(lt_ctld_ms "$jb" '_job_complete: .*WEXITSTATUS' 30) || pt_bad "pair: job $jb did not end"
[ -n "$t_a" ] && { lt_gone_check pair-a "$t_a" "$LIMIT" "after slurmctld logged job $ja complete" || true; }
[ -n "$t_b" ] && { lt_gone_check pair-b "$t_b" "$LIMIT" "after slurmctld logged job $jb complete" || true; }
lt_list_check "pair, both over: a" "$fa" gone
lt_list_check "pair, both over: b" "$fb" gone
lt_show_log "$fa" 12
lt_show_log "$fb" 12

pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
