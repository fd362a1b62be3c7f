#!/bin/bash
# The plugin loaded as `required` changes nothing for jobs that do not ask for --pv-forward:
# srun -N2 hostname, srun -N2 false, a task's environment, sbatch --wrap=hostname (its output
# and final state) and salloc with a command give the same output, stderr and exit status as
# with plugstack.conf empty (job ids aside), and leave the nodes idle (the plugin defines a job
# epilog, which slurmd then runs for every job: a failing one would drain the node). The same holds with a broken site argument in
# plugstack.conf (ports=9-1, an unknown key), and then --pv-forward is refused on srun, sbatch
# and salloc with a clear message that names the bad argument; nothing is submitted, no
# forwarder starts.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

# Normalised for comparison: numbers (job ids, times) become N, lines sorted (srun's and
# slurmstepd's messages interleave in any order), and salloc's "Job allocation N has been
# revoked." dropped: salloc prints it or not depending on whether slurmctld's revoke message
# arrives before it exits (seen both ways with the plugin removed).
norm() { sed -E 's/[0-9]+/N/g' | grep -v '^salloc: Job allocation N has been revoked\.$' | sort || true; }

# run_set TAG   the plain commands, results into $PT_DIR/TAG.*; durations printed
run_set() {
    local tag=$1 jobid rc t0
    : >"$PT_DIR/$tag.results"
    one() {   # NAME CMD...   stdout (sorted), stderr (normalised), exit status
        local n=$1 rc=0
        shift
        # Each command starts on idle nodes: with the plugin, slurmd runs its job epilog after
        # every job, and a job submitted while the last one's epilog still runs waits for the
        # nodes ("queued and waiting for resources", seen under the ASan build, whose
        # slurmstepd starts slower); without the plugin there is no epilog to wait for.
        tb_wait_idle 30 || pt_bad "$tag: nodes not idle before $n"
        t0=$(pt_ms)
        tb_user "$@" >"$PT_DIR/$tag.$n.out" 2>"$PT_DIR/$tag.$n.err" </dev/null || rc=$?
        printf '%-10s %-12s %5d ms exit %s\n' "$tag" "$n" "$(( $(pt_ms) - t0 ))" "$rc"
        {
            echo "== $n exit $rc"
            echo "-- stdout"; norm <"$PT_DIR/$tag.$n.out"
            echo "-- stderr"; norm <"$PT_DIR/$tag.$n.err"
        } >>"$PT_DIR/$tag.results"
    }
    one srun-host srun -N2 hostname
    one srun-false srun -N2 false
    one srun-env srun -N2 -l sh -c 'env | grep -c -E "^(SLURM_)?PV_FORWARD" || true'
    one srun-args srun -N1 printf '%s|' --client-host=x -sp=1 pvserver
    one salloc salloc -N1 sh -c 'hostname; srun -N1 hostname'
    one sbatch sbatch -N1 -o "$PT_DIR/$tag.job-%j.out" --wrap='hostname; srun hostname'
    jobid=$(sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p' "$PT_DIR/$tag.sbatch.out")
    if [ -n "$jobid" ]; then
        {
            echo "== batch job: $(tb_wait_job "$jobid" 30 || echo TIMEOUT)"
            norm <"$PT_DIR/$tag.job-$jobid.out"
        } >>"$PT_DIR/$tag.results"
    else
        echo "== batch job: none" >>"$PT_DIR/$tag.results"
    fi
    [ -z "$(pt_forwarders)" ] || pt_bad "$tag: a pv-forwarder runs: $(pt_forwarder_info)"
    tb_wait_idle 30 && pt_good "$tag: the compute nodes are idle after the jobs" ||
        pt_bad "$tag: compute nodes not idle after the jobs"
}

# compare BASE TAG
compare() {
    if diff -u "$PT_DIR/$1.results" "$PT_DIR/$2.results" >"$PT_DIR/diff.$2" 2>&1; then
        pt_good "$2: plain jobs behave exactly as with $1"
    else
        pt_bad "$2: plain jobs differ from $1: $(cat "$PT_DIR/diff.$2")"
    fi
}

tb_step "plugin required (as the bed sets it up)"
run_set required
echo "    [results]"; sed 's/^/    | /' "$PT_DIR/required.results"

tb_step "no plugin"
tb_set_plugstack --none
run_set none
compare none required

# broken_site ARG...   plain jobs unchanged; --pv-forward refused naming the first bad argument
broken_site() {
    local tag=$1 bad=$2 prog rc err out
    shift 2
    tb_step "$tag: plugstack arguments $*"
    tb_set_plugstack "$@"
    echo "plugstack: $(cat "$TB_PLUGSTACK")"
    run_set "$tag"
    compare none "$tag"
    for prog in srun sbatch salloc; do
        rc=0
        case $prog in
        srun)   tb_user srun --pv-forward=desktop:11111 hostname ;;
        sbatch) tb_user sbatch --pv-forward=desktop:11111 -o /dev/null --wrap=hostname ;;
        salloc) tb_user salloc --pv-forward=desktop:11111 hostname ;;
        esac >"$PT_DIR/$tag.opt.out" 2>"$PT_DIR/$tag.opt.err" </dev/null || rc=$?
        err=$(cat "$PT_DIR/$tag.opt.err") out=$(cat "$PT_DIR/$tag.opt.out")
        echo "    $prog --pv-forward: exit $rc; stderr:"; echo "$err" | sed 's/^/    | /'
        [ "$rc" != 0 ] || pt_bad "$tag: $prog --pv-forward exited 0"
        pt_check_eq "" "$out" "$tag: $prog --pv-forward: stdout"
        pt_check_eq 1 "$(echo "$err" | grep -c 'pv-forward:' || true)" "$tag: $prog: lines with 'pv-forward:'"
        pt_check_match "pv-forward: .*'$bad'" "$err" "$tag: $prog: the message names '$bad'"
        pt_check_match "pv-forward: .*(plugstack|administrator)" "$err" "$tag: $prog: the message says where the fault is"
        [ -z "$(pt_forwarders)" ] || pt_bad "$tag: $prog: a pv-forwarder runs: $(pt_forwarder_info)"
    done
    pt_check_eq "" "$(tb_user squeue -h -u "$TB_USER")" "$tag: squeue -u $TB_USER"
}
broken_site bad-ports 'ports=9-1' ports=9-1
broken_site unknown-key 'colour=blue' colour=blue
broken_site bad-hold 'hold=-5' hold=-5

tb_step "plugin back, --pv-forward works again (control)"
tb_set_plugstack
out=$(tb_user srun --pv-forward=desktop:11111 true 2>&1) || pt_bad "srun --pv-forward with a good plugstack failed: $out"
pt_check_match "$(pt_plugin_line_re desktop:11111)" "$out" "control: plugin line with the good plugstack"
pt_done
