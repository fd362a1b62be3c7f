#!/bin/bash
# Bad --pv-forward values never reach the cluster. Each malformed value of the table below,
# given to srun (and a selection to sbatch and salloc) as the test user on login:
#   - exits non-zero and prints nothing on stdout (no task ran, nothing was submitted);
#   - prints exactly one line `pv-forward: <what> in '<VALUE>' (expected HOST[:PORT])` on stderr
#     (after Slurm's "srun: error: " prefix), <what> saying what is wrong, <VALUE> the value as
#     typed (non-printable bytes as \xNN, ' and \ escaped); Slurm's own "Invalid --pv-forward
#     argument" line is the only other line allowed;
#   - starts no pv-forwarder;
# and afterwards no job of the user exists and no job id was used up (a plain sbatch before and
# after the table gets consecutive ids).
# Then a bare --pv-forward (and =:PORT, and =) without SSH_CONNECTION/SSH_CLIENT is refused the
# same way; a malformed SSH_CONNECTION too; with SSH_CONNECTION (or SSH_CLIENT) naming the
# desktop it works and the forwarder is started towards that address.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

long300=$(printf 'a%.0s' $(seq 1 300))                       # one 300-character label
long300d=$(printf 'abcdefghi.%.0s' $(seq 1 30))              # 300 characters in 30 labels
label64=$(printf 'x%.0s' $(seq 1 64)).example.org

# VALUE and an ERE <what> must match. Values are passed as one argv element (no shell).
values=() whats=()
bad() { values+=("$1"); whats+=("$2"); }
bad ':'                          "neither host nor port"
bad 'desktop:'                   "missing port"
bad ':0'                         "port 0 is out of range"
bad 'desktop:0'                  "port 0 is out of range"
bad 'desktop:65536'              "port 65536 is out of range"
bad 'desktop:99999999999999999999' "out of range"
bad 'desktop:-1'                 "port '-1' is not a number"
bad 'desktop:11111x'             "not a number"
bad 'desktop:0x2b67'             "not a number"
bad 'desktop:+1'                 "character '\+'"
bad 'desk top:11111'             "white space"
bad ' desktop:11111'             "white space"
bad 'desktop:11111 '             "white space"
bad $'desk\ttop'                 "white space"
bad '$(id)'                      "character '\\$'"
bad 'desktop;id'                 "character ';'"
bad '`id`'                       "character '\`'"
bad 'desktop|id'                 "character '\|'"
bad 'desktop&&id'                "character '&'"
bad 'desktop>/tmp/x'             "character '>'"
bad "'desktop'"                  "character \"'\" is not allowed"
bad '[::]:11111'                "unspecified \(any\) address"
bad 'user@desktop'               "character '@'"
bad 'http://desktop:11111'       "character '/'|more than one"
bad 'désktop'                    "non-ASCII"
bad "$long300"                   "longer than 253"
bad "$long300d"                  "longer than 253"
bad "$label64"                   "longer than 63"
bad '[::1'                       "unbalanced '\\['"
bad '[::1:11111'                 "unbalanced '\\['"
bad 'desktop]:11111'             "unbalanced '\\]'"
bad '[desktop]:11111'            "not an IPv6 address"
bad '[]:11111'                   "empty IPv6"
bad '[::1]x'                     "unexpected text after"
bad 'desktop:11111:1'            "more than one ':'"
bad 'a:b:c'                      "more than one ':'"
bad '-desktop'                   "starts with '-'"
bad 'desktop-'                   "ends with '-'"
bad 'desk..top'                  "empty label"
bad 'desk_top'                   "invalid character '_'"
bad 'no-such-host.invalid'       "does not resolve"
bad 'no-such-host.invalid:11111' "does not resolve"
bad '256.1.1.1:11111'            "does not resolve"
echo "table: ${#values[@]} malformed values"
[ "${#values[@]}" -ge 25 ] || tb_fail "the table needs at least 25 values"

# pt_quote VALUE   the value as the plugin shows it between quotes
pt_quote() {
    local LC_ALL=C v=$1 out="" c i b
    for ((i = 0; i < ${#v}; i++)); do
        c=${v:i:1}
        printf -v b '%d' "'$c"
        [ "$b" -lt 0 ] && b=$((b + 256))
        if [ "$b" -lt 32 ] || [ "$b" -ge 127 ]; then out+=$(printf '\\x%02x' "$b")
        elif [ "$c" = "'" ] || [ "$c" = '\' ]; then out+="\\$c"
        else out+=$c; fi
    done
    printf '%s' "$out"
}

# any pv-forwarder process of the user at all, zombies included (none may ever be started here)
any_forwarder() { pgrep -u "$TB_USER" -x pv-forwarder 2>/dev/null | tr '\n' ' '; }

# check_refused PROG VALUE WHAT-ERE CMD...   run CMD as the test user on login; assert the above
NCHECKED=0
check_refused() {
    local prog=$1 value=$2 what=$3 shown qv rc out err lines line other t0 ms
    shift 3
    NCHECKED=$((NCHECKED + 1))
    shown=$(pt_quote "$value")
    t0=$(pt_ms)
    rc=0
    tb_user "$@" >"$PT_DIR/bad.out" 2>"$PT_DIR/bad.err" </dev/null || rc=$?
    ms=$(( $(pt_ms) - t0 ))
    out=$(cat "$PT_DIR/bad.out") err=$(cat "$PT_DIR/bad.err")
    printf '%-7s %4d ms  exit %-3s %s\n' "$prog" "$ms" "$rc" "$(echo "$err" | grep 'pv-forward:' | head -n1 | cut -c1-200)"
    [ "$rc" != 0 ] || pt_bad "$prog '$shown': exit status 0"
    [ -z "$out" ] || pt_bad "$prog '$shown': output on stdout: $out"
    lines=$(echo "$err" | grep -c 'pv-forward:' || true)
    if [ "$lines" != 1 ]; then
        pt_bad "$prog '$shown': $lines lines with 'pv-forward:' on stderr: $err"
    else
        line=$(echo "$err" | grep 'pv-forward:')
        line=${line#"$prog: error: "}
        if [[ $line =~ ^pv-forward:\ (.+)\ in\ \'(.*)\'\ \(expected\ HOST\[:PORT\]\)$ ]]; then
            qv=${BASH_REMATCH[2]}
            grep -Eq -- "$what" <<<"${BASH_REMATCH[1]}" ||
                pt_bad "$prog '$shown': message does not say /$what/: $line"
            if [ "$qv" != "$shown" ]; then
                # a long value may be cut short with "...", keeping at least 200 characters
                if [[ $qv == *... ]] && [ ${#qv} -ge 203 ] && [[ $shown == "${qv%...}"* ]]; then
                    echo "        (value shown cut to ${#qv} characters: ${qv:0:20}...${qv: -10})"
                else
                    pt_bad "$prog '$shown': value shown as '$qv'"
                fi
            fi
        else
            pt_bad "$prog '$shown': line not of the form pv-forward: <what> in '<VALUE>' (expected HOST[:PORT]): $line"
        fi
    fi
    other=$(echo "$err" | grep -v 'pv-forward:' | grep -Ev "^$prog: error: Invalid --pv-forward argument: " || true)
    [ -z "$other" ] || pt_bad "$prog '$shown': other lines on stderr: $other"
    [ -z "$(any_forwarder)" ] || pt_bad "$prog '$shown': a pv-forwarder was started: $(any_forwarder)"
}

tb_step "a job id before the table"
id_before=$(tb_user sbatch --parsable -o /dev/null --wrap=true)
echo "job id before: $id_before"
tb_wait_job "$id_before" 30 >/dev/null || tb_fail "job $id_before did not end"

tb_step "srun: every value"
t0=$(pt_ms)
for i in "${!values[@]}"; do
    check_refused srun "${values[i]}" "${whats[i]}" srun --pv-forward="${values[i]}" hostname
done
pt_measure "srun: ${#values[@]} values refused in $(( $(pt_ms) - t0 )) ms"

tb_step "sbatch and salloc: a selection"
for i in 0 4 6 10 14 16 20 24 27 33 39; do
    check_refused sbatch "${values[i]}" "${whats[i]}" sbatch --pv-forward="${values[i]}" -o /dev/null --wrap=hostname
done
for i in 1 5 7 12 15 17 23 28 34 40; do
    check_refused salloc "${values[i]}" "${whats[i]}" salloc --pv-forward="${values[i]}" hostname
done

tb_step "no job appeared, no job id was used"
pt_check_eq "" "$(tb_user squeue -h -u "$TB_USER")" "squeue -u $TB_USER"
id_after=$(tb_user sbatch --parsable -o /dev/null --wrap=true)
pt_check_eq "$((id_before + 1))" "$id_after" "the next job id after $NCHECKED refused submissions"
pt_check_eq 2 "$(tb_run login scontrol -o show jobs | grep -c '^JobId=' || true)" "jobs slurmctld knows"
tb_wait_job "$id_after" 30 >/dev/null || true
pt_check_eq "" "$(any_forwarder)" "pv-forwarder processes of $TB_USER after the table"

tb_step "no host and no SSH session: refused"
nossh="no HOST given and this session has neither SSH_CONNECTION nor SSH_CLIENT"
check_refused srun "" "$nossh" srun --pv-forward hostname
check_refused srun "" "$nossh" srun --pv-forward= hostname
check_refused srun ":12345" "$nossh" srun --pv-forward=:12345 hostname
check_refused sbatch "" "$nossh" sbatch --pv-forward -o /dev/null --wrap=hostname
check_refused salloc "" "$nossh" salloc --pv-forward hostname
check_refused srun "" "SSH_CONNECTION starts with 'junk', not an IP address" \
    env SSH_CONNECTION="junk 1 2 3" srun --pv-forward hostname
check_refused srun "" "SSH_CLIENT" env SSH_CLIENT="" SSH_CONNECTION="" srun --pv-forward hostname
pt_check_eq "" "$(tb_user squeue -h -u "$TB_USER")" "squeue -u $TB_USER after the refusals"

# ssh_case NAME EXPECTED-DEST ENV... -- SRUN-ARGS...   srun holds its task until the test has looked
#   at the forwarder; the plugin line and the forwarder's --to must name EXPECTED-DEST.
ssh_case() {
    local name=$1 dest=$2 flag envs=() info
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    flag=$PT_DIR/$name.go
    rm -f "$flag"
    tb_step "$name: ${envs[*]} srun $*"
    pt_bg login "$name" 60 env "${envs[@]}" srun "$@" \
        sh -c 'i=0; while [ ! -e "$0" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; echo task-ran' "$flag"
    if pt_wait_plugin_line "$name" "$dest" 20; then
        pt_good "$name: plugin line: ${PT_JOB:+job $PT_JOB: }compute nodes reach $dest through $PT_LHOST:$PT_LPORT"
        info=$(pt_forwarder_info)
        echo "    forwarder: $info"
        pt_check_match "--to $dest( |$)" "$info" "$name: the forwarder's destination is $dest"
    else
        pt_bad "$name: no plugin line naming $dest"
    fi
    touch "$flag"
    pt_bg_wait "$name" 40 || pt_bg_stop "$name"
    pt_show "$name"
    pt_check_eq 0 "${PT_RC:-none}" "$name: srun exit status"
    pt_check_eq task-ran "$(pt_out "$name")" "$name: the task ran"
    pt_wait_no_forwarder 10 || pt_bad "$name: forwarder left after srun ended: $(pt_forwarder_info)"
}
ssh_case ssh-connection "$TB_ADDR_desktop:11111" \
    SSH_CONNECTION="$TB_ADDR_desktop 50022 $TB_ADDR_login_desktop 22" -- --pv-forward
ssh_case ssh-connection-port "$TB_ADDR_desktop:23456" \
    SSH_CONNECTION="$TB_ADDR_desktop 50022 $TB_ADDR_login_desktop 22" -- --pv-forward=:23456
ssh_case ssh-client-mapped "$TB_ADDR_desktop:11111" \
    SSH_CLIENT="::ffff:$TB_ADDR_desktop 50022 22" -- --pv-forward
pt_done
