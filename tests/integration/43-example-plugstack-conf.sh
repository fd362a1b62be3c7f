#!/bin/bash
# etc/plugstack.conf.d/pv-forward.conf, the file `make install` puts into
# /etc/slurm/plugstack.conf.d/ (with @PLUGINDIR@ replaced), read by Slurm itself:
#  1. installed the way `make install` does it (sed @PLUGINDIR@ -> the plugin's directory) into
#     the bed's plugstack.conf.d/ and included from plugstack.conf the way Debian's
#     /etc/slurm/plugstack.conf does (`include .../plugstack.conf.d/*.conf`): the file has
#     exactly one active line, `optional PLUGINDIR/pv_forward.so`; with it plain jobs run and
#     `srun --pv-forward` works. In the bed the programs are not where `make install` puts
#     them, so that line gets forwarder=, exec= and advertise=login appended - nothing else.
#  1b. what the file says of a node without the plugin (PLUGINDIR names a directory without
#     it): with the shipped `optional` line plain jobs run and --pv-forward is an unknown
#     option; with the commented `required` form every srun fails.
#  2. every line of the file's "Examples:" works as written (uncommented; advertise= names the
#     bed's login node instead of the site's login1-ib): the plugin accepts its arguments and
#     they take effect - ports=40000-40999 gives a port in that range, allow= lets desktop
#     through and refuses a destination outside the list, hold=/fin_timeout=/max_conns= reach the forwarder.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

src=$TB_ROOT/etc/plugstack.conf.d/pv-forward.conf
confd=$TB_DIR/etc/plugstack.conf.d
conf=$confd/pv-forward.conf
bedargs="forwarder=$TB_FORWARDER exec=$TB_EXEC_HELPER advertise=login"
mkdir -p "$confd"

tb_step "installed as make install does, included from plugstack.conf"
# the Makefile's install rule
install_conf() { sed -e "s|@PLUGINDIR@|$1|g" -e "s|@FORWARDER@|$TB_FORWARDER|g" \
    -e "s|@EXEC_HELPER@|$TB_EXEC_HELPER|g" "$src" >"$conf"; }
install_conf "$TB_BIN"
active=$(grep -Ev '^[[:space:]]*(#|$)' "$conf" || true)
pt_check_eq "optional $TB_BIN/pv_forward.so" "$active" "the file's only active line"
pt_check_match "^# required $TB_BIN/pv_forward.so\$" "$(cat "$conf")" "the required form, commented out"
sed -i "s|^optional $TB_BIN/pv_forward.so\$|& $bedargs|" "$conf"
chmod 0644 "$conf"
echo "include $confd/*.conf" >"$TB_PLUGSTACK"
echo "plugstack.conf: $(cat "$TB_PLUGSTACK")"
echo "active line: $(grep -Ev '^[[:space:]]*(#|$)' "$conf")"
out=$(tb_user srun -N2 --mpi=none hostname 2>&1) || tb_fail "srun -N2 hostname failed with the file: $out"
pt_check_eq "compute1
compute2" "$(sort <<<"$out")" "plain srun -N2 hostname"
port=$(pt_port)
tb_listen desktop "$port" hello-through-conf >/dev/null
out=$(tb_user srun --pv-forward="desktop:$port" bash -c \
    'exec 3<>"/dev/tcp/$PV_FORWARD_HOST/$PV_FORWARD_PORT" && head -n1 <&3' 2>&1) ||
    pt_bad "srun --pv-forward failed with the file: $out"
echo "$out" | sed 's/^/    | /'
pt_check_match "$(pt_plugin_line_re "desktop:$port")" "$out" "the plugin's line"
pt_check_match '^hello-through-conf$' "$out" "a task reached desktop through the forwarder"
pt_wait_no_forwarder 10 || pt_bad "forwarder left after srun: $(pt_forwarder_info)"

tb_step "a node without the plugin: optional as shipped, then the required form"
install_conf "$TB_DIR/no-plugin-here"
out=$(tb_user srun -N2 --mpi=none hostname 2>"$PT_DIR/missing.err") ||
    pt_bad "optional, plugin missing: srun -N2 hostname failed: $out $(cat "$PT_DIR/missing.err")"
pt_check_eq "compute1
compute2" "$(sort <<<"$out")" "optional, plugin missing: plain srun -N2 hostname"
# srun up to 24.11 says so on stderr (the dlopen failure and "Dlopen of plugin file failed":
# the man page and README quote the latter) and goes on; 26.05 goes on without a word. Nothing
# else may be on stderr.
sed 's/^/    | /' "$PT_DIR/missing.err"
pt_check_eq "" "$(grep -vF "$TB_DIR/no-plugin-here/pv_forward.so" "$PT_DIR/missing.err")" \
    "optional, plugin missing: srun's stderr besides the lines about the missing plugin"
out=$(tb_user srun --pv-forward=desktop:11111 true 2>&1) && pt_bad "optional, plugin missing: --pv-forward accepted"
pt_check_match "unrecognized option '--pv-forward" "$out" "optional, plugin missing: --pv-forward is an unknown option"
sed -i 's|^optional \(.*\)$|# &|; s|^# required |required |' "$conf"
pt_check_eq "required $TB_DIR/no-plugin-here/pv_forward.so" "$(grep -Ev '^[[:space:]]*(#|$)' "$conf")" \
    "the required form uncommented, the only active line"
out=$(tb_user srun --mpi=none true 2>&1) && pt_bad "required, plugin missing: srun true succeeded"
echo "$out" | sed 's/^/    | /'
pt_check_match 'spank' "$out" "required, plugin missing: srun names the plugin stack"

# example LINE   one uncommented "Examples:" line as the whole plugstack.conf
example() {
    local line=$1 name port lport info out
    line=${line//@PLUGINDIR@/$TB_BIN}
    line=$(sed -E 's/ advertise=[^ ]+/ advertise=login/' <<<"$line")
    # the bed's programs; the example's own arguments come after (later keys win)
    line=$(sed -E "s|(pv_forward\\.so)|\\1 forwarder=$TB_FORWARDER exec=$TB_EXEC_HELPER advertise=login|" <<<"$line")
    name=ex$((++nex))
    tb_step "example $nex: $line"
    echo "$line" >"$TB_PLUGSTACK"
    port=$(pt_port)
    pt_bg login "$name" 60 srun --pv-forward="desktop:$port" sleep 3
    if pt_wait_plugin_line "$name" "desktop:$port" 20; then
        lport=$PT_LPORT
        info=$(pt_forwarder_info)
        echo "    forwarder: $info"
        case $line in *ports=40000-40999*)
            if [ "$lport" -ge 40000 ] && [ "$lport" -le 40999 ]; then pt_good "$name: port $lport in 40000-40999"
            else pt_bad "$name: port $lport not in ports=40000-40999"; fi ;;
        esac
        case $line in *hold=120*) pt_check_match '--hold 120( |$)' "$info" "$name: hold=120 reaches the forwarder" ;; esac
        case $line in *fin_timeout=300*) pt_check_match '--fin-timeout 300( |$)' "$info" "$name: fin_timeout=300 reaches the forwarder" ;; esac
        case $line in *max_conns=4*) pt_check_match '--max-conns 4( |$)' "$info" "$name: max_conns=4 reaches the forwarder" ;; esac
    else
        pt_bad "$name: no plugin line: $(pt_err "$name")"
    fi
    pt_bg_wait "$name" 30 || pt_bg_stop "$name"
    pt_check_eq 0 "${PT_RC:-none}" "$name: srun exit status"
    pt_check_no_match 'plugstack' "$(pt_err "$name")" "$name: no complaint about the arguments"
    case $line in *allow=*)
        out=$(tb_user srun --pv-forward=127.0.0.1:5000 true 2>&1) && pt_bad "$name: 127.0.0.1 accepted despite allow="
        pt_check_match "pv-forward: this site does not allow forwarding to '127\.0\.0\.1'" "$out" "$name: allow= refuses 127.0.0.1" ;;
    esac
    pt_wait_no_forwarder 10 || pt_bad "$name: forwarder left after srun: $(pt_forwarder_info)"
}
nex=0
mapfile -t examples < <(sed -n -E 's/^#[[:space:]]+((required|optional) @PLUGINDIR@\/pv_forward\.so .*)$/\1/p' "$src")
[ "${#examples[@]}" -ge 1 ] || tb_fail "no example lines in $src"
for e in "${examples[@]}"; do example "$e"; done
pt_done
