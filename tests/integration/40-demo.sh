#!/bin/bash
# `make demo` inside `make check`: runs tests/demo (which brings up its own test bed) and checks
# that it passed every step:
#   - exit status 0 and "demo: all 7 steps passed";
#   - each of the steps 0-7 ended "-> ok";
#   - the client printed 962 sphere points and OK three times (srun, sbatch, portfwd);
#   - compute1's direct connect to desktop failed with "Network is unreachable";
#   - the plugin's line for srun (with the job id) and for sbatch;
#   - pvserver connected to login:LPORT (the forwarder), not to desktop;
#   - no forwarder of the test user after srun and after the batch job (steps 5 and 6);
#   - the teardown left nothing behind (tests/run-integration checks that again).
# The demo's own step logs go to $TB_LOG_DIR/demo (kept only when the test fails).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
check() {   # ERE WHAT [COUNT]   the demo's output has a line matching ERE (COUNT times)
    local n
    n=$(grep -Ec -- "$1" <<<"$out" || true)
    if [ -n "${3:-}" ]; then
        [ "$n" = "$3" ] || { echo "FAIL: $2: $n lines match /$1/, expected $3"; bad=$((bad + 1)); return; }
    else
        [ "$n" -ge 1 ] || { echo "FAIL: $2: no line matches /$1/"; bad=$((bad + 1)); return; }
    fi
    echo "ok: $2"
}

logdir=${TB_LOG_DIR:-$root/build/test-logs/40-demo.d}/demo
mkdir -p "$logdir" || fail "cannot create $logdir"
t0=$(date +%s%N)
# No terminal: the demo prints no colour codes.
out=$(DEMO_LOG_DIR=$logdir "$root/tests/demo" 2>&1 </dev/null)
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "$out"
echo
echo "tests/demo: exit $rc after $ms ms"
[ "$rc" = 0 ] || fail "tests/demo exited $rc: $(grep '^demo: step' <<<"$out")"

bad=0
check '^demo: all 7 steps passed in ' "the demo's last line"
for s in 0 1 2 3 4 5 6 7; do
    # each step's header, then its "-> ok" before the next header
    if awk -v s="$s" '
        $0 ~ "^" s "\\. " { in_step = 1; next }
        in_step && /^   -> ok / { ok = 1; exit }
        in_step && /^[0-9]\. / { exit }
        END { exit !ok }' <<<"$out"; then
        echo "ok: step $s passed"
    else
        echo "FAIL: step $s has no '-> ok'"; bad=$((bad + 1))
    fi
done
check '^   \| pv_client: sphere points: 962$' "962 sphere points (srun, sbatch, portfwd)" 3
check '^   \| pv_client: OK$' "the client said OK three times" 3
check 'server pid: [0-9]+, client pid: [0-9]+$' "server and client pids shown" 3
check 'Network is unreachable' "compute1 cannot reach desktop"
check '^   \| srun: pv-forward: job [0-9]+: compute nodes reach desktop:11111 through login:[0-9]+$' "the plugin's line on srun"
check '^   \| sbatch: pv-forward: compute nodes reach desktop:11111 through login:[0-9]+$' "the plugin's line on sbatch"
check '^   \| Connection URL: csrc://login:[0-9]+$' "pvserver pointed at login (forwarder or portfwd)" 3
check '^   -> ok .*no forwarder [0-9]+ ms after srun' "no forwarder after srun"
check '^   -> ok .*no forwarder [0-9]+ ms after the job' "no forwarder after the batch job"
check 'pv-forwarder exited 0' "portfwd mode: exit 0 on SIGTERM"
check 'all gone$' "teardown: nothing left"
[ "$bad" = 0 ] || fail "$bad check(s) failed"
rm -rf "$logdir"
echo ok
