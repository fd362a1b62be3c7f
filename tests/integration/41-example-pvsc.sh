#!/bin/bash
# examples/paraview-reverse.pvsc, the ParaView GUI's one-click server configuration:
#  1. it parses as XML (python3 xml.etree) and says what the GUI needs: one <Server> with a
#     reverse-connection resource (csrc://) whose port is the Client port option's default, the
#     options the comment tells users to edit (LOGIN, ACCOUNT, PARTITION, NODES) and
#     PV_SERVER_PORT, each with a label and a default, every $VAR$ in the command declared (or
#     one ParaView defines itself) and every option used, the command `ssh -o BatchMode=yes
#     $LOGIN$ sbatch --pv-forward=:$PV_SERVER_PORT$ ...`;
#  2. the command it would run is valid: its argument list is built from the defaults (LOGIN,
#     ACCOUNT and PARTITION replaced by the bed's values: login, an account name, debug), the
#     `ssh -o BatchMode=yes LOGIN` prefix dropped, and the rest run the way sshd runs a remote
#     command - `$SHELL -c "<arguments joined by spaces>"` - as the test user on login, with
#     SSH_CONNECTION="<desktop> 50000 <login> 22" as sshd sets it. examples/pv_client.py waits on
#     desktop at the Client port, as the GUI would. The job runs, the plugin takes the desktop's
#     address from SSH_CONNECTION, the client connects (962 points, server pid != client pid),
#     the job completes with the account, partition, node count and name asked for, and its
#     forwarder goes away. Then again with NODES=2: `srun pvserver` runs one rank on each node,
#     rank 0 connects, and the sphere comes in two pieces (1024 points) - where Slurm has its
#     PMIx plugin (tb_mpi): Debian's 26.05 has none, and there NODES=2 is not run.
# The bed has no accounting (AccountingStorageType=accounting_storage/none): slurmctld takes any
# --account and records it; sites with accounting need a real one (the file's comment says so).
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"

PVSC=$TB_ROOT/examples/paraview-reverse.pvsc
ACCOUNT=pvtestacct

# pvsc_argv FILE NAME=VALUE...   check the file (exit 1 with the reasons) and print the command's
#   argv, one argument a line, with the options' defaults and the given NAME=VALUE substituted
pvsc_argv() { python3 "$TB_ROOT/tests/lib/pvsc.py" "$1" reverse "${@:2}"; }

tb_step "examples/paraview-reverse.pvsc parses and is complete"
pvsc_argv "$PVSC" LOGIN=login ACCOUNT=$ACCOUNT PARTITION=debug >/dev/null ||
    tb_fail "examples/paraview-reverse.pvsc: see the pvsc: lines above"
echo "ok: parsed with xml.etree; options, resource and command consistent"
# a broken copy must be caught (the checker itself works)
bad=$(mktemp)
sed 's/\$PARTITION\$/$PARTITON$/' "$PVSC" >"$bad"
if pvsc_argv "$bad" 2>/dev/null >/dev/null; then rm -f "$bad"; tb_fail "the checker accepted an undeclared \$PARTITON\$"; fi
sed 's/<\/Servers>//' "$PVSC" >"$bad"
if pvsc_argv "$bad" 2>/dev/null >/dev/null; then rm -f "$bad"; tb_fail "the checker accepted malformed XML"; fi
rm -f "$bad"
echo "ok: the checker refuses an undeclared variable and malformed XML"

tb_up
pt_init

# run_pvsc NAME NODES   the .pvsc's command with the defaults (NODES given), as sshd would run it
run_pvsc() {
    local name=$1 nodes=$2 argv remote port jobid state info
    mapfile -t argv < <(pvsc_argv "$PVSC" LOGIN=login ACCOUNT=$ACCOUNT PARTITION=debug NODES="$nodes")
    [ "${argv[0]} ${argv[1]} ${argv[2]}" = "ssh -o BatchMode=yes" ] && [ "${argv[3]}" = login ] ||
        tb_fail "$name: unexpected command start: ${argv[*]:0:4}"
    port=${argv[*]}; port=${port##*--pv-forward=:}; port=${port%% *}
    remote="${argv[*]:4}"
    tb_step "$name: the GUI would run: ${argv[*]}"
    echo "    remote shell runs: bash -c \"$remote\""
    pt_client_start "$name-client" "$port" 120
    pt_bg login "$name" 60 env SSH_CONNECTION="$TB_ADDR_desktop 50000 $TB_ADDR_login_desktop 22" \
        bash -c "$remote"
    pt_bg_wait "$name" 60 || tb_fail "$name: the command did not return"
    pt_show "$name"
    tb_assert_eq 0 "$PT_RC" "$name: exit status of the remote command"
    jobid=$(pt_out "$name" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
    [ -n "$jobid" ] || tb_fail "$name: no job id"
    if pt_parse_plugin_line "$name" "$TB_ADDR_desktop:$port"; then
        pt_good "$name: the plugin took the desktop from SSH_CONNECTION: $TB_ADDR_desktop:$port via $PT_LHOST:$PT_LPORT"
    else
        pt_bad "$name: no line /$(pt_plugin_line_re "$TB_ADDR_desktop:$port")/ on stderr"
    fi
    info=$(tb_run login scontrol -o show job "$jobid")
    pt_check_match "JobName=pvserver " "$info" "$name: job name"
    pt_check_match " Account=$ACCOUNT " "$info" "$name: account (accepted; the bed has no accounting)"
    pt_check_match " Partition=debug " "$info" "$name: partition"
    pt_check_match " NumNodes=$nodes(-$nodes)? " "$info" "$name: node count"
    state=$(tb_wait_job "$jobid" 150) || pt_bad "$name: job $jobid still $(tb_job_state "$jobid") after 150 s"
    pt_check_eq COMPLETED "${state:-?}" "$name: state of job $jobid"
    echo "    [job $jobid output]"
    pt_tidy <"$TB_USER_DIR/slurm-$jobid.out" | grep -v '^ *$' | sed -n '1,20s/^/    | /p' || true
    pt_check_eq "Connection URL: csrc://login:${PT_LPORT:-?}" \
        "$(grep -o 'Connection URL: [^ ]*' "$TB_USER_DIR/slurm-$jobid.out" | sort -u)" "$name: pvserver connected to the forwarder"
    if [ "$nodes" = 1 ]; then pt_client_check "$name-client" 30 || true
    else client_check_ranks "$name-client" "$nodes" || true; fi
    pt_wait_no_forwarder 30 || pt_bad "$name: forwarder still running 30 s after job $jobid ended: $(pt_forwarder_info)"
}

run_pvsc defaults 1
# N nodes are one pvserver of N ranks only through Slurm's PMIx plugin; without it (tb_mpi) each
# node's task is a one-rank pvserver of its own and both connect: nothing to show there.
if [ "$(tb_mpi)" = pmix ]; then
    run_pvsc two-nodes 2
else
    echo "note: MpiDefault=$(tb_mpi) (this Slurm has no mpi/pmix plugin): NODES=2 not run"
fi
pt_done
