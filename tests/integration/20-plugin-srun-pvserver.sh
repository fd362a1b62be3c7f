#!/bin/bash
# The used-by line, verbatim, from login as the test user:
#   srun --pv-forward=desktop:PORT pvserver --reverse-connection
# with examples/pv_client.py waiting on desktop:PORT. The client must connect through the
# job's forwarder, fetch a 32x32 sphere (962 points) and see a server pid other than its own;
# srun exits 0; the plugin prints `pv-forward: job N: compute nodes reach desktop:PORT through
# login:LPORT`; pvserver connected to login:LPORT; exactly one forwarder (as the user) while the
# job runs, none after srun has ended.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

port=$(pt_port)
pt_session srun "$port" srun --pv-forward="desktop:$port" pvserver --reverse-connection
pt_done
