#!/bin/bash
# salloc --pv-forward=desktop:PORT with srun pvserver inside the allocation (salloc with a
# command, so nothing is interactive):
#   salloc --pv-forward=desktop:PORT srun pvserver --reverse-connection
#   salloc -N2 --pv-forward=desktop:PORT sh -c 'srun -l printenv ... && srun pvserver ...'
#   (the second: pvserver as two MPI ranks on two nodes; rank 0 connects; the sphere comes in
#   two pieces, 1024 points in all; one rank where Slurm has no PMIx plugin, see tb_mpi)
# The client on desktop connects; salloc exits 0; salloc prints the plugin's line once and the
# sruns inside start no forwarder of their own (every step sees the allocation's forwarder);
# no forwarder is left once salloc has ended.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

port=$(pt_port)
pt_session salloc "$port" salloc --pv-forward="desktop:$port" srun pvserver --reverse-connection
pt_check_eq 1 "$(pt_err salloc | grep -c 'compute nodes reach' || true)" "salloc: lines saying where compute nodes reach"
pt_check_match '^salloc: Granted job allocation [0-9]+$' "$(pt_err salloc)" "salloc: allocation granted"

port=$(pt_port)
# Two ranks need Slurm's PMIx plugin; without it each task would be a one-rank pvserver of its
# own, both connecting: there the second step is one rank (962 points).
if [ "$(tb_mpi)" = pmix ]; then pvsrun='srun' points=1024
else
    pvsrun='srun -N1 -n1' points=962
    echo "note: MpiDefault=$(tb_mpi) (this Slurm has no mpi/pmix plugin): the second step runs one pvserver rank"
fi
PT_POINTS=$points pt_session two-steps "$port" salloc -N2 --pv-forward="desktop:$port" sh -c \
    "srun -l printenv PV_FORWARD_PORT PV_FORWARD_HOST && $pvsrun pvserver --reverse-connection"
pt_check_eq 1 "$(pt_err two-steps | grep -c 'compute nodes reach' || true)" "two-steps: lines saying where compute nodes reach"
if [ -n "$PT_LPORT" ]; then
    pt_check_eq "0: $PT_LPORT
0: login
1: $PT_LPORT
1: login" "$(pt_out two-steps | grep -E '^[01]: ' | sort)" "two-steps: PV_FORWARD_PORT/HOST in both tasks of the first step"
fi
pt_done
