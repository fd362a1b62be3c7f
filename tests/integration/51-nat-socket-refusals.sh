#!/bin/bash
# A socket destination is used only while the test user alone controls it. Another user of the
# login node ($SB_OTHER) tries to get the user's pvserver connected to a socket of theirs:
#   before submission (the path exists): refused with one message naming the path and the
#   reason, srun exits non-zero, no forwarder is started, no job submitted -
#     a. a socket that belongs to $SB_OTHER (in the sticky shared temp dir)
#     b. the user's own socket in a directory writable by its group
#     c. a symbolic link (the user's) to $SB_OTHER's socket
#     d. a path that is not a socket, a relative path, one longer than sun_path, '..'
#   at connect time (the path did not exist at submission): the forwarder refuses, logs one
#   line, closes pvserver's connection; $SB_OTHER's listener gets nothing -
#     e. $SB_OTHER's socket appears at the path after srun started
#     f. the path checks pass (the socket file is chowned to the user, as a race would leave
#        it) but the process listening is $SB_OTHER's: SO_PEERCRED refuses, 0 bytes sent
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/sshbed.sh"
TB_PLUGSTACK_ARGS="hold=10"
tb_up
pt_init
sb_up

SHARED=$TB_DIR/tmp/user          # root's, mode 1777: a /tmp for both users
install -o "$TB_USER" -m 0644 "$TB_ROOT/tests/lib/nattest.py" "$TB_ROOT/tests/lib/fwdtest.py" "$TB_USER_DIR/"
other_uid=$(id -u "$SB_OTHER")

# refused_before VALUE ERE WHAT   srun --pv-forward=VALUE true must fail with the one message
refused_before() {
    local value=$1 re=$2 what=$3 out rc=0 jobs jobs0
    jobs0=$(tb_run login squeue -h -u "$TB_USER" -t all -o %i 2>/dev/null | grep -c . || true)
    out=$(tb_user srun -w compute1 --pv-forward="$value" true 2>&1) || rc=$?
    echo "    \$ srun --pv-forward=$value true   (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    | /'
    [ "$rc" != 0 ] && pt_good "$what: srun failed (exit $rc)" || pt_bad "$what: srun succeeded"
    pt_check_match "^srun: error: pv-forward: $re in '" "$out" "$what: the message"
    pt_check_eq 1 "$(printf '%s\n' "$out" | grep -c 'pv-forward:' || true)" "$what: one pv-forward line"
    pt_check_eq 0 "$(pt_nforwarders)" "$what: no forwarder started"
    jobs=$(tb_run login squeue -h -u "$TB_USER" -t all -o %i 2>/dev/null | grep -c . || true)
    pt_check_eq "$jobs0" "$jobs" "$what: no job submitted"
}

tb_step "a. another user's socket"
sb_other_listen oa "$SHARED/other.sock"
refused_before "$SHARED/other.sock" "socket '$SHARED/other.sock' belongs to another user \(uid $other_uid\)" \
    "another user's socket"

tb_step "b. a group-writable directory"
gw=$TB_USER_DIR/gw
install -d -o "$TB_USER" -m 0775 "$gw"
tb_user python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$gw/pv.sock"
refused_before "$gw/pv.sock" "directory '$gw' is writable by its group \(mode 0775\): another user could put a socket of theirs there" \
    "group-writable directory"
chmod 0757 "$gw"
refused_before "$gw/pv.sock" "directory '$gw' is writable by others \(mode 0757\): another user could put a socket of theirs there" \
    "other-writable directory"
chmod 1777 "$gw"     # sticky: the user's own socket in it is fine
out=$(tb_user srun -w compute1 --pv-forward="$gw/pv.sock" true 2>&1) &&
    pt_good "the user's own socket in a sticky directory is accepted" ||
    pt_bad "the user's own socket in a sticky directory refused: $out"

tb_step "c. a symbolic link to another user's socket"
tb_user ln -s "$SHARED/other.sock" "$TB_USER_DIR/link.sock"
refused_before "$TB_USER_DIR/link.sock" "'$TB_USER_DIR/link.sock' is a symbolic link; name the socket itself" \
    "symbolic link"

tb_step "d. not a socket, relative, too long, '..'"
tb_user touch "$TB_USER_DIR/file.sock"
refused_before "$TB_USER_DIR/file.sock" "'$TB_USER_DIR/file.sock' is not a socket \(a regular file\)" "regular file"
refused_before "$TB_USER_DIR/" "the path ends with '/' \(a directory, not a socket\)" "a directory"
long=/tmp/$(printf 'x%.0s' $(seq 1 110)).sock
refused_before "$long" "the path has ${#long} bytes; a Unix socket's path has at most 107" "longer than sun_path"
refused_before "/tmp/../tmp/x.sock" "'\.' or '\.\.' in the path \(write the path plainly\)" "'..'"
refused_before "~other/x.sock" "'~USER' is not supported: write ~/PATH or /PATH" "~USER"

# ---------------------------------------------------------------- at connect time
# pvserver stands in as a plain client on the job's node: it connects to the forwarder and sends
# at once, like pvserver's handshake.
tb_step "e. another user's socket appears after submission"
late=$SHARED/late.sock
pt_bg login e 60 srun -w compute1 --pv-forward="$late" sh -c \
    'exec python3 "$0" ping --host "$PV_FORWARD_HOST" --port "$PV_FORWARD_PORT"' "$TB_USER_DIR/nattest.py"
sb__held() { grep -q "$1 not reachable" <<<"$(sb_fwd_log)"; }
tb_wait 30 "the forwarder holding the connection" sb__held "$late" || { pt_show e; tb_fail "no hold"; }
t0=$(pt_ms)
sb_other_listen oe "$late"
pt_bg_wait e 30 || { pt_bad "e: srun still running 30 s later"; pt_bg_stop e; }
pt_measure "e: connection closed $(( $(pt_ms) - t0 )) ms after $SB_OTHER's socket appeared"
pt_check_match "^ping: (no answer|ConnectionResetError)" "$(pt_out e)" "e: the job's connection was closed unanswered"
pt_check_match "closed: .* -> $late, 0 B to destination, 0 B to client, .*: refused: socket '$late' belongs to another user \(uid $other_uid\)" \
    "$(cat "/tmp/pv-forward-$(id -u "$TB_USER")"/*.log)" "e: the forwarder's one line"
pt_check_no_match '^accepted' "$(cat "$PT_DIR/oe.out")" "e: $SB_OTHER's listener saw no connection"

tb_step "f. the path passes, the listener is another user's (SO_PEERCRED)"
race=$SHARED/race.sock
pt_bg login f 60 srun -w compute1 --pv-forward="$race" sh -c \
    'exec python3 "$0" ping --host "$PV_FORWARD_HOST" --port "$PV_FORWARD_PORT"' "$TB_USER_DIR/nattest.py"
tb_wait 30 "the forwarder holding the connection" sb__held "$race" || { pt_show f; tb_fail "no hold"; }
sb_other_listen of "$race.tmp"
chown "$TB_USER" "$race.tmp"          # what a swapped entry would look like at check time
mv "$race.tmp" "$race"
pt_bg_wait f 30 || { pt_bad "f: srun still running 30 s later"; pt_bg_stop f; }
pt_check_match "^ping: (no answer|ConnectionResetError)" "$(pt_out f)" "f: the job's connection was closed unanswered"
pt_check_match "closed: .* -> $race, 0 B to destination, 0 B to client, .*: refused: the process listening on '$race' runs as another user \(uid $other_uid\)" \
    "$(cat "/tmp/pv-forward-$(id -u "$TB_USER")"/*.log)" "f: the forwarder's one line"
tb_wait_file "$PT_DIR/of.out" '^received' 10 || true
pt_check_match '^received 0$' "$(cat "$PT_DIR/of.out")" "f: $SB_OTHER's listener received 0 bytes"

pt_done
