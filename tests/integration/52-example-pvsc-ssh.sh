#!/bin/bash
# examples/paraview-ssh.pvsc, the ParaView GUI's one click for a desktop behind NAT:
#  1. it parses as XML and is consistent: one <Server> with resource csrc://localhost:PORT, PORT
#     the Client port option's default; the options the comment tells users to edit (LOGIN,
#     HOME_ON_LOGIN, ACCOUNT, PARTITION, NODES) and PV_SERVER_PORT, each with a label and a
#     default, every $VAR$ declared (or ParaView's own), every option used; the command is
#     `ssh -o BatchMode=yes -o ExitOnForwardFailure=yes -R SOCK:localhost:$PV_SERVER_PORT$
#     $LOGIN$ srun --pv-forward=SOCK ... pvserver --reverse-connection ; rm -f SOCK` with one
#     SOCK; the checker refuses broken copies;
#  2. the command it would run, run for real from the NAT'd desktop as the test user (the bed's
#     sshd; its key, port and known_hosts added to ssh's options, the rest exactly the file's,
#     with the bed's values for LOGIN, HOME_ON_LOGIN, ACCOUNT, PARTITION), with
#     examples/pv_client.py waiting on the Client port as the GUI would: the session goes
#     through (962 points), ssh exits 0 once pvserver has ended, the job completed with the
#     account, partition and name asked for, the socket file is gone, no forwarder is left.
#     Then once more: the same socket path serves a second click.
# The real Qt client is not driven here: the options dialog it shows for a <CommandStartup>
# server is modal.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/sshbed.sh"

PVSC=$TB_ROOT/examples/paraview-ssh.pvsc
ACCOUNT=pvtestacct

# pvsc_argv FILE NAME=VALUE...   check the file (exit 1 with the reasons) and print the command's
#   argv, one argument a line, with the defaults and the given NAME=VALUE substituted
pvsc_argv() { python3 "$TB_ROOT/tests/lib/pvsc.py" "$1" ssh "${@:2}"; }

tb_step "examples/paraview-ssh.pvsc parses and is consistent"
pvsc_argv "$PVSC" >/dev/null || tb_fail "examples/paraview-ssh.pvsc: see the pvsc: lines above"
echo "ok: parsed; options, resource and command consistent"
bad=$(mktemp)
for edit in 's/\$PARTITION\$/$PARTITON$/' 's/<\/Servers>//' 's/--pv-forward=\$HOME_ON_LOGIN\$\/.pv-forward-/--pv-forward=$HOME_ON_LOGIN$\/.other-/' \
            's/<Argument value="rm"\/>//'; do
    sed "$edit" "$PVSC" >"$bad"
    if pvsc_argv "$bad" 2>/dev/null >/dev/null; then rm -f "$bad"; tb_fail "the checker accepted a copy edited with $edit"; fi
done
rm -f "$bad"
echo "ok: the checker refuses an undeclared variable, malformed XML, srun's socket differing from -R's, no rm"

tb_up
pt_init
sb_up
HOME_DIR=$(getent passwd "$TB_USER" | cut -d: -f6)

# click NAME PORT   what the GUI runs, from desktop, with pv_client.py as the GUI
click() {
    local name=$1 port=$2 argv sock jobid info
    mapfile -t argv < <(pvsc_argv "$PVSC" LOGIN=login HOME_ON_LOGIN="$HOME_DIR" ACCOUNT=$ACCOUNT \
        PARTITION=debug PV_SERVER_PORT="$port")
    sock=$HOME_DIR/.pv-forward-$port.sock
    tb_on_down "rm -f '$sock'"
    tb_step "$name: the GUI would run: ${argv[*]}"
    pt_client_start "$name-client" "$port" 120
    # the bed's connection options (key, port, known_hosts) go in front of the file's own
    pt_bg desktop "$name" 150 ssh "${SB_SSH_OPTS[@]}" "${argv[@]:1}"
    pt_bg_wait "$name" 150 || { pt_bad "$name: ssh still running after 150 s"; pt_bg_stop "$name"; }
    pt_show "$name"
    pt_check_eq 0 "${PT_RC:-none}" "$name: ssh's exit status (srun's, then rm's)"
    if pt_parse_plugin_line "$name" "$sock"; then
        pt_good "$name: plugin line: job $PT_JOB, $sock via $PT_LHOST:$PT_LPORT"
        pt_check_eq "Connection URL: csrc://login:$PT_LPORT" "$(grep -o 'Connection URL: [^ ]*' "$PT_DIR/$name.out" | sort -u)" \
            "$name: pvserver connected to the forwarder"
    else
        pt_bad "$name: no line /$(pt_plugin_line_re "$sock")/"
    fi
    pt_client_check "$name-client" 30 || true
    jobid=${PT_JOB:-}
    if [ -n "$jobid" ]; then
        info=$(tb_run login scontrol -o show job "$jobid" 2>/dev/null || true)
        pt_check_match "JobName=pvserver .*JobState=COMPLETED" "$info" "$name: job $jobid completed, its name"
        pt_check_match " Account=$ACCOUNT " "$info" "$name: account"
        pt_check_match " Partition=debug " "$info" "$name: partition"
    fi
    [ ! -e "$sock" ] && pt_good "$name: the socket file is gone" || pt_bad "$name: $sock left behind"
    pt_wait_no_forwarder 15 || pt_bad "$name: forwarder left: $(pt_forwarder_info)"
}

port=$(pt_port)
click first "$port"
click second "$port"
pt_done
