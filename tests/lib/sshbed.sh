# shellcheck shell=bash
# tests/lib/sshbed.sh - a desktop behind NAT that reaches the login node only through the
# user's own ssh session (source after testbed.sh and plugintest.sh; call sb_up after tb_up).
#
#   sb_up          a real sshd (Debian's openssh-server) in login on port $SB_PORT with its own
#                  configuration, host key and authorized key for the test user, all in
#                  $TB_DIR/ssh; the NAT: an nftables rule in login's network namespace drops
#                  every new connection from login to desktop (desktop still reaches login);
#                  a second ordinary user $SB_OTHER (another user of the login node)
#   sb_ssh_start NAME SOCKET PORT
#                  on desktop as the test user: ssh -N -o ExitOnForwardFailure=yes
#                  -R SOCKET:localhost:PORT login (what the README tells users to type); waits
#                  until sshd listens on SOCKET; sets SB_SSH_PID
#   sb_ssh_run CMD...                   ssh login CMD from desktop as the test user (e.g. the
#                                       README's `rm -f SOCKET`: a stock sshd leaves the socket
#                                       file behind when the session ends and will not bind
#                                       over it: StreamLocalBindUnlink is a server setting)
#   sb_ssh_stop PID                     TERM, then wait until it is gone
#   sb_other_listen NAME SOCKET         a Unix socket listener run by $SB_OTHER (counts what
#                                       connects and what it receives into $PT_DIR/NAME.out)
#   sb_fwd_log                          the per-job log of the test user's live forwarder(s)
# Everything lives in the bed's temp dir or its namespaces and goes with tb_down; the test user's
# password field (locked by useradd: sshd refuses locked accounts without PAM) is set to '*'
# (no password at all) while the bed is up and restored at teardown.

SB_PORT=2222
SB_OTHER=${SB_OTHER:-pvother}
SB_DIR=
SB_SSH_PID=
SB_SSH_OPTS=()

sb__sshd_up() { tb__port_listening login "$SB_PORT"; }

sb_up() {
    local shadow
    [ -x /usr/sbin/sshd ] || tb_fail "sshd missing: install the Debian package openssh-server (scripts/install-deps)"
    command -v nft >/dev/null || tb_fail "nft missing: install the Debian package nftables (scripts/install-deps)"
    id -u "$SB_OTHER" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$SB_OTHER" ||
        tb_fail "useradd $SB_OTHER failed"

    shadow=$(getent shadow "$TB_USER" | cut -d: -f2)
    if [ "${shadow#!}" != "$shadow" ]; then
        usermod -p '*' "$TB_USER" || tb_fail "cannot unlock $TB_USER for sshd"
        printf '%s:%s\n' "$TB_USER" "$shadow" >"$TB_DIR/ssh-shadow.saved"
        tb_on_down "chpasswd -e <'$TB_DIR/ssh-shadow.saved'"
    fi

    SB_DIR=$TB_DIR/ssh
    install -d -m 0755 "$SB_DIR" "$SB_DIR/keys" || tb_fail "cannot create $SB_DIR"
    ssh-keygen -q -t ed25519 -N '' -C pvtb-host -f "$SB_DIR/host_key" || tb_fail "ssh-keygen (host)"
    ssh-keygen -q -t ed25519 -N '' -C pvtb-user -f "$SB_DIR/id" || tb_fail "ssh-keygen (user)"
    chown "$TB_USER:" "$SB_DIR/id" "$SB_DIR/id.pub"
    install -m 0644 "$SB_DIR/id.pub" "$SB_DIR/keys/$TB_USER"
    printf '[login]:%s %s\n' "$SB_PORT" "$(cut -d' ' -f1,2 "$SB_DIR/host_key.pub")" >"$SB_DIR/known_hosts"
    chmod 0644 "$SB_DIR/known_hosts"
    # Stock settings otherwise: AllowStreamLocalForwarding yes, StreamLocalBindMask 0177.
    cat >"$SB_DIR/sshd_config" <<EOF
# pv-forward test bed (tests/lib/sshbed.sh); throwaway
Port $SB_PORT
ListenAddress 0.0.0.0
HostKey $SB_DIR/host_key
PidFile $SB_DIR/sshd.pid
AuthorizedKeysFile $SB_DIR/keys/%u
AllowUsers $TB_USER
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The key file lives under /tmp (the bed's temp dir), and StrictModes refuses any world-writable
# directory above it, sticky or not.
StrictModes no
LogLevel VERBOSE
# What a site's login node has in /etc: the cluster's configuration (and, as tb_run_user sets
# it, the temp dir of the bed) for commands run through ssh; and TB_SANITIZER_ENV, which
# tb_run_user gives every command of the test user: an srun run through ssh loads the plugin
# as well, an ASan-built one only with the sanitizer runtime preloaded (tests/check-asan).
SetEnv SLURM_CONF=$SLURM_CONF TMPDIR=$TB_DIR/tmp/user ${TB_SANITIZER_ENV:-}
EOF
    # sshd's privilege separation directory (Debian's service creates it at start).
    if [ ! -d /run/sshd ]; then
        install -d -m 0755 /run/sshd && tb_on_down 'rmdir /run/sshd 2>/dev/null'
    fi
    /usr/sbin/sshd -t -f "$SB_DIR/sshd_config" || tb_fail "sshd -t: the test bed's sshd_config is refused"
    tb_bg login "$TB_LOGS/sshd.log" /usr/sbin/sshd -D -e -f "$SB_DIR/sshd_config" >/dev/null
    tb_wait 10 "sshd listening on login:$SB_PORT" sb__sshd_up || {
        tail -n 20 "$TB_LOGS/sshd.log" >&2; tb_fail "sshd did not start"; }

    # The NAT: login may not open connections to desktop; answers to desktop's own are fine.
    nsenter --net="$(tb_ns_path login)" nft -f - <<EOF || tb_fail "cannot add the NAT rule in login"
table inet pvtb_nat {
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr $TB_ADDR_desktop ct state new counter drop
    }
}
EOF
    SB_SSH_OPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes
        -o UserKnownHostsFile="$SB_DIR/known_hosts" -i "$SB_DIR/id" -p "$SB_PORT")
    echo "sshbed: sshd on login:$SB_PORT (pid $(cat "$SB_DIR/sshd.pid" 2>/dev/null)), login -> desktop dropped (nftables)"
}

sb__sock_listening() {   # PATH: a Unix socket listening at PATH (sshd's, in login's namespace)
    [ -S "$1" ] && grep -qF -- " $1 " <<<"$(nsenter --net="$(tb_ns_path login)" ss -Hxl 2>/dev/null)"
}

# sb_ssh_start NAME SOCKET PORT   ssh -R from desktop; waits for sshd's socket; sets SB_SSH_PID
sb_ssh_start() {
    local name=$1 sock=$2 port=$3
    SB_SSH_PID=$(tb_bg desktop --user "$TB_LOGS/ssh-$name.log" ssh -N "${SB_SSH_OPTS[@]}" \
        -o ExitOnForwardFailure=yes -R "$sock:localhost:$port" login) ||
        tb_fail "cannot start ssh $name"
    tb_wait 15 "sshd listening on $sock (ssh $name)" sb__sock_listening "$sock" || {
        tail -n 20 "$TB_LOGS/ssh-$name.log" "$TB_LOGS/sshd.log" >&2
        tb_fail "ssh -R $sock did not come up"; }
}

# sb_ssh_run CMD...   ssh login CMD, from desktop, as the test user
sb_ssh_run() {
    tb_run_user desktop ssh "${SB_SSH_OPTS[@]}" login "$@"
}

# sb_ssh_stop PID   the desktop's ssh ends (TERM)
sb_ssh_stop() {
    kill -TERM "$1" 2>/dev/null || true
    tb_wait_gone "$1" 10 || tb_fail "ssh (pid $1) did not end"
}

# sb_other_listen NAME SOCKET   $SB_OTHER listens on SOCKET (mode 0600 from its umask) and
#   writes "accepted" / "received N" lines to $PT_DIR/NAME.out
sb_other_listen() {
    local name=$1 sock=$2
    : >"$PT_DIR/$name.out"
    chmod 0666 "$PT_DIR/$name.out"
    TB_USER=$SB_OTHER tb_bg login --user "$TB_LOGS/other-$name.log" python3 -c '
import os, socket, sys
os.umask(0o177)
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
out = open(sys.argv[2], "a", buffering=1)
print("listening", file=out)
while True:
    c, _ = s.accept(); print("accepted", file=out)
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    print("received", n, file=out); c.close()
' "$sock" "$PT_DIR/$name.out" >/dev/null
    tb_wait_file "$PT_DIR/$name.out" '^listening' 10 || tb_fail "$SB_OTHER's listener on $sock did not start"
}

# sb_fwd_log   the per-job logs of the test user's live forwarders (forwarder/state.c)
sb_fwd_log() {
    local p
    for p in $(pt_forwarders); do
        cat "/tmp/pv-forward-$(id -u "$TB_USER")/$p.log" 2>/dev/null
    done
}
