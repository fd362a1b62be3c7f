#!/bin/bash
# pv-forwarder in portfwd mode with the seed's configuration file, verbatim:
#   /* fwd.cfg forwards localhost:11111 to client_host:11111 */ tcp { 11111 { => client_host:11111 } }
# with client_host in /etc/hosts (127.0.0.9, our line first, removed by the trap).
#
# That file listens on port 11111 on every address ([::]:11111, dual stack), so on one
# machine nothing else can listen on client_host:11111 - in the real setup client_host is
# another machine.  The test therefore runs in a private network namespace (loopback only,
# gone when the test ends, the host's ports untouched) and stands in for the other machine
# with one nftables rule there: connections to 127.0.0.9:11111 go to 127.0.0.9:21111, where
# the destination listens.  Checked:
#  1. relayed byte-exact from 127.0.0.1:11111 and from [::1]:11111 (4 connections, 4 MiB each way);
#  2. client_host is resolved again for a new connection: after /etc/hosts points it at
#     127.0.0.10 (mapped to 127.0.0.10:21112), the next connection reaches that destination;
#  3. a file with a syntax error: exit 2, one message "FILE:3:32: ...", nothing listening;
#  4. unsupported portfwd syntax (udp): exit 2, one message with FILE:LINE:COL naming udp.
# Needs nft (Debian package nftables) and unshare/ip.
if [ "${PVFWD_IN_NETNS:-}" != 1 ]; then
	command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) missing" >&2; exit 1; }
	exec unshare --net env PVFWD_IN_NETNS=1 "$0" "$@"
fi
# shellcheck source=tests/lib/fwdlib.sh
. "$(dirname "$0")/../lib/fwdlib.sh"
command -v nft >/dev/null || fwd_fail "nft missing: install the Debian package nftables (scripts/install-deps)"
command -v ip >/dev/null || fwd_fail "ip missing: install iproute2"
ip link set lo up
fwd_init portfwd

nft -f - <<'NFT' || fwd_fail "cannot set up the nftables rule in the private namespace"
table ip pvfwdtest {
	chain out {
		type nat hook output priority -100; policy accept;
		ip daddr 127.0.0.9 tcp dport 11111 dnat to 127.0.0.9:21111
		ip daddr 127.0.0.10 tcp dport 11111 dnat to 127.0.0.10:21112
	}
}
NFT
fwd_on_exit 'nft delete table ip pvfwdtest 2>/dev/null'
fwd_say "private network namespace: lo only; 127.0.0.9:11111 -> :21111, 127.0.0.10:11111 -> :21112 (nftables)"

fwd_hosts_add 127.0.0.9 client_host
got=$(getent hosts client_host | awk 'NR == 1 { print $1 }')
[ "$got" = 127.0.0.9 ] || fwd_fail "client_host resolves to '$got', not 127.0.0.9"

cfg=$T/fwd.cfg
printf '%s\n' '/* fwd.cfg forwards localhost:11111 to client_host:11111 */ tcp { 11111 { => client_host:11111 } }' >"$cfg"
chmod 0644 "$cfg"

fwd_step "the seed's fwd.cfg verbatim"
fwd_say "fwd.cfg: $(cat "$cfg")"
"$FWD_PY" "$FWDTEST" wait-listen --port 11111 --absent || fwd_fail "port 11111 busy in a fresh namespace?"
fwd_start --config "$cfg" --foreground
fwd_wait 10 "pv-forwarder to listen on port 11111" \
	eval '"$FWD_PY" "$FWDTEST" wait-listen --port 11111 --timeout 0.1 >/dev/null || fwd__gone "$FWD_PID"'
fwd__alive "$FWD_PID" || fwd_fail "pv-forwarder exited: $(cat "$FWD_LOG")"
fwd_say "listening: $(grep -i listen "$FWD_LOG" | head -2 | tr '\n' ' ')"

for via in 127.0.0.1:11111 '[::1]:11111'; do
	fwd_step "relay through $via to client_host:11111"
	fwd_peer relay --dest 127.0.0.9:21111 --fwd "$via" --conns 4 --together \
		--up $((4 * 1048576)) --down $((4 * 1048576)) --io-timeout 30
	fwd_peer_wait 60
	grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "peer did not confirm its assertions"
done
fwd_log_wait 5 'client_host:11111|127\.0\.0\.9:11111' "connections to client_host:11111"

fwd_step "client_host now resolves to 127.0.0.10: a new connection goes there"
fwd_hosts_remove
fwd_hosts_add 127.0.0.10 client_host
got=$(getent hosts client_host | awk 'NR == 1 { print $1 }')
[ "$got" = 127.0.0.10 ] || fwd_fail "client_host resolves to '$got', not 127.0.0.10"
fwd_peer relay --dest 127.0.0.10:21112 --fwd 127.0.0.1:11111 --conns 1 --up 65536 --down 65536 --io-timeout 30
fwd_peer_wait 60
grep -q 'all assertions held' "$PEER_LOG" || fwd_fail "the new connection did not reach the re-resolved client_host"
kill -TERM "$FWD_PID"
fwd_exit_status "$FWD_PID" 5
[ "$FWD_RC" = 0 ] || fwd_fail "pv-forwarder exited $FWD_RC after SIGTERM"

fwd_step "a configuration file with a syntax error"
bad=$T/bad.cfg
cat >"$bad" <<'CFG'
/* bad.cfg: line 3 has a stray '@' at column 32 */
tcp {
  11111 { => client_host:11111 @ }
}
CFG
chmod 0644 "$bad"
fwd_run --config "$bad" --foreground
fwd_expect_one_error "syntax error" "bad.cfg:3:32"
[ "$FWD_RC" = 2 ] || fwd_fail "exit status $FWD_RC for a syntax error, expected 2"
"$FWD_PY" "$FWDTEST" wait-listen --port 11111 --absent || fwd_fail "something listens on 11111 after the failed start"
[ -z "$(fwd_procs)" ] || fwd_fail "pv-forwarder processes left: $(fwd_procs)"

fwd_step "unsupported portfwd syntax (udp) is refused, not ignored"
uns=$T/udp.cfg
printf '%s\n' 'tcp { 11111 { => client_host:11111 } }' 'udp { 11111 { => client_host:11111 } }' >"$uns"
chmod 0644 "$uns"
fwd_run --config "$uns" --foreground
fwd_expect_one_error "udp section" "udp.cfg:2:1" "udp"
[ "$FWD_RC" = 2 ] || fwd_fail "exit status $FWD_RC for unsupported syntax, expected 2"
"$FWD_PY" "$FWDTEST" wait-listen --port 11111 --absent || fwd_fail "something listens on 11111 after the failed start"
[ -z "$(fwd_procs)" ] || fwd_fail "pv-forwarder processes left: $(fwd_procs)"
fwd_pass "seed's fwd.cfg relays byte-exact (IPv4 and IPv6 clients, names re-resolved); bad files: exit 2, FILE:LINE:COL"
