#!/bin/bash
# The forwarder of a salloc and of a sbatch job is killed (SIGKILL) mid-job (62 does it to
# srun's); what the user is told, and no false alarm when a forwarder ends with its job:
#   salloc     salloc --pv-forward ... sh -c '<wait>; srun true': SIGKILL to its forwarder;
#              the srun step that starts afterwards says in salloc's terminal that the job's
#              forwarder is not running (its HELLO was refused) and where its log is; at its
#              exit salloc says that its forwarder ended before it did and names the log file
#              (the dead forwarder's state file is still there: nothing else removed it);
#              salloc and the job end normally.
#   sbatch     a batch job runs a step (its HELLO is answered), its forwarder is killed, the next
#              step says the same in the job's output; the job ends normally (COMPLETED).
#   scancel    salloc ... sh -c '<wait>', scancel of the allocation: the forwarder ends as it
#              should (and removes its state file); salloc runs on with its command and, when
#              that ends, exits without a word about a killed forwarder.
#   plain      salloc ... true: salloc's command ends, the job with it, the forwarder with the
#              job, possibly before salloc's own end: no word about a killed forwarder either.
# Each message is one line, values quoted, said once.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init

KILLED_RE="ended before salloc did"
HELLO_RE="the job's forwarder on 'login:[0-9]+' is not running"

# once TEXT ERE WHAT   exactly one line of TEXT matches ERE
once() {
    local n
    n=$(grep -Ec -- "$2" <<<"$1" || true)
    pt_check_eq 1 "$n" "$3: lines matching /$2/"
}
# wait_script NAME   a shell loop that waits for $PT_DIR/NAME.go (the test's cue to go on)
wait_script() { echo "while [ ! -e $PT_DIR/$1.go ]; do sleep 0.1; done"; }
# kill_fwd NAME PID   SIGKILL to the forwarder watched as NAME, wait until it is gone
kill_fwd() {
    kill -KILL "$2"
    tb_wait 10 "forwarder $2 to be gone" lt__gone_known "$1" || tb_fail "$1: forwarder $2 still there after SIGKILL"
}
uid=$(id -u "$TB_USER")

tb_step "salloc: SIGKILL to its forwarder, then a step, then salloc's end"
port=$(lt_port)
lt_start sa "$port" 120 salloc -N1 -w compute1 sh -c "$(wait_script sa); srun -N1 true; echo step-done"
tb_wait 20 "salloc's allocation" granted sa || tb_fail "sa: no allocation: $(pt_err sa)"
job=$(granted sa) fwd=$LT_PID lport=$PT_LPORT
echo "sa: job $job, forwarder $fwd on login:$lport"
tb_wait 10 "--list to show job $job" row_is "$fwd" "$job running desktop:$port 0" || pt_bad "sa: --list: $(lt_list)"
kill_fwd sa "$fwd"
[ -e "$LT_STATE/$fwd.state" ] && pt_good "sa: the killed forwarder left $fwd.state" || pt_bad "sa: no $fwd.state left"
touch "$PT_DIR/sa.go"
pt_bg_wait sa 60 || pt_bad "sa: salloc did not end"
pt_check_eq 0 "${PT_RC:-none}" "sa: salloc's exit status"
pt_check_match step-done "$(pt_out sa)" "sa: the command's step ran"
pt_check_eq COMPLETED "$(tb_wait_job "$job" 20)" "sa: state of job $job"
echo "    what salloc's terminal got (stderr):"
pt_err sa | sed 's/^/    | /'
err=$(pt_err sa)
once "$err" "pv-forward: step $job\\.0: $HELLO_RE" "sa: the step's message"
once "$err" "pv-forward: step $job\\.0: the job's forwarder on 'login:$lport' is not running \\(it ended or was killed; its control port refused the connection\\), so pvserver in this step cannot reach the desktop through it\\. Its log is in '\\\$XDG_RUNTIME_DIR/pv-forward' or '/tmp/pv-forward-$uid' on 'login'" \
    "sa: the step's message, in full"
pt_check_no_match "could not tell the job's forwarder that the step started" "$err" "sa: not the generic HELLO message"
once "$err" "pv-forward: the forwarder on 'login:$lport' $KILLED_RE \\(killed\\?\\); connections through it were cut then\\. Its log is '$LT_STATE/$fwd\\.log' on 'login'\\.\$" \
    "sa: salloc's message at its exit"
[ -s "$LT_STATE/$fwd.log" ] && pt_good "sa: the log it names is there" || pt_bad "sa: no $LT_STATE/$fwd.log"

tb_step "sbatch: a step, SIGKILL to the forwarder, another step"
port=$(lt_port)
lt_sbatch sb "$port" -N1 -w compute1 --wrap "srun -N1 true; echo first-done; $(wait_script sb); srun -N1 true; echo second-done"
job=$LT_JOB fwd=$LT_PID lport=$PT_LPORT
[ -n "$job" ] && [ -n "$fwd" ] || tb_fail "sb: no job or no forwarder: $(pt_err sb)"
lt_watch sb "$fwd"
tb_wait 30 "the first step to be done" tb__file_matches "$PT_DIR/sb.job.out" first-done ||
    tb_fail "sb: the first step did not run: $(lt_job_out sb)"
lt_wait_log "$fwd" "job $job: (bound|confirmed) \(HELLO\)" 10 || pt_bad "sb: no HELLO in the forwarder's log"
kill_fwd sb "$fwd"
touch "$PT_DIR/sb.go"
pt_check_eq COMPLETED "$(tb_wait_job "$job" 60)" "sb: state of job $job"
echo "    the job's output:"
lt_job_out sb | sed 's/^/    | /'
out=$(lt_job_out sb)
pt_check_match second-done "$out" "sb: the second step ran"
once "$out" "pv-forward: step $job\\.1: $HELLO_RE" "sb: the second step's message"
once "$out" "pv-forward: step $job\\.1: the job's forwarder on 'login:$lport' is not running .* on 'login' \\(pv-forwarder --list there shows the forwarders still running\\)\\.\$" \
    "sb: the second step's message, in full"
pt_check_no_match "could not tell the job's forwarder that the step started" "$out" "sb: not the generic HELLO message"
pt_check_no_match "step $job\\.(0|batch): .*not running" "$out" "sb: the steps before the kill say nothing"

# salloc_ends NAME   let NAME's command end; salloc must exit 0 without the killed message
salloc_ends() {
    touch "$PT_DIR/$1.go"
    pt_bg_wait "$1" 60 || pt_bad "$1: salloc did not end"
    pt_check_eq 0 "${PT_RC:-none}" "$1: salloc's exit status"
    echo "    what salloc said (stderr):"
    pt_err "$1" | sed 's/^/    | /'
    pt_check_no_match "$KILLED_RE|$HELLO_RE" "$(pt_err "$1")" "$1: no killed-forwarder message"
}

tb_step "scancel: the forwarder ends with its job; salloc runs on, then exits without a false alarm"
port=$(lt_port)
lt_start sc "$port" 120 salloc -N1 -w compute1 sh -c "$(wait_script sc); echo command-done"
tb_wait 20 "salloc's allocation" granted sc || tb_fail "sc: no allocation: $(pt_err sc)"
job=$(granted sc) fwd=$LT_PID
tb_wait 10 "--list to show job $job" row_is "$fwd" "$job running desktop:$port 0" || pt_bad "sc: --list: $(lt_list)"
t0=$(lt_ms)
tb_run login scancel "$job"
lt_gone_check sc "$t0" 5000 "after scancel of job $job" || true
pt_check_eq "" "$(cd "$LT_STATE" && ls -d "$fwd.state" 2>/dev/null)" "sc: the forwarder removed its state file"
pt_check_match 'exiting: ' "$(lt_log "$fwd")" "sc: the forwarder says why it ended"
if pt_bg_done sc; then pt_bad "sc: salloc ended with the allocation (the case needs it to run on)"
else pt_good "sc: salloc runs on after the scancel"; fi
salloc_ends sc
pt_check_match command-done "$(pt_out sc)" "sc: the command ran to its end"

tb_step "plain: salloc's command ends, the job and the forwarder with it"
port=$(lt_port)
lt_start pl "$port" 120 salloc -N1 -w compute1 sh -c "$(wait_script pl); srun -N1 true"
tb_wait 20 "salloc's allocation" granted pl || tb_fail "pl: no allocation: $(pt_err pl)"
salloc_ends pl
lt_gone_check pl "$(lt_end_ms pl)" 5000 "after salloc exited" || true

pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
