#!/bin/bash
# A program that is not pvserver, started with --pv-forward, sees PV_FORWARD_HOST and
# PV_FORWARD_PORT (the forwarder on login) and reaches the desktop through them:
#   srun --pv-forward=desktop:PORT -N2 -l bash -c '... /dev/tcp/$PV_FORWARD_HOST/$PV_FORWARD_PORT'
# must read the banner of a listener on desktop:PORT from both compute nodes (which cannot reach
# desktop directly, see 03-topology). The same from a batch script submitted with
# --export=NONE (the variables must survive it) and from a step inside it. The arguments of
# programs other than pvserver are left alone.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

# What each task runs: its view of the variables, then one connection through them.
probe='echo "env $PV_FORWARD_HOST $PV_FORWARD_PORT $SLURM_PV_FORWARD_HOST $SLURM_PV_FORWARD_PORT"
if exec 3<>"/dev/tcp/$PV_FORWARD_HOST/$PV_FORWARD_PORT"; then
    if IFS= read -r -t 10 line <&3; then echo "got: $line"; else echo "got nothing (read status $?)"; fi
else
    echo "connect failed"
fi'

port=$(pt_port)
banner=hello-from-desktop-$port
tb_listen desktop "$port" "$banner" >/dev/null

tb_step "srun -N2: the variables and a connection through them from each node"
t0=$(pt_ms)
pt_bg login srun 60 srun --pv-forward="desktop:$port" -N2 -l bash -c "$probe"
pt_bg_wait srun 60 || { pt_bad "srun did not end within 60 s"; pt_bg_stop srun; }
pt_measure "srun -N2 with the probe took $(( $(pt_ms) - t0 )) ms, exit ${PT_RC:-none}"
pt_show srun
pt_check_eq 0 "${PT_RC:-none}" "srun exit status"
if pt_parse_plugin_line srun "desktop:$port"; then
    pt_check_eq "0: env login $PT_LPORT login $PT_LPORT
1: env login $PT_LPORT login $PT_LPORT" "$(pt_out srun | grep -E '^[01]: env ' | sort)" \
        "PV_FORWARD_HOST/PORT (and SLURM_PV_FORWARD_*) in both tasks"
else
    pt_bad "no plugin line on srun's stderr"
fi
pt_check_eq "0: got: $banner
1: got: $banner" "$(pt_out srun | grep -E '^[01]: (got|connect)' | sort)" \
    "both tasks read desktop's banner through \$PV_FORWARD_HOST:\$PV_FORWARD_PORT"
pt_check_eq 2 "$(grep -c '^connection from' "$TB_LOGS/listen-desktop-$port.log" || true)" \
    "connections the desktop listener saw"
grep '^connection from' "$TB_LOGS/listen-desktop-$port.log" | sed 's/^/    desktop listener: /' || true
pt_wait_no_forwarder 10 || pt_bad "forwarder still running 10 s after srun ended"

tb_step "other programs' arguments are left alone"
pt_bg login args 60 srun --pv-forward="desktop:$port" printf '%s|' a --client-host=x -sp=1 -rc --server-port 5
pt_bg_wait args 60 || pt_bg_stop args
pt_check_eq 0 "${PT_RC:-none}" "srun printf exit status"
pt_check_eq 'a|--client-host=x|-sp=1|-rc|--server-port|5|' "$(pt_out args)" "printf's arguments"
pt_wait_no_forwarder 10 || pt_bad "forwarder still running 10 s after srun ended"

tb_step "sbatch --export=NONE: the batch script and a step inside it"
# The step's command by absolute path: a job submitted with --export=NONE passes SLURM_EXPORT_ENV=NONE
# to the sruns inside it, whose tasks then have no PATH (Slurm's documented behaviour).
printf '%s\n' "$probe" >"$PT_DIR/probe.sh"
cat >"$PT_DIR/probe.sbatch" <<EOS
#!/bin/bash
#SBATCH -N1
bash $PT_DIR/probe.sh | sed 's/^/batch: /'
srun -N1 /bin/bash $PT_DIR/probe.sh | sed 's/^/step: /'
EOS
chown "$TB_USER:" "$PT_DIR/probe.sh" "$PT_DIR/probe.sbatch"
t0=$(pt_ms)
pt_bg login sbatch 60 sbatch --pv-forward="desktop:$port" --export=NONE -o "$PT_DIR/probe-%j.out" "$PT_DIR/probe.sbatch"
pt_bg_wait sbatch 60 || tb_fail "sbatch did not return"
pt_show sbatch
pt_check_eq 0 "$PT_RC" "sbatch exit status"
jobid=$(pt_out sbatch | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
[ -n "$jobid" ] || tb_fail "no job id from sbatch"
state=$(tb_wait_job "$jobid" 60) || pt_bad "job $jobid did not end within 60 s"
pt_measure "batch job $jobid ended $(( $(pt_ms) - t0 )) ms after sbatch was started, state ${state:-?}"
out=$(cat "$PT_DIR/probe-$jobid.out" 2>/dev/null || true)
echo "    [job $jobid output]"; echo "$out" | sed 's/^/    | /'
pt_check_eq COMPLETED "${state:-?}" "state of job $jobid"
if pt_parse_plugin_line sbatch "desktop:$port"; then
    pt_check_eq "batch: env login $PT_LPORT login $PT_LPORT" "$(echo "$out" | grep '^batch: env ')" \
        "PV_FORWARD_* in the batch script (--export=NONE)"
    pt_check_eq "step: env login $PT_LPORT login $PT_LPORT" "$(echo "$out" | grep '^step: env ')" \
        "PV_FORWARD_* in a step of the batch job"
else
    pt_bad "no plugin line on sbatch's stderr"
fi
pt_check_eq "batch: got: $banner" "$(echo "$out" | grep -E '^batch: (got|connect)')" \
    "the batch script reads desktop's banner through the forwarder"
pt_check_eq "step: got: $banner" "$(echo "$out" | grep -E '^step: (got|connect)')" \
    "a step of the batch job reads desktop's banner through the forwarder"
pt_wait_no_forwarder 40 || pt_bad "forwarder still running 40 s after job $jobid ended: $(pt_forwarder_info)"
pt_done
