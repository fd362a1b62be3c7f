#!/bin/bash
# The user's own client-host / server-port / reverse-connection arguments are replaced by the
# forwarder's address on the compute node:
#   srun --pv-forward=desktop:PORT pvserver --reverse-connection --client-host=elsewhere --server-port=1
#   srun --pv-forward=desktop:PORT pvserver -rc -ch=x -sp=1          (ParaView <= 5.9 syntax)
#   srun --pv-forward=desktop:PORT pvserver --client-host elsewhere --sp 1 -r   (5.10+ spaced forms)
# pvserver here is 5.11: `-ch=x` is a fatal error and `elsewhere`/port 1 lead nowhere, so a
# client that connects proves the rewrite; pvserver's own "Connection URL: csrc://login:LPORT"
# shows where it was pointed even when the connection itself fails.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

port=$(pt_port)
pt_session long "$port" srun --pv-forward="desktop:$port" pvserver --reverse-connection \
    --client-host=elsewhere --server-port=1
port=$(pt_port)
pt_session pv59 "$port" srun --pv-forward="desktop:$port" pvserver -rc -ch=x -sp=1
port=$(pt_port)
pt_session spaced "$port" srun --pv-forward="desktop:$port" pvserver --client-host elsewhere --sp 1 -r

tb_step "no warning from pvserver about arguments (nothing of -rc/-ch/-sp reached it)"
for n in long pv59 spaced; do
    pt_check_no_match 'elsewhere|-ch|-sp|-rc|[Uu]nknown|[Ii]nvalid|not understood' \
        "$(pt_out "$n"; pt_err "$n" | grep -v '^srun: pv-forward: ')" "$n: pvserver saw none of the user's variants"
done
pt_done
