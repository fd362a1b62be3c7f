#!/bin/bash
# `srun -N2 hostname` as the test user on login runs once on each compute node.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
tb_up

out=$(tb_user srun -N2 hostname)
echo "$out"
tb_assert_eq "compute1
compute2" "$(echo "$out" | sort)" "srun -N2 hostname"

# the tasks run as the test user, inside the compute nodes' network
out=$(tb_user srun -N2 -l sh -c 'echo "$(id -un) $(ip -4 -o addr show dev eth0 | awk "{print \$4}")"' | sort)
echo "$out"
tb_assert_eq "0: $TB_USER $TB_ADDR_compute1/24
1: $TB_USER $TB_ADDR_compute2/24" "$out" "user and address of each task"

# a batch job on both nodes (output file written by the user)
jobid=$(tb_user sbatch --parsable -N2 -o "$TB_USER_DIR/batch.out" --wrap 'srun hostname')
state=$(tb_wait_job "$jobid" 30)
tb_assert_eq COMPLETED "$state" "state of batch job $jobid"
tb_assert_eq "compute1
compute2" "$(sort "$TB_USER_DIR/batch.out")" "sbatch output"
echo ok
