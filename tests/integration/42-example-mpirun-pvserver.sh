#!/bin/bash
# examples/mpirun-pvserver.sbatch, the batch script for sites that start pvserver with mpirun:
#  1. without --pv-forward it refuses: run as a script and submitted as a job, it exits 1 with
#     "mpirun-pvserver.sbatch: submit with 'sbatch --pv-forward=DESKTOP:PORT'" (the job: FAILED,
#     exit code 1, the message in its output) and starts nothing;
#  2. sbatch --pv-forward=desktop:PORT mpirun-pvserver.sbatch: mpirun (Debian 12's OpenMPI 4.1,
#     which finds the Slurm allocation itself: no extra flags) starts pvserver pointed at
#     $PV_FORWARD_HOST:$PV_FORWARD_PORT, i.e. the job's forwarder on login; the ParaView
#     client on desktop connects (962 points, server pid != client pid), the job completes and
#     its forwarder goes away;
#  3. the same with two nodes, one rank each (sbatch -N2 -n2 ...; OpenMPI told the compute
#     network, as a site does): rank 0 connects, and the sphere comes in two pieces (1024
#     points: both ranks took part).
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init
install -o "$TB_USER" -m 0755 "$TB_ROOT/examples/mpirun-pvserver.sbatch" "$TB_USER_DIR/mpirun-pvserver.sbatch"
msg="mpirun-pvserver.sbatch: submit with 'sbatch --pv-forward=DESKTOP:PORT'"

tb_step "without --pv-forward: the script itself"
rc=0
out=$(tb_user bash mpirun-pvserver.sbatch 2>&1) || rc=$?
echo "    | $out"
pt_check_eq 1 "$rc" "exit status of the script run without the plugin's variables"
pt_check_eq "$msg" "$out" "its message"

tb_step "without --pv-forward: sbatch mpirun-pvserver.sbatch"
out=$(tb_user sbatch -o "$PT_DIR/nofwd-%j.out" mpirun-pvserver.sbatch 2>&1) || tb_fail "sbatch failed: $out"
echo "    | $out"
pt_check_no_match 'pv-forward:' "$out" "sbatch without --pv-forward says nothing about pv-forward"
jobid=$(sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p' <<<"$out")
[ -n "$jobid" ] || tb_fail "no job id"
state=$(tb_wait_job "$jobid" 60) || tb_fail "job $jobid did not end"
pt_check_eq FAILED "$state" "state of job $jobid"
pt_check_match 'ExitCode=1:0' "$(tb_run login scontrol -o show job "$jobid")" "exit code of job $jobid"
pt_check_eq "$msg" "$(cat "$PT_DIR/nofwd-$jobid.out")" "output of job $jobid"
pt_check_eq 0 "$(pt_nforwarders)" "pv-forwarder processes of $TB_USER"

# run_mpi NAME RANKS SBATCH-ARGS...   the script with --pv-forward, a client on desktop
run_mpi() {
    local name=$1 ranks=$2 port jobid state urls
    shift 2
    port=$(pt_port)
    tb_step "$name: sbatch --pv-forward=desktop:$port $* mpirun-pvserver.sbatch"
    pt_client_start "$name-client" "$port" 120
    pt_bg login "$name" 60 sbatch --pv-forward="desktop:$port" -o "$PT_DIR/$name-%j.out" "$@" mpirun-pvserver.sbatch
    pt_bg_wait "$name" 60 || tb_fail "$name: sbatch did not return"
    pt_show "$name"
    tb_assert_eq 0 "$PT_RC" "$name: sbatch exit status"
    jobid=$(pt_out "$name" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
    [ -n "$jobid" ] || tb_fail "$name: no job id"
    pt_parse_plugin_line "$name" "desktop:$port" || pt_bad "$name: no plugin line on sbatch's stderr"
    state=$(tb_wait_job "$jobid" 150) || pt_bad "$name: job $jobid still $(tb_job_state "$jobid") after 150 s"
    pt_check_eq COMPLETED "${state:-?}" "$name: state of job $jobid"
    echo "    [job $jobid output]"
    pt_tidy <"$PT_DIR/$name-$jobid.out" | grep -v '^ *$' | sed -n '1,20s/^/    | /p' || true
    urls=$(grep -o 'Connection URL: [^ ]*' "$PT_DIR/$name-$jobid.out" | sort -u || true)
    pt_check_eq "Connection URL: csrc://login:${PT_LPORT:-?}" "$urls" "$name: pvserver (rank 0) connected to the job's forwarder"
    if [ "$ranks" = 1 ]; then pt_client_check "$name-client" 30 || true
    else client_check_ranks "$name-client" "$ranks" || true; fi
    pt_wait_no_forwarder 30 || pt_bad "$name: forwarder still running 30 s after job $jobid ended: $(pt_forwarder_info)"
}
run_mpi one-node 1
# The network OpenMPI's ranks use between nodes, as a site sets it (openmpi-mca-params.conf):
# OpenMPI 6.0's TCP transport found no "reachable pairing" between the compute namespaces'
# interfaces on its own (loopback and IPv6 link-local addresses beside the bridge's subnet).
run_mpi two-nodes 2 -N2 -n2 --export="ALL,OMPI_MCA_btl_tcp_if_include=$TB_NET_compute"
pt_done
