#!/bin/bash
# The user's state directory (/tmp/pv-forward-UID on login) cannot be written: read-only (mode
# 0500) and full (a 64 KiB tmpfs mounted over it and filled). The chosen behaviour: forwarding
# works without the state file. srun --pv-forward starts its forwarder as always, the job's
# connection is relayed byte-exact, srun exits 0; nothing is written to the directory;
# `pv-forwarder --list` runs (exit 0) without a row for it. The forwarder reports the failure
# to syslog (its stderr is /dev/null once detached); srun says nothing about it (printed).
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
. "$(dirname "$0")/../lib/faultlib.sh"
FL_WAIT=tb_wait
MIB=$((1024 * 1024))
tb_up
lt_init
# shellcheck disable=SC2016
tb_on_down 'mountpoint -q "$LT_STATE" && umount "$LT_STATE"; [ -d "$LT_STATE" ] && chmod 0700 "$LT_STATE"'

fp=$PT_DIR/faultpeer.py
install -o "$TB_USER" -m 0644 "$FL_PEER" "$fp"
port=$(lt_port)
desk=$TB_LOGS/desktop-$port.log
tb_bg desktop "$desk" python3 "$fp" serve --port "$port" --conns 2 --recv 0 --timeout 200 >/dev/null
tb_wait_port desktop "$port" 20 || tb_fail "faultpeer does not listen on desktop:$port"
install -d -o "$TB_USER" -m 0700 "$LT_STATE"

run_case() {
    local name=$1 n=$2 end dend list
    pt_bg login "$name" 120 srun --pv-forward="desktop:$port" -N1 -w compute1 \
        sh -c 'exec python3 "$0" connect --host "$PV_FORWARD_HOST" --port "$PV_FORWARD_PORT" --send "$1" --timeout 60' "$fp" $((8 * MIB))
    pt_bg_wait "$name" 120 || pt_bad "$name: srun did not end"
    pt_check_eq 0 "${PT_RC:-none}" "$name: srun's exit status"
    end=$(grep '^end ' "$PT_DIR/$name.out" || true)
    pt_check_eq "done 8388608" "$(fl_field " $end" how) $(fl_field " $end" bytes)" "$name: the task's connection"
    dend=$(fl_wait_end "$desk" 20 "$n") || dend=
    pt_check_match "^end n=$n how=eof bytes=8388608 ok=1" "$dend" "$name: desktop received byte-exact"
    echo "    what srun said (stderr):"
    pt_err "$name" | sed 's/^/    | /'
    list=$(tb_user "$TB_FORWARDER" --list 2>&1) && pt_good "$name: --list exit 0" || pt_bad "$name: --list failed: $list"
    echo "$list" | sed 's/^/    --list: /'
    pt_check_no_match 'desktop:'"$port" "$list" "$name: --list has no row for a forwarder without a state file"
}

tb_step "read-only: $LT_STATE with mode 0500"
n0=$(find "$LT_STATE" -mindepth 1 | wc -l)
chmod 0500 "$LT_STATE"
run_case ro 1
pt_check_eq "$n0" "$(find "$LT_STATE" -mindepth 1 | wc -l)" "ro: entries in the directory (unchanged)"
chmod 0700 "$LT_STATE"

tb_step "full: a 64 KiB tmpfs over $LT_STATE, filled"
mount -t tmpfs -o "size=64k,mode=0700,uid=$LT_UID" pvf-fault-full "$LT_STATE"
dd if=/dev/zero of="$LT_STATE/fill" bs=4k 2>/dev/null || true
chown "$TB_USER" "$LT_STATE/fill"
pt_check_eq 0 "$(df -k --output=avail "$LT_STATE" | tail -n1 | tr -d ' ')" "full: KiB available"
run_case full 2
echo "    in the full directory: $(ls -s "$LT_STATE" | tr '\n' ' ')"
pt_check_eq "" "$(find "$LT_STATE" -name '*.state' -size +0)" "full: no state file written"
umount "$LT_STATE"
pt_check_eq "" "$(pt_forwarders)" "forwarders of $TB_USER left"
pt_done
