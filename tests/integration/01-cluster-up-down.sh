#!/bin/bash
# The test bed comes up (namespaces, hosts lines, daemons, idle nodes) and goes down leaving
# nothing behind, twice in a row.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"

for round in 1 2; do
    tb_step "round $round: up"
    start=$(date +%s%N)
    tb_up
    echo "up in $(( ($(date +%s%N) - start) / 1000000 )) ms"

    for n in "${TB_NODES[@]}"; do
        [ -e "$(tb_ns_path "$n")" ] || tb_fail "namespace $(tb_ns_name "$n") missing"
        tb_assert_eq "$n" "$(tb_run "$n" hostname)" "hostname in $n"
    done
    for n in login compute1 compute2 desktop; do
        getent hosts "$n" >/dev/null || tb_fail "$n does not resolve"
    done
    tb_assert_eq "login" "$(tb_user hostname)" "hostname seen by the test user on login"
    tb_assert_eq "$TB_USER" "$(tb_user id -un)" "user of tb_user"
    [ -r "$SLURM_CONF" ] || tb_fail "no slurm.conf at $SLURM_CONF"
    case $SLURM_CONF in /etc/slurm/*) tb_fail "SLURM_CONF points into /etc/slurm" ;; esac
    sinfo_out=$(tb_user sinfo -h -N -o '%N %t')
    tb_assert_eq "compute1 idle
compute2 idle" "$sinfo_out" "sinfo as $TB_USER"

    daemons=$(awk '$1 != "bg" { print $2 }' "$TB_STATE_DIR/pids")
    tb_assert_eq 4 "$(echo "$daemons" | wc -w)" "recorded daemons (munged slurmctld 2x slurmd)"
    for pid in $daemons; do tb__pid_alive "$pid" || tb_fail "daemon $pid not running"; done
    dir=$TB_DIR

    tb_step "round $round: down"
    tb_down
    [ ! -e "$dir" ] || tb_fail "temp dir $dir still there"
    for pid in $daemons; do tb__pid_alive "$pid" && tb_fail "daemon $pid still running"; done
    [ ! -e "$TB_STATE_DIR" ] || tb_fail "state dir still there"
    if ! left=$(tb_check_clean); then tb_fail "left behind after round $round: $left"; fi
    # down again: must be a harmless no-op
    tb_down || tb_fail "second tb_down failed"
done
echo "ok"
