#!/bin/bash
# The network the plugin is about: compute nodes reach login, login reaches desktop, but a
# compute node cannot open a TCP connection to the desktop (nor the desktop to a compute node).
# Every "fails" is checked against a real listener that another node does reach.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
tb_up

tb_assert_eq 0 "$(tb_run login cat /proc/sys/net/ipv4/ip_forward)" "ip_forward on login"

tb_listen desktop 5000 hello-from-desktop >/dev/null
tb_listen login 5001 hello-from-login >/dev/null
tb_listen compute1 5002 hello-from-compute1 >/dev/null

tb_step "login -> desktop"
tb_assert_eq hello-from-desktop "$(tb_tcp_probe login desktop 5000)" "login -> desktop:5000"
tb_assert_eq hello-from-desktop "$(tb_tcp_probe login --user desktop 5000)" "login (as $TB_USER) -> desktop:5000"

tb_step "compute -> login"
for c in compute1 compute2; do
    tb_assert_eq hello-from-login "$(tb_tcp_probe "$c" login 5001)" "$c -> login:5001"
done

tb_step "compute -> desktop must fail"
for c in compute1 compute2; do
    for dst in desktop "$TB_ADDR_desktop"; do
        if out=$(tb_tcp_probe "$c" "$dst" 5000 3); then
            tb_fail "$c reached $dst:5000 (got '$out')"
        fi
    done
done

tb_step "the same from inside a job (tasks run in the compute nodes' network)"
out=$(tb_user srun -w compute1 -N1 bash -c 'exec 3<>/dev/tcp/login/5001 && head -n1 <&3')
tb_assert_eq hello-from-login "$out" "srun task on compute1 -> login:5001"
if out=$(tb_user srun -w compute1 -N1 timeout 3 bash -c 'exec 3<>/dev/tcp/desktop/5000 && head -n1 <&3' 2>&1); then
    tb_fail "srun task on compute1 reached desktop:5000 (got '$out')"
fi
echo "compute1 -> desktop from a task: $out"

tb_step "desktop -> compute must fail, login -> compute works"
tb_assert_eq hello-from-compute1 "$(tb_tcp_probe login compute1 5002)" "login -> compute1:5002"
if out=$(tb_tcp_probe desktop compute1 5002 3); then
    tb_fail "desktop reached compute1:5002 (got '$out')"
fi
echo ok
